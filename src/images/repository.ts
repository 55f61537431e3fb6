import { type Kysely, sql } from "kysely";
import type { Database, ImageRow, NewImageRow } from "../db/schema.js";

/** Every query the hosting feature makes, in one place, dialect-neutral. */
export class ImageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: NewImageRow): Promise<void> {
    await this.db.insertInto("images").values(row).execute();
  }

  async find(id: string): Promise<ImageRow | undefined> {
    return this.db.selectFrom("images").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /**
   * pending → active, in one statement with the check that its account (if any) still exists: an
   * upload that arrives while its account is erased is never left behind. False otherwise.
   */
  async activate(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable("images")
      .set({ status: "active" })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .where((eb) => eb.or([eb("owner_id", "is", null), eb.exists(eb.selectFrom("user").select("user.id").whereRef("user.id", "=", "images.owner_id"))]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("images").where("id", "=", id).execute();
  }

  /** Uploads a crashed process left between writing the row and storing the blobs. */
  async findAbandoned(createdBefore: number): Promise<ImageRow[]> {
    return this.db.selectFrom("images").selectAll().where("status", "=", "pending").where("created_at", "<", createdBefore).execute();
  }

  /** P9: the classifier's answer; a row deleted meanwhile keeps its tombstone bare. */
  async setNsfw(id: string, result: { label: string; score: number; scores: string }): Promise<void> {
    await this.db
      .updateTable("images")
      .set({ nsfw_label: result.label, nsfw_score: result.score, nsfw_scores: result.scores })
      .where("id", "=", id)
      .where("status", "=", "active")
      .execute();
  }

  /** Stored images the classifier has not answered for yet (it was busy, down, or the process stopped), oldest first. */
  async findUnclassified(limit: number): Promise<Array<Pick<ImageRow, "id" | "thumb_key">>> {
    return this.db
      .selectFrom("images")
      .select(["id", "thumb_key"])
      .where("nsfw_label", "is", null)
      .where("status", "=", "active")
      .orderBy("created_at")
      .limit(limit)
      .execute();
  }

  /** Active images nobody has viewed since `before` (never viewed: uploaded before it), oldest first. */
  async findUnviewed(before: number, limit: number): Promise<Array<Pick<ImageRow, "id" | "blob_key" | "thumb_key">>> {
    return this.db
      .selectFrom("images")
      .select(["id", "blob_key", "thumb_key"])
      .where("status", "=", "active")
      .where((eb) => eb.or([eb("last_viewed_at", "<", before), eb.and([eb("last_viewed_at", "is", null), eb("created_at", "<", before)])]))
      .orderBy("created_at")
      .limit(limit)
      .execute();
  }

  async addView(id: string, at: number): Promise<void> {
    await this.db
      .updateTable("images")
      .set({ views: sql`views + 1`, last_viewed_at: at })
      .where("id", "=", id)
      .where("status", "=", "active")
      .execute();
  }

  /**
   * Leaves a tombstone (so the id answers 410 and is never reused) holding nothing personal. With
   * `unviewedBefore`, only while nobody has viewed it since then: a view that came after the purge
   * looked keeps the image.
   */
  async markDeleted(id: string, at: number, unviewedBefore?: number): Promise<boolean> {
    let update = this.db
      .updateTable("images")
      .set({ status: "deleted", deleted_at: at, delete_token_hash: null, original_name: null, blob_key: null, thumb_key: null, owner_id: null, thumbhash: "" })
      .where("id", "=", id)
      .where("status", "=", "active");
    if (unviewedBefore !== undefined) update = update.where((eb) => eb.or([eb("last_viewed_at", "is", null), eb("last_viewed_at", "<", unviewedBefore)]));
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async purgeTombstones(deletedBefore: number): Promise<number> {
    const result = await this.db.deleteFrom("images").where("status", "=", "deleted").where("deleted_at", "<", deletedBefore).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
