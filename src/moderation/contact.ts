import type { Kysely } from "kysely";
import type { Clock } from "../common/clock.js";
import { notFound } from "../common/errors.js";
import type { ContactMessageRow, Database } from "../db/schema.js";
import { isShareId, newShareId } from "../ids.js";

/**
 * Messages to this server's operator from its contact page: the address to answer and the text,
 * nothing else of the sender; each is deleted a fixed time after it came (P15), or sooner by an
 * administrator once dealt with.
 */
export class ContactMessages {
  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock }) {}

  async receive(email: string, message: string): Promise<ContactMessageRow> {
    const row: ContactMessageRow = { id: newShareId(), email, message, created_at: this.deps.clock.now() };
    await this.deps.db.insertInto("contact_messages").values(row).execute();
    return row;
  }

  /** Newest first. */
  list(limit = 100): Promise<ContactMessageRow[]> {
    return this.deps.db.selectFrom("contact_messages").selectAll().orderBy("created_at", "desc").orderBy("id").limit(limit).execute();
  }

  /** 404 for an unknown message. */
  async delete(id: string): Promise<void> {
    const result = isShareId(id) ? await this.deps.db.deleteFrom("contact_messages").where("id", "=", id).executeTakeFirst() : undefined;
    if (!result || Number(result.numDeletedRows) === 0) throw notFound();
  }

  /** P15: messages that came more than `retentionMs` ago are deleted. */
  async purge(retentionMs: number): Promise<number> {
    const result = await this.deps.db.deleteFrom("contact_messages").where("created_at", "<", this.deps.clock.now() - retentionMs).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
