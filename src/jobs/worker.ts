import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Clock } from "../common/clock.js";
import { AppError } from "../common/errors.js";
import type { JobRow } from "../db/schema.js";
import type { BlobStore } from "../storage/blob-store.js";
import { jobKeys, safeName } from "./keys.js";
import type { JobRepository, NewOutput } from "./repository.js";
import type { JobSettings } from "./service.js";
import type { JobEvents } from "./events.js";
import type { JobWakeup } from "./wakeup.js";
import type { JobOutcome, Metrics } from "../metrics.js";

/** One file a tool produced, in the run's work folder. */
export interface ToolOutputFile {
  path: string;
  name: string;
  mime: string;
  bytes: number;
  width?: number | null;
  height?: number | null;
}

export interface ToolRunContext {
  progress(fraction: number): void;
  signal: AbortSignal;
  /** a folder of this run's own for its outputs, not made yet (a run with no output files needs none), removed after it */
  workDir: string;
}

/** How the job worker runs a tool: the same entry the CLI and the tests use. */
export type RunTool = (
  tool: string,
  /** `key`: the input's blob key, under which its submission may have left what it learnt of it */
  input: { path: string; name: string; key?: string },
  params: unknown,
  ctx: ToolRunContext,
) => Promise<{ outputs: ToolOutputFile[]; report?: unknown; inputPixels?: number | null }>;

export interface WorkerSettings extends JobSettings {
  /** jobs this process runs at once */
  concurrency: number;
  /** a running job's worker renews its lease this often (a third of it); a job whose lease ran out is taken back */
  leaseMs: number;
  /** how often idle workers look for work they were not told about */
  pollMs: number;
}

interface Log {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const PROGRESS_WRITE_MS = 200;

/**
 * The worker role: claims queued jobs (at most `concurrency` at once), runs each tool off the event
 * loop through `runTool`, stores its outputs and ends the job exactly once. A job whose process
 * dies is taken back when its lease runs out and tried again, up to JOB_MAX_ATTEMPTS; outputs of an
 * attempt that did not win are deleted, so a retry never leaves duplicates.
 */
export class JobWorker {
  private active = new Map<string, AbortController>();
  /** jobs whose tool is running: what `concurrency` bounds (storing outputs and ending a job do not hold a slot) */
  private toolRuns = 0;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | null = null;
  private filling = false;
  private kickedWhileFilling = false;
  private stopped = true;
  private idle: Array<() => void> = [];
  /** jobs whose tool ended, waiting to store their outputs until the next tool has started (or none will) */
  private bookkeeping: Array<() => void> = [];
  /** jobs claimed whose tool has not been called yet */
  private starting = 0;

  constructor(
    private readonly deps: {
      repo: JobRepository;
      blobs: BlobStore;
      clock: Clock;
      wakeup: JobWakeup;
      runTool: RunTool;
      tmpDir: string;
      settings: WorkerSettings;
      log: Log;
      events?: JobEvents;
      metrics?: Pick<Metrics, "jobRun">;
    },
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const unwake = this.deps.wakeup.subscribe(() => this.kick());
    // Cancelled here (by its creator, or its request failed): stop now, not at the next lease renewal.
    const uncancel = this.deps.events?.onCancelled((jobId) => this.active.get(jobId)?.abort(new Interrupted()));
    this.unsubscribe = () => {
      unwake();
      uncancel?.();
    };
    this.timers.push(setInterval(() => this.kick(), this.deps.settings.pollMs).unref());
    this.timers.push(setInterval(() => void this.recoverStale().catch((err) => this.deps.log.error({ err }, "stale job recovery failed")), this.deps.settings.leaseMs / 2).unref());
    this.kick();
  }

  /** Stops taking work; jobs in flight are interrupted and handed back to the queue for another worker. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    for (const controller of this.active.values()) controller.abort(new Interrupted());
    if (this.active.size) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  get running(): number {
    return this.active.size;
  }

  kick(): void {
    if (this.stopped) return;
    // A kick while claiming (a slot freed, a job queued) is not lost: the claiming runs once more.
    if (this.filling) {
      this.kickedWhileFilling = true;
      return;
    }
    this.filling = true;
    this.kickedWhileFilling = false;
    void this.fill()
      .catch((err) => this.deps.log.error({ err }, "claiming jobs failed"))
      .finally(() => {
        this.filling = false;
        if (this.kickedWhileFilling) this.kick();
        else this.resumeBookkeeping();
      });
  }

  /** Jobs whose worker stopped renewing their lease are tried again, or failed after the last attempt. */
  async recoverStale(): Promise<number> {
    const { repo, clock, settings } = this.deps;
    const now = clock.now();
    let recovered = 0;
    for (const job of await repo.findStale(now)) {
      if (job.attempts >= settings.maxAttempts) {
        const failed = await repo.fail(job.id, "worker_lost", `The worker running this job stopped ${job.attempts} times; it was not tried again.`, now, now + settings.retentionMs, job.attempts);
        if (failed) await this.dropInput(job);
      } else if (await repo.requeue(job.id, job.lease_until!)) {
        recovered++;
      }
    }
    if (recovered) this.kick();
    return recovered;
  }

  private async fill(): Promise<void> {
    const { repo, clock, settings } = this.deps;
    while (!this.stopped && this.toolRuns < settings.concurrency) {
      const job = await repo.claimNext(clock.now(), settings.leaseMs);
      if (!job) return;
      const controller = new AbortController();
      this.active.set(job.id, controller);
      this.toolRuns++;
      this.starting++;
      let slotHeld = true;
      // The slot is handed on as soon as the tool stops using the cores, so the next job's input
      // is read and decoded while this one's outputs are stored and its row is committed.
      const releaseSlot = () => {
        if (!slotHeld) return;
        slotHeld = false;
        this.toolRuns--;
        this.kick();
      };
      void this.execute(job, controller, releaseSlot).finally(() => {
        releaseSlot();
        this.active.delete(job.id);
        if (this.active.size === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async execute(job: JobRow, controller: AbortController, toolDone: () => void): Promise<void> {
    const { repo, blobs, clock, runTool, settings, log } = this.deps;
    const attempt = job.attempts;
    const heartbeat = setInterval(() => {
      void repo.renewLease(job.id, clock.now() + settings.leaseMs).then(
        // Cancelled by its creator, or taken back after a stall: stop working on it.
        (held) => held || controller.abort(new Interrupted()),
        () => undefined,
      );
    }, settings.leaseMs / 3);
    let started = false;
    const toolStarted = () => {
      if (started) return;
      started = true;
      this.starting--;
      // Live views learn of the start once the tool is under way: their reads are not in its path.
      setImmediate(() => this.deps.events?.changed(job.id));
      this.resumeBookkeeping();
    };
    const workDir = path.join(this.deps.tmpDir, `job-${job.id}-${attempt}`);
    // Made when the input is copied in, or by the run for its outputs; a run with neither (or that
    // ended early, which may have left a part) needs no removal.
    let mayHoldFiles = true;
    const stored: string[] = [];
    const began = performance.now();
    let outcome: JobOutcome = "interrupted";
    try {
      if (!job.input_key) throw new AppError("input_missing", 410, "The input of this job is no longer stored.");
      // A store on this machine lends its file (tools only read their input); others are copied in.
      let inputPath: string;
      if (blobs.localFile) inputPath = await blobs.localFile(job.input_key);
      else {
        await fs.mkdir(workDir, { recursive: true });
        inputPath = path.join(workDir, `input-${safeName(job.input_name)}`);
        await pipeline(await blobs.get(job.input_key), createWriteStream(inputPath));
      }
      const runDir = path.join(workDir, "run");
      const running = runTool(job.tool, { path: inputPath, name: job.input_name, key: job.input_key }, JSON.parse(job.params), {
        progress: this.progressWriter(job.id),
        signal: controller.signal,
        workDir: runDir,
      });
      toolStarted();
      const result = await running.finally(toolDone);
      // The next job (kicked by toolDone) is claimed and its tool started before this one's
      // outputs are stored and its row written: the cores are not left waiting on bookkeeping.
      await this.afterNextStart();
      if (result.outputs.length === 0 && blobs.localFile) mayHoldFiles = false;
      controller.signal.throwIfAborted();
      const outputs: NewOutput[] = [];
      for (const [idx, file] of result.outputs.entries()) {
        const key = jobKeys.output(job.id, attempt, idx, file.name);
        await blobs.putFile(key, file.path, file.mime);
        stored.push(key);
        outputs.push({ job_id: job.id, idx, name: file.name, blob_key: key, mime: file.mime, bytes: file.bytes, width: file.width ?? null, height: file.height ?? null });
      }
      const now = clock.now();
      const report = result.report === undefined ? null : JSON.stringify(result.report);
      if (await repo.succeed(job.id, attempt, { outputs, report, inputPixels: result.inputPixels ?? null }, now, now + settings.retentionMs)) {
        stored.length = 0; // committed: keep them
        outcome = "succeeded";
        await this.dropInput(job);
      }
    } catch (err) {
      if (controller.signal.aborted) {
        // Cancelled by its creator or taken back (nothing to do), or this worker is stopping:
        // another worker takes the job over.
        if (this.stopped) await repo.requeue(job.id, (await repo.find(job.id))?.lease_until ?? -1);
      } else if (err instanceof AppError) {
        // The input or the parameters are at fault: another attempt would fail the same way.
        const now = clock.now();
        outcome = "failed";
        if (await repo.fail(job.id, err.code, err.message, now, now + settings.retentionMs, attempt)) await this.dropInput(job);
      } else {
        log.error({ err, job: job.id, tool: job.tool }, "job failed unexpectedly");
        outcome = await this.retryOrFail(job, attempt);
      }
    } finally {
      toolStarted(); // or never will: the job ended before its tool was called
      this.deps.events?.changed(job.id);
      this.deps.metrics?.jobRun(job.tool, outcome, (performance.now() - began) / 1000);
      clearInterval(heartbeat);
      await Promise.all(stored.map((key) => blobs.delete(key).catch(() => undefined)));
      if (mayHoldFiles) await fs.rm(workDir, { recursive: true, force: true });
    }
  }

  /**
   * Resolves once no job is being claimed or started: the next tool is under way, or none is
   * coming. At most 50 ms, whatever happens.
   */
  private afterNextStart(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 50);
      this.bookkeeping.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.resumeBookkeeping();
    });
  }

  private resumeBookkeeping(): void {
    if (this.filling || this.starting > 0) return;
    for (const resume of this.bookkeeping.splice(0)) resume();
  }

  private async retryOrFail(job: JobRow, attempt: number): Promise<JobOutcome> {
    const { repo, clock, settings } = this.deps;
    const now = clock.now();
    if (attempt < settings.maxAttempts) {
      const current = await repo.find(job.id);
      if (current?.status === "running" && current.attempts === attempt) await repo.requeue(job.id, current.lease_until!);
      return "retried";
    }
    if (await repo.fail(job.id, "internal", "The tool failed unexpectedly on every attempt.", now, now + settings.retentionMs, attempt)) await this.dropInput(job);
    return "failed";
  }

  /** P5: a job's input is deleted as soon as the job ends. */
  private async dropInput(job: JobRow): Promise<void> {
    if (!job.input_key) return;
    await this.deps.blobs.delete(job.input_key);
    await this.deps.repo.clearInput(job.id);
  }

  /**
   * Progress reaches the database at most every PROGRESS_WRITE_MS, only forward, and not before the
   * job has run that long: a job that ends sooner shows its end, and its row is written once.
   */
  private progressWriter(jobId: string): (fraction: number) => void {
    let last = Date.now();
    let shown = 0;
    return (fraction) => {
      // The end is the success itself, which sets progress 1 with the status.
      const value = Math.min(0.99, Math.max(shown, fraction));
      const now = Date.now();
      if (value === shown || now - last < PROGRESS_WRITE_MS) return;
      last = now;
      shown = value;
      void this.deps.repo.setProgress(jobId, value).then(
        () => this.deps.events?.changed(jobId),
        () => undefined,
      );
    };
  }
}

/** The job was cancelled, taken back, or the worker is stopping: not the tool's fault. */
class Interrupted extends Error {
  constructor() {
    super("job interrupted");
    this.name = "Interrupted";
  }
}
