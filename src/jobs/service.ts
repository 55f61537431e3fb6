import type { Readable } from "node:stream";
import type { Clock } from "../common/clock.js";
import { accountGone, AppError, notFound } from "../common/errors.js";
import { MIN_RATE_PIXELS, costKey, workPixels } from "../common/tools/cost.js";
import type { JobOutputRow, JobRow } from "../db/schema.js";
import { hashToken, isShareId, newDeleteToken, newShareId, tokenMatches } from "../ids.js";
import { BlobNotFoundError, type BlobStore, type ByteRange } from "../storage/blob-store.js";
import type { JobEvents } from "./events.js";
import { jobKeys } from "./keys.js";
import type { JobRepository, NewJob } from "./repository.js";
import type { JobWakeup } from "./wakeup.js";

export interface JobSettings {
  /** outputs are deleted this long after their job ends (P5) */
  retentionMs: number;
  /** the row (without any file) stays this long after the files are gone (P6) */
  historyMs: number;
  maxAttempts: number;
}

/** What the job system asks of the tools before it queues anything. */
export interface ToolGate {
  /** the params as the tool will run them (defaults filled in); AppError 404 unknown_tool or 400 invalid_params */
  parseParams(tool: string, params: unknown): unknown;
  /**
   * AppError 415 when the tool does not take this file, judged from its bytes; `key` is where the
   * file will be stored (the run may reuse what was learnt of it).
   */
  checkInput(tool: string, file: CheckedFile, key?: string): Promise<void>;
}

/** A file to identify: its first bytes, when its receiver kept them as they passed, spare a read. */
export interface CheckedFile {
  path: string;
  bytes: number;
  /** the file's first `HEAD_BYTES` (all of it when smaller) */
  head?: Uint8Array;
}

export interface SubmittedInput extends CheckedFile {
  /** a local file the service takes over (it is moved into storage) */
  path: string;
  name: string;
}

export interface SubmittedBatch {
  batchId: string;
  deleteToken: string;
  jobs: JobRow[];
}

export interface JobView {
  job: JobRow;
  outputs: JobOutputRow[];
}

/** Jobs as their users see them: submit, look up, download, delete. The worker side is in worker.ts. */
export class JobService {
  constructor(
    private readonly deps: {
      repo: JobRepository;
      blobs: BlobStore;
      clock: Clock;
      wakeup: JobWakeup;
      settings: JobSettings;
      gate: ToolGate;
      events?: JobEvents;
    },
  ) {}

  /** Calls `listener` whenever this process changes the job (progress, status); returns `stop`. */
  watch(jobId: string, listener: () => void): () => void {
    return this.deps.events?.watch(jobId, listener) ?? (() => undefined);
  }

  get settings(): JobSettings {
    return this.deps.settings;
  }

  /**
   * A batch whose jobs are queued one by one as their files arrive, so the first runs while the
   * rest are still being uploaded. The client learns of the batch only from `finish`; when its
   * request fails instead, `withdraw` takes back every job queued for it, so a failed request
   * leaves no job, file or row. Throws 404 unknown_tool or 400 invalid_params at once.
   */
  openBatch(tool: string, rawParams: unknown, ownerId: string | null = null): BatchIntake {
    return new BatchIntake(this.deps, tool, JSON.stringify(this.deps.gate.parseParams(tool, rawParams)), ownerId, (job, outputs) => this.removeFiles(job, outputs));
  }

  /** One job per input, in one batch (`openBatch`, for inputs all at hand). */
  async submit(tool: string, rawParams: unknown, inputs: SubmittedInput[], ownerId: string | null = null): Promise<SubmittedBatch> {
    const intake = this.openBatch(tool, rawParams, ownerId);
    try {
      for (const input of inputs) await intake.add(input);
      return await intake.finish();
    } catch (err) {
      await intake.withdraw();
      throw err;
    }
  }

  /**
   * Seconds a run of `tool` took per megapixel it worked on, on this server, for each kind of run
   * (`costKey`: restore's mode, upscale's model and scale...): the median of its recent successes,
   * leaving out pictures too small to say anything per pixel. A kind with no such run is absent.
   */
  async secondsPerMegapixel(tool: string): Promise<Record<string, number>> {
    const byKey = new Map<string, number[]>();
    for (const run of await this.deps.repo.recentRuns(tool, 100)) {
      const params = JSON.parse(run.params) as Record<string, unknown>;
      const pixels = workPixels(params, run.input_pixels);
      if (pixels < MIN_RATE_PIXELS) continue;
      const key = costKey(tool, params);
      byKey.set(key, [...(byKey.get(key) ?? []), (run.finished_at - run.started_at) / 1000 / (pixels / 1e6)]);
    }
    return Object.fromEntries(
      [...byKey].map(([key, rates]) => {
        rates.sort((a, b) => a - b);
        return [key, rates[Math.floor(rates.length / 2)]!];
      }),
    );
  }

  async get(id: string): Promise<JobView> {
    const job = isShareId(id) ? await this.deps.repo.find(id) : undefined;
    if (!job) throw notFound();
    return (await this.withOutputs([job]))[0]!;
  }

  async batch(id: string): Promise<JobView[]> {
    const jobs = isShareId(id) ? await this.deps.repo.findBatch(id) : [];
    if (jobs.length === 0) throw notFound();
    return this.withOutputs(jobs);
  }

  /** These jobs as they are now (those that still exist), in one read: a live view's poll. */
  async views(ids: readonly string[]): Promise<JobView[]> {
    return this.withOutputs(await this.deps.repo.findMany(ids));
  }

  private async withOutputs(jobs: JobRow[]): Promise<JobView[]> {
    // Outputs are written with the success, in one transaction: a job that has not succeeded has none.
    const ended = jobs.filter((job) => job.status === "succeeded" || job.status === "expired").map((job) => job.id);
    const outputs = await this.deps.repo.outputs(ended);
    return jobs.map((job) => ({ job, outputs: outputs.filter((o) => o.job_id === job.id) }));
  }

  /** Output `idx` of a job whose file is still stored: 404 for none, 410 `expired` once deleted. */
  storedOutput({ job, outputs }: JobView, idx: number): JobOutputRow & { blob_key: string } {
    const output = outputs.find((o) => o.idx === idx);
    if (!output) throw notFound();
    if (job.status === "expired" || !output.blob_key) throw expired();
    return output as JobOutputRow & { blob_key: string };
  }

  /** Its bytes, or those of `range`; counted as a download when `count` says so; 410 if its file has gone since. */
  async openOutput(output: JobOutputRow & { blob_key: string }, { count = true, range }: { count?: boolean; range?: ByteRange } = {}): Promise<Readable> {
    try {
      const stream = await this.deps.blobs.get(output.blob_key, range);
      if (count) await this.deps.repo.countDownload(output.job_id, output.idx, this.deps.clock.now());
      return stream;
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw expired();
      throw err;
    }
  }

  /** Opens an output for a batch ZIP; counts it like any download. */
  async openForArchive(output: JobOutputRow): Promise<Readable | null> {
    if (!output.blob_key) return null;
    try {
      const stream = await this.deps.blobs.get(output.blob_key);
      await this.deps.repo.countDownload(output.job_id, output.idx, this.deps.clock.now());
      return stream;
    } catch (err) {
      if (err instanceof BlobNotFoundError) return null;
      throw err;
    }
  }

  /**
   * With the batch's deletion token: a job not yet ended is cancelled; every file of the job is
   * deleted at once; the row stays as history.
   */
  async delete(id: string, token: string | undefined): Promise<void> {
    const view = await this.get(id);
    if (!token || !tokenMatches(token, view.job.delete_token_hash)) {
      throw new AppError("invalid_delete_token", 403, "The deletion token does not match this job.");
    }
    await this.cancelAndRemove(view);
  }

  /** The same, for the account that owns the job (its dashboard): no token; another's job is 404, like an unknown one. */
  async deleteOwned(userId: string, id: string): Promise<void> {
    const view = await this.get(id);
    if (view.job.owner_id !== userId) throw notFound();
    await this.cancelAndRemove(view);
  }

  /**
   * A job not yet ended is cancelled (a worker of this process stops it at once), every file of it
   * is deleted, and the row stays as history without them.
   */
  private async cancelAndRemove({ job, outputs }: JobView): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.repo.fail(job.id, "cancelled", "The job was cancelled by its creator.", now, now);
    this.deps.events?.cancelled(job.id);
    await this.removeFiles(job, outputs);
    await this.deps.repo.markExpired(job.id, now);
    this.deps.events?.changed(job.id);
  }

  /** P5: files of ended jobs past their retention, and inputs queued for longer than it, are deleted. */
  async purgeExpiredToolFiles(): Promise<number> {
    const now = this.deps.clock.now();
    const due = await this.deps.repo.findExpired(now, now - this.deps.settings.retentionMs);
    for (const job of due) {
      await this.removeFiles(job, await this.deps.repo.outputs([job.id]));
      if (job.status === "queued") await this.deps.repo.fail(job.id, "expired", "The job waited longer than the retention period and was dropped.", now, now);
      await this.deps.repo.markExpired(job.id, now);
    }
    return due.length;
  }

  /** P6: the history row, without any image, goes after JOB_HISTORY_RETENTION. */
  purgeJobHistory(): Promise<number> {
    return this.deps.repo.purgeHistory(this.deps.clock.now() - this.deps.settings.historyMs);
  }

  private async removeFiles(job: JobRow, outputs: JobOutputRow[]): Promise<void> {
    const keys = [job.input_key, ...outputs.map((o) => o.blob_key)].filter((k): k is string => !!k);
    await Promise.all(keys.map((key) => this.deps.blobs.delete(key)));
  }
}

/** The jobs of one batch as its request comes in (JobService.openBatch). */
export class BatchIntake {
  private readonly batchId = newShareId();
  private readonly deleteToken = newDeleteToken();
  /** the batch's one token, hashed once for all its jobs */
  private readonly deleteTokenHash = hashToken(this.deleteToken);
  private readonly ids: string[] = [];

  constructor(
    private readonly deps: { repo: JobRepository; blobs: BlobStore; clock: Clock; wakeup: JobWakeup; gate: ToolGate; events?: JobEvents },
    private readonly tool: string,
    private readonly params: string,
    private readonly ownerId: string | null,
    private readonly removeFiles: (job: JobRow, outputs: JobOutputRow[]) => Promise<void>,
  ) {}

  get size(): number {
    return this.ids.length;
  }

  /**
   * Checks the input (415 when the tool does not take it), moves it into storage (a worker in
   * another process reads it from there), writes its row queued and wakes the workers. The file is
   * left where it was when the check fails.
   */
  async add(input: SubmittedInput): Promise<void> {
    const { repo, blobs, clock, wakeup, gate } = this.deps;
    const id = newShareId();
    const inputKey = jobKeys.input(id, input.name);
    await gate.checkInput(this.tool, input, inputKey);
    const job: NewJob = {
      id,
      batch_id: this.batchId,
      batch_index: this.ids.length,
      tool: this.tool,
      params: this.params,
      status: "queued",
      input_name: input.name,
      input_bytes: input.bytes,
      input_key: inputKey,
      delete_token_hash: this.deleteTokenHash,
      owner_id: this.ownerId,
      created_at: clock.now(),
    };
    await blobs.putFile(job.input_key!, input.path, "application/octet-stream");
    try {
      await repo.insertAll([job]);
    } catch (err) {
      await blobs.delete(job.input_key!).catch(() => undefined);
      throw err;
    }
    this.ids.push(id);
    await wakeup.notify();
  }

  async finish(): Promise<SubmittedBatch> {
    // Erased while the files arrived: the caller withdraws what was queued (P17).
    if (this.ownerId !== null && !(await this.deps.repo.ownerExists(this.ownerId))) throw accountGone();
    // One read for the batch, in the order the files came.
    const rows = new Map((await this.deps.repo.findBatch(this.batchId)).map((job) => [job.id, job]));
    return { batchId: this.batchId, deleteToken: this.deleteToken, jobs: this.ids.map((id) => rows.get(id)!) };
  }

  /**
   * The request failed: each job queued for it is cancelled (a worker running it stops at its next
   * lease renewal, and its outputs are never committed), its files deleted and its rows removed.
   */
  async withdraw(): Promise<void> {
    const { repo, clock, events } = this.deps;
    if (this.ids.length === 0) return;
    const now = clock.now();
    for (const id of this.ids) {
      await repo.fail(id, "cancelled", "The request that sent this job failed.", now, now);
      events?.cancelled(id);
    }
    const outputs = await repo.outputs(this.ids);
    for (const job of await repo.findBatch(this.batchId)) await this.removeFiles(job, outputs.filter((o) => o.job_id === job.id));
    await repo.deleteJobs(this.ids);
    for (const id of this.ids) events?.changed(id);
    this.ids.length = 0;
  }
}

export const expired = () => new AppError("expired", 410, "The files of this job have been deleted: by its creator, or when its retention period ended.");
