import { createHmac, hkdfSync } from "node:crypto";
import type { DBAdapter, DBTransactionAdapter, Where } from "@better-auth/core/db/adapter";
import { symmetricDecrypt } from "better-auth/crypto";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";

/** Marks a stored value as a hash made here (and its scheme), so a row is never hashed twice. */
const PREFIX = "h1:";

/**
 * P20 for the secrets better-auth would otherwise keep readable: session tokens (it stores them as
 * they are in the cookie) and two-factor recovery codes (it encrypts them with the server secret,
 * which is a way back to the codes). Both are kept here as an HMAC-SHA-256 keyed by a key derived
 * from AUTH_SECRET: a copy of the database alone yields nothing that signs anyone in, nor anything
 * to guess a recovery code against offline.
 */
export class SecretHasher {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync("sha256", secret, "", "pixhaven stored secrets v1", 32));
  }

  hash(value: string): string {
    return PREFIX + createHmac("sha256", this.key).update(value, "utf8").digest("base64url");
  }

  static isHash(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  /**
   * better-auth's `storeBackupCodes` hooks. "encrypt" receives the codes (JSON) when they are made,
   * and the remaining hashes after one is used; "decrypt" hands back the hashes, against which the
   * hashed code that `hashRecoveryCodeInput` put in the request is compared.
   */
  recoveryCodeStorage() {
    return {
      encrypt: async (json: string) => JSON.stringify((JSON.parse(json) as string[]).map((code) => (SecretHasher.isHash(code) ? code : this.hash(code)))),
      decrypt: async (stored: string) => stored,
    };
  }

  /** The code a user typed, in the form it is stored in; a stored hash typed in is hashed again, so it matches nothing. */
  recoveryCodeInput(code: string): string {
    return this.hash(code.trim());
  }
}

const SESSION = "session";
const TOKEN = "token";

type Row = Record<string, unknown>;

/**
 * Wraps better-auth's database adapter so that the session table's token column holds only keyed
 * hashes. Every query on that column (a cookie being checked, a session refreshed or signed out)
 * is made with the hash of the token it names; rows found by their token are handed back to
 * better-auth with the token it asked for, so cookies work as before. Rows found another way (a
 * user's sessions) carry the hash, which signs nobody in: Pixhaven lists and revokes sessions by
 * id, and better-auth's own token-based session list and revocation routes are turned off.
 */
export function hashSessionTokens<A extends DBAdapter | DBTransactionAdapter>(adapter: A, hasher: SecretHasher): A {
  const hashWhere = (where: Where[] | undefined, plain: Map<string, string>): Where[] | undefined =>
    where?.map((clause) => {
      if (clause.field !== TOKEN) return clause;
      const hashOne = (value: unknown) => {
        if (typeof value !== "string") return value;
        const hashed = hasher.hash(value);
        plain.set(hashed, value);
        return hashed;
      };
      return { ...clause, value: (Array.isArray(clause.value) ? (clause.value as unknown[]).map(hashOne) : hashOne(clause.value)) as Where["value"] };
    });
  const restore = <T>(row: T, plain: Map<string, string>): T => {
    if (!row || typeof row !== "object") return row;
    const token = (row as Row)[TOKEN];
    return typeof token === "string" && plain.has(token) ? ({ ...row, [TOKEN]: plain.get(token) } as T) : row;
  };

  const wrapped: Record<string, unknown> = { ...adapter };
  for (const [name, method] of Object.entries(adapter)) {
    if (typeof method !== "function" || name === "transaction") continue;
    wrapped[name] = async (args: { model?: string; where?: Where[]; data?: Row; update?: Row } & Row, ...rest: unknown[]) => {
      if (args?.model !== SESSION) return (method as (...a: unknown[]) => unknown).call(adapter, args, ...rest);
      const plain = new Map<string, string>();
      const changed: Row = { ...args };
      if (args.where) changed.where = hashWhere(args.where, plain);
      for (const key of ["data", "update"] as const) {
        const value = args[key]?.[TOKEN];
        if (typeof value === "string") {
          const hashed = hasher.hash(value);
          plain.set(hashed, value);
          changed[key] = { ...args[key], [TOKEN]: hashed };
        }
      }
      const result = await (method as (...a: unknown[]) => Promise<unknown>).call(adapter, changed, ...rest);
      return Array.isArray(result) ? result.map((row) => restore(row, plain)) : restore(result, plain);
    };
  }
  if ("transaction" in adapter && typeof adapter.transaction === "function") {
    const transaction = adapter.transaction.bind(adapter);
    wrapped.transaction = <R>(callback: (trx: DBTransactionAdapter) => Promise<R>) => transaction((trx: DBTransactionAdapter) => callback(hashSessionTokens(trx, hasher)));
  }
  return wrapped as A;
}

/**
 * Brings rows written before secrets were hashed to the hashed form, once: session tokens are
 * hashed in place (nobody is signed out), recovery codes are decrypted with the server secret and
 * hashed. Rows already hashed are left alone, so this runs at every start.
 */
export async function hashStoredSecrets(db: Kysely<Database>, hasher: SecretHasher, secret: string): Promise<void> {
  const sessions = await db.selectFrom("session").select(["id", "token"]).where("token", "not like", `${PREFIX}%`).execute();
  for (const { id, token } of sessions) await db.updateTable("session").set({ token: hasher.hash(token) }).where("id", "=", id).where("token", "=", token).execute();
  // Only rows still in better-auth's encrypted form are read: a start after the conversion reads none.
  const twoFactors = await db
    .selectFrom("twoFactor")
    .select(["id", "backupCodes"])
    .where("backupCodes", "not like", `["${PREFIX}%`)
    .where("backupCodes", "!=", "[]")
    .where("backupCodes", "!=", "")
    .execute();
  for (const { id, backupCodes } of twoFactors) {
    const codes = JSON.parse(await symmetricDecrypt({ key: secret, data: backupCodes })) as string[];
    await db.updateTable("twoFactor").set({ backupCodes: JSON.stringify(codes.map((c) => hasher.hash(c))) }).where("id", "=", id).where("backupCodes", "=", backupCodes).execute();
  }
}
