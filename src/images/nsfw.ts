import type { Readable } from "node:stream";
import { AppError } from "../common/errors.js";
import { type NsfwScores, nsfwResult } from "../common/nsfw.js";
import type { BlobStore } from "../storage/blob-store.js";
import { type DecodeLimits, openUntrusted } from "../tools/decode.js";
import { nsfwPixels } from "../tools/nsfw.js";
import type { ImageRepository } from "./repository.js";

/** The classifier itself: 224×224 RGB in, five probabilities out (the model threads, or a test's stand-in). */
export type ClassifyPixels = (pixels: Uint8Array) => Promise<NsfwScores>;

export interface NsfwClassificationDeps {
  repo: ImageRepository;
  blobs: BlobStore;
  classify: ClassifyPixels;
  limits: DecodeLimits;
  /** classifications at once in this process */
  concurrency: number;
  log: { warn(obj: object, msg: string): void };
}

/** Images waiting in memory at most; past it, new ones are left to the sweep. */
const MAX_WAITING = 1000;
/** Images one sweep looks at. */
const SWEEP_BATCH = 200;

/**
 * P9: every hosted image is classified after it is stored, never before: the upload has answered
 * by then, so a slow or missing classifier delays nothing and loses nothing. Stored images wait in
 * a bounded in-process queue; the sweep (a scheduled rule, run once per cluster) classifies any
 * row still without a result, so images queued by a process that stopped, or uploaded while the
 * model was unavailable, are classified later. The classifier reads the stored thumbnail (at most
 * 400 px, already stripped), so the original is never decoded twice.
 */
export class NsfwClassification {
  private readonly waiting: string[] = [];
  /** queued or running here: the sweep leaves them alone */
  private readonly pending = new Set<string>();
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly deps: NsfwClassificationDeps) {}

  /** Called once an image is stored; returns at once. */
  enqueue(id: string): void {
    if (this.closed || this.pending.has(id) || this.waiting.length >= MAX_WAITING) return;
    this.pending.add(id);
    this.waiting.push(id);
    this.pump();
  }

  /** Classifies stored images that have no result yet; returns how many it classified. */
  async sweep(): Promise<number> {
    let classified = 0;
    for (const row of await this.deps.repo.findUnclassified(SWEEP_BATCH)) {
      if (this.closed) break;
      if (this.pending.has(row.id) || !row.thumb_key) continue;
      this.pending.add(row.id);
      try {
        await this.classify(row.id, row.thumb_key);
        classified++;
      } catch (err) {
        this.deps.log.warn({ err: errorSummary(err) }, "nsfw classification failed; the next sweep tries again");
        // The model is missing or down: every other row would fail the same way.
        if (err instanceof AppError && (err.code === "model_not_installed" || err.status === 503)) break;
      } finally {
        this.pending.delete(row.id);
      }
    }
    return classified;
  }

  /** Resolves once nothing is queued or running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking work; what was still waiting is left to the sweep. What is running ends when the
   * model threads close (their tasks fail); `idle()` then says when nothing touches the database.
   */
  stop(): void {
    this.closed = true;
    for (const id of this.waiting.splice(0)) this.pending.delete(id);
    if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private pump(): void {
    while (this.running < this.deps.concurrency && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      this.running++;
      void this.classifyStored(id).finally(() => {
        this.pending.delete(id);
        this.running--;
        this.pump();
        if (this.running === 0 && this.waiting.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  private async classifyStored(id: string): Promise<void> {
    try {
      const row = await this.deps.repo.find(id);
      if (row?.status !== "active" || !row.thumb_key || row.nsfw_label) return;
      await this.classify(id, row.thumb_key);
    } catch (err) {
      this.deps.log.warn({ err: errorSummary(err) }, "nsfw classification failed; the sweep tries again");
    }
  }

  private async classify(id: string, thumbKey: string): Promise<void> {
    const thumb = await readAll(await this.deps.blobs.get(thumbKey));
    const scores = await this.deps.classify(await nsfwPixels(openUntrusted(thumb, this.deps.limits)));
    const result = nsfwResult(scores);
    await this.deps.repo.setNsfw(id, { label: result.label, score: result.score, scores: JSON.stringify(result.scores) });
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Logs say what failed, never which image (ids are share links). */
function errorSummary(err: unknown): { code?: string; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}
