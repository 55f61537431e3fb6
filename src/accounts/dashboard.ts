import type { Kysely } from "kysely";
import type { Clock } from "../common/clock.js";
import { notFound } from "../common/errors.js";
import type { Database, ImageRow, JobOutputRow, JobRow } from "../db/schema.js";
import { tokenMatches } from "../ids.js";
import type { BlobStore } from "../storage/blob-store.js";

export interface Page<T> {
  items: T[];
  /** pass back as `cursor` for the next page; null on the last one */
  nextCursor: string | null;
}

export interface JobWithOutputs {
  job: JobRow;
  outputs: JobOutputRow[];
  /** seconds until a succeeded job's files are deleted; null when it has none to lose */
  secondsLeft: number | null;
}

export interface AccountStats {
  jobsPerTool: Array<{ tool: string; succeeded: number; failed: number; other: number }>;
  images: number;
  storageBytes: number;
}

export interface ClaimRequest {
  images: Array<{ id: string; deleteToken: string }>;
  jobs: Array<{ id: string; deleteToken: string }>;
}

/** Newest first, then by id: a cursor is the last item's (created_at, id). */
function parseCursor(cursor: string | undefined): { at: number; id: string } | null {
  const match = cursor ? /^(\d{1,16})\.([A-Za-z0-9_-]{1,32})$/.exec(cursor) : null;
  return match ? { at: Number(match[1]), id: match[2]! } : null;
}
const cursorOf = (row: { created_at: number; id: string }) => `${row.created_at}.${row.id}`;

/** What an account sees of its own things: lists, statistics, claiming and deleting. */
export class Dashboard {
  constructor(
    private readonly deps: { db: Kysely<Database>; blobs: BlobStore; clock: Clock },
  ) {}

  async images(userId: string, limit: number, cursor?: string): Promise<Page<ImageRow>> {
    const after = parseCursor(cursor);
    let query = this.deps.db.selectFrom("images").selectAll().where("owner_id", "=", userId).where("status", "=", "active");
    if (after) query = query.where((eb) => eb.or([eb("created_at", "<", after.at), eb.and([eb("created_at", "=", after.at), eb("id", "<", after.id)])]));
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(limit + 1).execute();
    return page(rows, limit);
  }

  async jobs(userId: string, limit: number, cursor?: string): Promise<Page<JobWithOutputs>> {
    const after = parseCursor(cursor);
    let query = this.deps.db.selectFrom("jobs").selectAll().where("owner_id", "=", userId);
    if (after) query = query.where((eb) => eb.or([eb("created_at", "<", after.at), eb.and([eb("created_at", "=", after.at), eb("id", "<", after.id)])]));
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(limit + 1).execute();
    const { items, nextCursor } = page(rows, limit);
    const outputs = items.length ? await this.deps.db.selectFrom("job_outputs").selectAll().where("job_id", "in", items.map((j) => j.id)).orderBy("idx").execute() : [];
    const now = this.deps.clock.now();
    const secondsLeft = (job: JobRow) => (job.status === "succeeded" && job.expires_at !== null ? Math.max(0, Math.round((job.expires_at - now) / 1000)) : null);
    return { items: items.map((job) => ({ job, outputs: outputs.filter((o) => o.job_id === job.id), secondsLeft: secondsLeft(job) })), nextCursor };
  }

  async stats(userId: string): Promise<AccountStats> {
    const { db } = this.deps;
    const perTool = await db
      .selectFrom("jobs")
      .select(["tool", "status", (eb) => eb.fn.countAll<number | string>().as("n")])
      .where("owner_id", "=", userId)
      .groupBy(["tool", "status"])
      .execute();
    const tools = new Map<string, { tool: string; succeeded: number; failed: number; other: number }>();
    for (const row of perTool) {
      const entry = tools.get(row.tool) ?? { tool: row.tool, succeeded: 0, failed: 0, other: 0 };
      // A job whose files expired had succeeded; one cancelled or failed carries an error code.
      const n = Number(row.n);
      if (row.status === "succeeded") entry.succeeded += n;
      else if (row.status === "failed") entry.failed += n;
      else entry.other += n;
      tools.set(row.tool, entry);
    }
    const expired = await db
      .selectFrom("jobs")
      .select(["tool", (eb) => eb.fn.countAll<number | string>().as("n")])
      .where("owner_id", "=", userId)
      .where("status", "=", "expired")
      .where("error_code", "is", null)
      .groupBy("tool")
      .execute();
    for (const row of expired) {
      const entry = tools.get(row.tool)!;
      entry.succeeded += Number(row.n);
      entry.other -= Number(row.n);
    }
    const images = await db
      .selectFrom("images")
      .select([(eb) => eb.fn.countAll<number | string>().as("n"), (eb) => eb.fn.sum<number | string | null>("bytes").as("bytes")])
      .where("owner_id", "=", userId)
      .where("status", "=", "active")
      .executeTakeFirstOrThrow();
    const outputs = await db
      .selectFrom("job_outputs")
      .innerJoin("jobs", "jobs.id", "job_outputs.job_id")
      .select((eb) => eb.fn.sum<number | string | null>("job_outputs.bytes").as("bytes"))
      .where("jobs.owner_id", "=", userId)
      .where("job_outputs.blob_key", "is not", null)
      .executeTakeFirstOrThrow();
    const inputs = await db
      .selectFrom("jobs")
      .select((eb) => eb.fn.sum<number | string | null>("input_bytes").as("bytes"))
      .where("owner_id", "=", userId)
      .where("input_key", "is not", null)
      .executeTakeFirstOrThrow();
    return {
      jobsPerTool: [...tools.values()].sort((a, b) => a.tool.localeCompare(b.tool)),
      images: Number(images.n),
      storageBytes: Number(images.bytes ?? 0) + Number(outputs.bytes ?? 0) + Number(inputs.bytes ?? 0),
    };
  }

  /** Totals for the administrators' page. */
  async instanceTotals(): Promise<{ users: number; images: number; jobs: number; imageBytes: number }> {
    const { db } = this.deps;
    const users = await db.selectFrom("user").select((eb) => eb.fn.countAll<number | string>().as("n")).executeTakeFirstOrThrow();
    const images = await db
      .selectFrom("images")
      .select([(eb) => eb.fn.countAll<number | string>().as("n"), (eb) => eb.fn.sum<number | string | null>("bytes").as("bytes")])
      .where("status", "=", "active")
      .executeTakeFirstOrThrow();
    const jobs = await db.selectFrom("jobs").select((eb) => eb.fn.countAll<number | string>().as("n")).executeTakeFirstOrThrow();
    return { users: Number(users.n), images: Number(images.n), jobs: Number(jobs.n), imageBytes: Number(images.bytes ?? 0) };
  }

  /**
   * Moves anonymous images and jobs into the account, each proven by its deletion token; an item
   * already owned, unknown, or with a wrong token is skipped (and not told apart).
   */
  async claim(userId: string, request: ClaimRequest): Promise<{ images: string[]; jobs: string[] }> {
    const { db } = this.deps;
    const claimed = { images: [] as string[], jobs: [] as string[] };
    for (const { id, deleteToken } of request.images) {
      const row = await db.selectFrom("images").select(["id", "delete_token_hash"]).where("id", "=", id).where("owner_id", "is", null).where("status", "=", "active").executeTakeFirst();
      if (!row?.delete_token_hash || !tokenMatches(deleteToken, row.delete_token_hash)) continue;
      const result = await db.updateTable("images").set({ owner_id: userId }).where("id", "=", id).where("owner_id", "is", null).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) claimed.images.push(id);
    }
    for (const { id, deleteToken } of request.jobs) {
      const row = await db.selectFrom("jobs").select(["id", "delete_token_hash"]).where("id", "=", id).where("owner_id", "is", null).executeTakeFirst();
      if (!row || !tokenMatches(deleteToken, row.delete_token_hash)) continue;
      const result = await db.updateTable("jobs").set({ owner_id: userId }).where("id", "=", id).where("owner_id", "is", null).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) claimed.jobs.push(id);
    }
    return claimed;
  }

  /** Deletes the account's own images (no deletion token needed); ids it does not own are reported as not found. */
  async deleteImages(userId: string, ids: string[]): Promise<{ deleted: string[]; notFound: string[] }> {
    const { db, blobs, clock } = this.deps;
    const rows = ids.length ? await db.selectFrom("images").selectAll().where("id", "in", ids).where("owner_id", "=", userId).where("status", "=", "active").execute() : [];
    const deleted: string[] = [];
    for (const row of rows) {
      const result = await db
        .updateTable("images")
        .set({ status: "deleted", deleted_at: clock.now(), delete_token_hash: null, original_name: null, blob_key: null, thumb_key: null, owner_id: null, thumbhash: "" })
        .where("id", "=", row.id)
        .where("status", "=", "active")
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) continue;
      await Promise.all([row.blob_key, row.thumb_key].filter((k): k is string => !!k).map((k) => blobs.delete(k)));
      deleted.push(row.id);
    }
    return { deleted, notFound: ids.filter((id) => !deleted.includes(id)) };
  }
}

function page<T extends { created_at: number; id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? cursorOf(items.at(-1)!) : null };
}
