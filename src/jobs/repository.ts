import { type Kysely, sql } from "kysely";
import type { Database, JobOutputRow, JobRow, JobsTable } from "../db/schema.js";

export type NewJob = Omit<JobsTable, "batch_index" | "progress" | "attempts" | "error_code" | "error_message" | "report" | "started_at" | "finished_at" | "expires_at" | "lease_until" | "input_pixels"> & {
  batch_index: number;
};
export type NewOutput = Omit<JobOutputRow, "downloads" | "last_download_at">;

const TERMINAL = ["succeeded", "failed", "expired"] as const;

/** Every query the job system makes, dialect-neutral; state changes are conditional, so two workers can never both win. */
export class JobRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Whether the account still exists (a batch checks it once all its jobs are queued). */
  async ownerExists(ownerId: string): Promise<boolean> {
    return !!(await this.db.selectFrom("user").select("id").where("id", "=", ownerId).executeTakeFirst());
  }

  async insertAll(jobs: NewJob[]): Promise<void> {
    if (jobs.length) await this.db.insertInto("jobs").values(jobs.map((j) => ({ ...j, progress: 0, attempts: 0 }))).execute();
  }

  find(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
  }

  findMany(ids: readonly string[]): Promise<JobRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom("jobs").selectAll().where("id", "in", ids).orderBy("created_at").orderBy("batch_index").execute();
  }

  findBatch(batchId: string): Promise<JobRow[]> {
    return this.db.selectFrom("jobs").selectAll().where("batch_id", "=", batchId).orderBy("batch_index").execute();
  }

  outputs(jobIds: string[]): Promise<JobOutputRow[]> {
    if (jobIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom("job_outputs").selectAll().where("job_id", "in", jobIds).orderBy("job_id").orderBy("idx").execute();
  }

  /**
   * Takes the oldest queued job for this worker: one conditional update, so of several workers
   * (threads of one process or processes sharing the database) exactly one gets it.
   */
  async claimNext(now: number, leaseMs: number): Promise<JobRow | undefined> {
    for (let tries = 0; tries < 5; tries++) {
      // One statement: the next queued job, taken only if it is still queued when the update runs
      // (another worker may have taken it since the subquery read it; then the next one is tried).
      // Batches take turns: the first job of every batch before the second of any, oldest first,
      // so a batch of 50 upscales does not hold everyone else's single picture for an hour.
      const claimed = await this.db
        .updateTable("jobs")
        .set({ status: "running", attempts: sql`attempts + 1`, started_at: now, lease_until: now + leaseMs, progress: 0 })
        .where("id", "=", (eb) => eb.selectFrom("jobs").select("id").where("status", "=", "queued").orderBy("batch_index").orderBy("created_at").orderBy("id").limit(1))
        .where("status", "=", "queued")
        .returningAll()
        .executeTakeFirst();
      if (claimed) return claimed;
      const queued = await this.db.selectFrom("jobs").select("id").where("status", "=", "queued").limit(1).executeTakeFirst();
      if (!queued) return undefined;
    }
    return undefined;
  }

  async renewLease(id: string, until: number): Promise<boolean> {
    const result = await this.db.updateTable("jobs").set({ lease_until: until }).where("id", "=", id).where("status", "=", "running").executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.db.updateTable("jobs").set({ progress }).where("id", "=", id).where("status", "=", "running").execute();
  }

  /** Running jobs whose worker stopped renewing its lease: the process died or hangs. */
  findStale(now: number): Promise<JobRow[]> {
    return this.db.selectFrom("jobs").selectAll().where("status", "=", "running").where("lease_until", "<", now).execute();
  }

  /** running → queued again, for another attempt; only if the lease is still the stale one. */
  async requeue(id: string, staleLease: number): Promise<boolean> {
    const result = await this.db
      .updateTable("jobs")
      .set({ status: "queued", lease_until: null, progress: 0 })
      .where("id", "=", id)
      .where("status", "=", "running")
      .where("lease_until", "=", staleLease)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Records the outputs and the success together, so a job succeeds exactly once with exactly its
   * outputs (one statement when there are none).
   */
  async succeed(id: string, attempt: number, result: { outputs: NewOutput[]; report: string | null; inputPixels: number | null }, now: number, expiresAt: number): Promise<boolean> {
    const end = (db: Kysely<Database>) =>
      db
        .updateTable("jobs")
        .set({ status: "succeeded", progress: 1, report: result.report, finished_at: now, expires_at: expiresAt, lease_until: null, ...(result.inputPixels ? { input_pixels: result.inputPixels } : {}) })
        .where("id", "=", id)
        .where("status", "=", "running")
        .where("attempts", "=", attempt)
        .executeTakeFirst()
        .then((r) => Number(r.numUpdatedRows) === 1);
    if (result.outputs.length === 0) return end(this.db);
    return this.db.transaction().execute(async (tx) => {
      if (!(await end(tx))) return false;
      await tx.insertInto("job_outputs").values(result.outputs.map((o) => ({ ...o, downloads: 0, last_download_at: null }))).execute();
      return true;
    });
  }

  /** Ends a job that has not ended yet as failed; `attempt` guards against a worker that lost its lease. */
  async fail(id: string, code: string, message: string, now: number, expiresAt: number, attempt?: number): Promise<boolean> {
    let query = this.db
      .updateTable("jobs")
      .set({ status: "failed", error_code: code, error_message: message, finished_at: now, expires_at: expiresAt, lease_until: null })
      .where("id", "=", id)
      .where("status", "not in", TERMINAL);
    if (attempt !== undefined) query = query.where("attempts", "=", attempt);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Jobs waiting and running now, in the whole cluster (both read through the status index). */
  async countActive(): Promise<{ queued: number; running: number }> {
    const rows = await this.db
      .selectFrom("jobs")
      .select(["status", (eb) => eb.fn.countAll<number | string>().as("n")])
      .where("status", "in", ["queued", "running"])
      .groupBy("status")
      .execute();
    const count = (status: string) => Number(rows.find((row) => row.status === status)?.n ?? 0);
    return { queued: count("queued"), running: count("running") };
  }

  async clearInput(id: string): Promise<void> {
    await this.db.updateTable("jobs").set({ input_key: null }).where("id", "=", id).execute();
  }

  async countDownload(jobId: string, idx: number, at: number): Promise<void> {
    await this.db
      .updateTable("job_outputs")
      .set({ downloads: sql`downloads + 1`, last_download_at: at })
      .where("job_id", "=", jobId)
      .where("idx", "=", idx)
      .execute();
  }

  /** Jobs whose files are due for deletion: succeeded and past their expiry, or queued for longer than retention. */
  findExpired(now: number, queuedBefore: number): Promise<JobRow[]> {
    return this.db
      .selectFrom("jobs")
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb("status", "=", "succeeded"), eb("expires_at", "<=", now)]),
          eb.and([eb("status", "=", "queued"), eb("created_at", "<", queuedBefore)]),
        ]),
      )
      .limit(500)
      .execute();
  }

  /**
   * The files are gone: the row stays as history (tool, parameters, times, sizes, downloads), with
   * no key left. A success (or a job that never ran) becomes `expired`; a failure keeps its error.
   */
  async markExpired(id: string, now: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable("job_outputs").set({ blob_key: null }).where("job_id", "=", id).execute();
      await tx
        .updateTable("jobs")
        .set((eb) => ({
          status: sql<JobRow["status"]>`case when status in ('succeeded', 'queued') then 'expired' else status end`,
          input_key: null,
          lease_until: null,
          finished_at: eb.fn.coalesce("finished_at", eb.val(now)),
          expires_at: eb.fn.coalesce("expires_at", eb.val(now)),
        }))
        .where("id", "=", id)
        .where("status", "!=", "running")
        .execute();
    });
  }

  /** Removes jobs' rows, outputs first (history past its retention, jobs whose request failed). */
  async deleteJobs(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom("job_outputs").where("job_id", "in", ids).execute();
      await tx.deleteFrom("jobs").where("id", "in", ids).execute();
    });
  }

  /** History older than its retention goes, outputs first. */
  async purgeHistory(finishedBefore: number): Promise<number> {
    const old = await this.db.selectFrom("jobs").select("id").where("status", "in", ["expired", "failed"]).where("finished_at", "<", finishedBefore).limit(1000).execute();
    if (old.length === 0) return 0;
    await this.deleteJobs(old.map((r) => r.id));
    return old.length;
  }

  /** Seconds a run of `tool` took per input megapixel, over its recent successes (for cost estimates). */
  async recentRuns(tool: string, limit = 20): Promise<Array<{ started_at: number; finished_at: number; input_pixels: number; params: string }>> {
    const rows = await this.db
      .selectFrom("jobs")
      .select(["started_at", "finished_at", "input_pixels", "params"])
      .where("tool", "=", tool)
      .where("status", "in", ["succeeded", "expired"])
      .where("error_code", "is", null)
      .where("started_at", "is not", null)
      .where("input_pixels", "is not", null)
      .where("finished_at", "is not", null)
      .orderBy("finished_at", "desc")
      .limit(limit)
      .execute();
    return rows as Array<{ started_at: number; finished_at: number; input_pixels: number; params: string }>;
  }
}
