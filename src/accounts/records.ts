import type { Kysely } from "kysely";
import { iso } from "../common/clock.js";
import type { AuthTime, Database } from "../db/schema.js";

/** better-auth's times as epoch milliseconds, whichever way the dialect returned them. */
export function toEpochMs(value: AuthTime | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  return typeof value === "number" ? value : Date.parse(value);
}

export interface AccountRecord {
  id: string;
  email: string;
  name: string;
  emailVerified: boolean;
  role: string;
  twoFactorEnabled: boolean;
  createdAt: string | null;
  /** how the account signs in: "credential" (password), "oidc", "google", "github" */
  signInMethods: string[];
  passkeys: Array<{ id: string; name: string | null; createdAt: string | null }>;
}

export interface SessionRecord {
  id: string;
  createdAt: string | null;
  lastSeenAt: string | null;
  expiresAt: string | null;
  /** the anonymised network (IPv4 /24, IPv6 /48), never the full address */
  network: string | null;
  userAgent: string | null;
  secondFactor: boolean;
}

/** The account as its owner sees it (no password hash, no secret). */
export async function readAccount(db: Kysely<Database>, userId: string): Promise<AccountRecord | undefined> {
  const user = await db.selectFrom("user").selectAll().where("id", "=", userId).executeTakeFirst();
  if (!user) return undefined;
  const methods = await db.selectFrom("account").select("providerId").where("userId", "=", userId).execute();
  const passkeys = await db.selectFrom("passkey").select(["id", "name", "createdAt"]).where("userId", "=", userId).execute();
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    emailVerified: !!user.emailVerified,
    role: user.role ?? "user",
    twoFactorEnabled: !!user.twoFactorEnabled,
    createdAt: iso(toEpochMs(user.createdAt)),
    signInMethods: [...new Set(methods.map((m) => m.providerId))],
    passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, createdAt: iso(toEpochMs(p.createdAt)) })),
  };
}

export async function readSessions(db: Kysely<Database>, userId: string, now: number): Promise<SessionRecord[]> {
  const rows = await db.selectFrom("session").selectAll().where("userId", "=", userId).execute();
  return rows
    .filter((s) => (toEpochMs(s.expiresAt) ?? 0) > now)
    .map((s) => ({
      id: s.id,
      createdAt: iso(toEpochMs(s.createdAt)),
      lastSeenAt: iso(toEpochMs(s.updatedAt)),
      expiresAt: iso(toEpochMs(s.expiresAt)),
      network: s.ipAddress,
      userAgent: s.userAgent || null,
      secondFactor: !!s.secondFactor,
    }))
    .sort((a, b) => (b.lastSeenAt ?? "").localeCompare(a.lastSeenAt ?? ""));
}
