import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock } from "../common/clock.js";
import { notFound } from "../common/errors.js";
import type { Database } from "../db/schema.js";
import { hashToken, newShareId } from "../ids.js";

/** Marks a string as a Pixhaven API token, so secret scanners and people recognise one. */
const TOKEN_PREFIX = "pxh_";
/** last_used_at is written at most this often per token, keeping the check a read on most requests. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** API tokens for `Authorization: Bearer`: 256 random bits, shown once, stored as SHA-256 (P20). */
export class ApiTokens {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(userId: string, name: string): Promise<{ token: string; info: ApiTokenInfo }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    const info = { id: newShareId() as string, name, createdAt: this.clock.now(), lastUsedAt: null };
    await this.db.insertInto("api_tokens").values({ id: info.id, user_id: userId, name, token_hash: hashToken(token), created_at: info.createdAt, last_used_at: null }).execute();
    return { token, info };
  }

  async list(userId: string): Promise<ApiTokenInfo[]> {
    const rows = await this.db.selectFrom("api_tokens").select(["id", "name", "created_at", "last_used_at"]).where("user_id", "=", userId).orderBy("created_at", "desc").execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
  }

  /** Another user's token answers like a missing one. */
  async revoke(userId: string, id: string): Promise<void> {
    const result = await this.db.deleteFrom("api_tokens").where("id", "=", id).where("user_id", "=", userId).executeTakeFirst();
    if (Number(result.numDeletedRows) !== 1) throw notFound();
  }

  /** The owner of a token, or null; the lookup is by hash, so no comparison leaks timing about the token. */
  async verify(token: string): Promise<string | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
    const row = await this.db.selectFrom("api_tokens").select(["id", "user_id", "last_used_at"]).where("token_hash", "=", hashToken(token)).executeTakeFirst();
    if (!row) return null;
    const now = this.clock.now();
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      await this.db.updateTable("api_tokens").set({ last_used_at: now }).where("id", "=", row.id).execute();
    }
    return row.user_id;
  }
}
