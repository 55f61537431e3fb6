import type { Kysely } from "kysely";
import type { Clock } from "../common/clock.js";
import type { Database } from "../db/schema.js";
import { hashToken, newDeleteToken } from "../ids.js";

const INVITE_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** Invitation codes for REGISTRATION=invite: shown once, stored as SHA-256 hashes, good for one sign-up. */
export class Invites {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(createdBy: string | null): Promise<{ code: string; expiresAt: number }> {
    const code = newDeleteToken();
    const now = this.clock.now();
    const expiresAt = now + INVITE_LIFETIME_MS;
    await this.db.insertInto("invites").values({ code_hash: hashToken(code), created_by: createdBy, created_at: now, expires_at: expiresAt, used_at: null }).execute();
    return { code, expiresAt };
  }

  /** One conditional update: of two sign-ups racing with one code, one wins. */
  async consume(code: string): Promise<boolean> {
    const now = this.clock.now();
    const result = await this.db
      .updateTable("invites")
      .set({ used_at: now })
      .where("code_hash", "=", hashToken(code))
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
