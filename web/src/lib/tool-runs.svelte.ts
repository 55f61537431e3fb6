import { costKey, workPixels } from "$common/tools/cost.js";
import { proofIfAsked } from "./proof-of-work.js";
import { jobHistory } from "./job-history.svelte.js";
import { t } from "./i18n/index.svelte.js";
import { samePath } from "./urls.js";
import { type JobJson, type JobStatus, type ToolInfo, submitBatch, watchBatch } from "./tools-api.js";

// Browsers open at most six connections to one origin over HTTP/1.1; a few event streams (one per
// batch, however many files it has) leave room for downloads and page loads.
const MAX_STREAMS = 3;

/** Types every browser shows in an <img>, so the original can be compared with the result. */
const VIEWABLE = new Set(["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif"]);

let nextKey = 1;

/** The picture's size in pixels, when this browser can decode it. */
export async function measureImage(url: string): Promise<{ width: number; height: number } | null> {
  const img = new Image();
  img.src = url;
  try {
    await img.decode();
    return { width: img.naturalWidth, height: img.naturalHeight };
  } catch {
    return null; // not decodable here; the server may still read it
  }
}

export function isViewable(file: File): boolean {
  return VIEWABLE.has(file.type);
}

/**
 * Seconds a run should take: the server's measured rate for runs of the same kind (restore's ai
 * mode is minutes where its fast mode is seconds; `costKey`) times the pixels it will work on (a
 * rectangle's, when one is chosen). None before such a run has been measured.
 */
export function estimateSeconds(tool: Pick<ToolInfo, "name" | "secondsPerMegapixelByKind">, params: Record<string, unknown>, size: { width: number; height: number } | null): number | null {
  const rate = tool.secondsPerMegapixelByKind?.[costKey(tool.name, params)];
  return size && rate !== undefined && rate > 0 ? (workPixels(params, size.width * size.height) / 1e6) * rate : null;
}

export class JobRun {
  readonly key = nextKey++;
  id = $state<string | null>(null);
  job = $state<JobJson | null>(null);
  /** the original's size in pixels, when the browser could decode it */
  size = $state<{ width: number; height: number } | null>(null);
  /** the result, fetched once for the comparison and its download */
  resultUrl = $state<string | null>(null);
  watchError = $state<string | null>(null);
  readonly originalUrl: string | null;

  constructor(
    readonly name: string,
    readonly file: File | null,
  ) {
    this.originalUrl = file && VIEWABLE.has(file.type) ? URL.createObjectURL(file) : null;
    if (this.originalUrl) void this.#measure(this.originalUrl);
  }

  get status(): JobStatus | "waiting" {
    return this.job?.status ?? (this.id ? "queued" : "waiting");
  }

  get bytes(): number | null {
    return this.file?.size ?? this.job?.inputs[0]?.bytes ?? null;
  }

  async #measure(url: string): Promise<void> {
    this.size = await measureImage(url);
  }

  /** Fetches the single image result once, so showing and saving it count as one download. */
  async loadResult(): Promise<void> {
    const output = this.job?.outputs.length === 1 ? this.job.outputs[0] : undefined;
    if (!this.originalUrl || !output?.url || !VIEWABLE.has(output.mime) || this.resultUrl) return;
    try {
      const res = await fetch(samePath(output.url));
      if (res.ok) this.resultUrl = URL.createObjectURL(await res.blob());
    } catch {
      // The plain download link stays available.
    }
  }

  release(): void {
    if (this.originalUrl) URL.revokeObjectURL(this.originalUrl);
    if (this.resultUrl) URL.revokeObjectURL(this.resultUrl);
  }
}

export class BatchRun {
  readonly key = nextKey++;
  phase = $state<"uploading" | "submitted" | "failed">("uploading");
  loaded = $state(0);
  total = $state(0);
  error = $state<string | null>(null);
  zipUrl = $state<string | null>(null);
  abort: (() => void) | null = null;

  constructor(
    readonly tool: ToolInfo,
    readonly runs: JobRun[],
    /** the params sent, which the expected time of each run depends on */
    readonly params: Record<string, unknown> = {},
  ) {}

  get percent(): number {
    return this.total > 0 ? Math.round((this.loaded / this.total) * 100) : 0;
  }
}

class ToolRuns {
  batches = $state<BatchRun[]>([]);
  #waiting: { batch: BatchRun; batchId: string }[] = [];
  #streams = 0;
  #stops = new Map<BatchRun, () => void>();

  /** Uploads files and URLs as one batch, remembers its jobs in this browser and follows them. */
  start(tool: ToolInfo, params: Record<string, unknown>, files: File[], urls: string[]): BatchRun {
    const runs = [...files.map((f) => new JobRun(f.name, f)), ...urls.map((u) => new JobRun(u, null))];
    const batch = new BatchRun(tool, runs, params);
    this.batches.unshift(batch);
    let dismissed = false;
    batch.abort = () => (dismissed = true);
    // A server that asks anonymous uploads for a proof of work gets one first.
    proofIfAsked()
      .then((proof) => {
        if (dismissed) throw new Error(t("errors.uploadCancelled"));
        const upload = submitBatch(
          tool.name,
          params,
          files,
          urls,
          (loaded, total) => {
            batch.loaded = loaded;
            batch.total = total;
          },
          proof,
        );
        batch.abort = upload.abort;
        return upload.done;
      })
      .then(
      (submitted) => {
        batch.phase = "submitted";
        batch.zipUrl = submitted.zipUrl;
        const createdAt = new Date().toISOString();
        submitted.jobs.forEach((job, i) => {
          const run = runs[i];
          if (run) run.id = job.id;
        });
        jobHistory.remember(
          submitted.jobs.map((job) => ({ id: job.id, batchId: submitted.batchId, tool: tool.name, deleteToken: submitted.deleteToken, createdAt })),
        );
        this.#waiting.push({ batch, batchId: submitted.batchId });
        this.#pump();
      },
      (err: unknown) => {
        batch.phase = "failed";
        batch.error = err instanceof Error ? err.message : t("batchText.uploadFailed");
      },
    );
    return batch;
  }

  dismiss(batch: BatchRun): void {
    batch.abort?.();
    this.#stops.get(batch)?.();
    for (const run of batch.runs) run.release();
    this.#waiting = this.#waiting.filter((w) => w.batch !== batch);
    this.batches = this.batches.filter((b) => b !== batch);
  }

  #pump(): void {
    while (this.#streams < MAX_STREAMS) {
      const next = this.#waiting.shift();
      if (!next) return;
      const { batch, batchId } = next;
      const byId = new Map(batch.runs.filter((run) => run.id).map((run) => [run.id!, run]));
      this.#streams++;
      const watch = watchBatch(batchId, [...byId.keys()], (job) => {
        const run = byId.get(job.id);
        if (!run) return;
        run.job = job;
        if (job.status === "succeeded") void run.loadResult();
      });
      this.#stops.set(batch, watch.stop);
      void watch.done.then((last) => {
        this.#stops.delete(batch);
        if (this.batches.includes(batch)) {
          for (const [id, run] of byId) {
            const status = last.get(id)?.status;
            if (status !== "succeeded" && status !== "failed" && status !== "expired") run.watchError = t("jobText.watchFailed");
          }
        }
        this.#streams--;
        this.#pump();
      });
    }
  }
}

// Module-level, so results survive a visit to another page of the app.
export const toolRuns = new ToolRuns();
