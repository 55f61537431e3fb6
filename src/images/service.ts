import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Clock } from "../common/clock.js";
import { accountGone, AppError, gone, notFound } from "../common/errors.js";
import { Semaphore } from "../common/semaphore.js";
import type { ImageRow } from "../db/schema.js";
import type { MemoryBudget } from "../tools/memory-budget.js";
import { type BlobStore, BlobNotFoundError, type ByteRange } from "../storage/blob-store.js";
import { sanitiseFilename } from "./filename.js";
import type { ImageWorkers } from "./workers.js";
import { hashToken, isShareId, newDeleteToken, newShareId, type ShareId, tokenMatches } from "../ids.js";
import { type PipelineLimits, processImage } from "./pipeline.js";
import type { ImageRepository } from "./repository.js";
import type { ViewCounter } from "./views.js";
import { writeNewFile } from "../storage/temp-dir.js";

export interface UploadedImage {
  image: ImageRow;
  deleteToken: string;
}

export interface ImageServiceDeps {
  repo: ImageRepository;
  blobs: BlobStore;
  clock: Clock;
  workers: ImageWorkers;
  views: ViewCounter;
  /** this process's own temp folder (see storage/temp-dir.ts); nothing else writes in it */
  tmpDir: string;
  limits: PipelineLimits;
  budget: MemoryBudget;
  maxUploadBytes: number;
  concurrency: number;
  /** P9: told of each image once it is stored; classifies it later, never delaying the upload */
  classification?: { enqueue(id: string): void };
}

/** No upload takes this long; a row still pending after it belongs to a process that died. */
export const ABANDONED_UPLOAD_AFTER_MS = 60 * 60 * 1000;
/** Images one step of a purge removes before it looks again. */
const PURGE_BATCH = 200;

/** Hosting: upload, look up, count views, serve bytes and delete. Knows nothing of HTTP. */
export class ImageService {
  private readonly processing: Semaphore;

  constructor(private readonly deps: ImageServiceDeps) {
    this.processing = new Semaphore(deps.concurrency);
  }

  /**
   * Streams the upload to a temp file, failing the moment it passes MAX_UPLOAD_BYTES, waits for
   * `restOfRequest` (which may refuse what followed the file), processes it, then moves the result into
   * storage. Whatever fails, no temp file, blob or row is left behind;
   * should the process die while storing, the row is still "pending" and the purge removes it and
   * its blobs (purgeAbandonedUploads).
   */
  async upload(source: Readable, clientFilename: string | undefined, ownerId: string | null = null, restOfRequest?: () => Promise<void>): Promise<UploadedImage> {
    const { repo, blobs, clock, tmpDir } = this.deps;
    const work = path.join(tmpDir, randomBytes(12).toString("hex"));
    const input = `${work}.in`;
    const stored: string[] = [];
    let pendingId: string | null = null;
    try {
      await writeNewFile(input, source, byteLimit(this.deps.maxUploadBytes));
      await restOfRequest?.(); // the rest of the request is as it should be: nothing is made before
      const result = await this.processing.run(() => processImage(input, work, { limits: this.deps.limits, workers: this.deps.workers, budget: this.deps.budget }));
      const id = await this.unusedShareId();
      const blobKey = `img/${id.slice(0, 2)}/${id}.${result.ext}`;
      const thumbKey = `thumb/${id.slice(0, 2)}/${id}.webp`;
      const deleteToken = newDeleteToken();
      const row: ImageRow = {
        id,
        status: "pending",
        delete_token_hash: hashToken(deleteToken),
        owner_id: ownerId,
        mime: result.mime,
        ext: result.ext,
        width: result.width,
        height: result.height,
        frames: result.frames,
        bytes: result.bytes,
        etag: result.etag,
        blob_key: blobKey,
        thumb_key: thumbKey,
        thumbhash: result.thumbhash,
        original_name: sanitiseFilename(clientFilename),
        views: 0,
        created_at: clock.now(),
        last_viewed_at: null,
        deleted_at: null,
        nsfw_label: null,
        nsfw_score: null,
        nsfw_scores: null,
      };
      await repo.insert(row);
      pendingId = id;
      stored.push(blobKey, thumbKey);
      await blobs.putFile(blobKey, result.path, result.mime);
      await blobs.putFile(thumbKey, result.thumbPath, "image/webp");
      if (!(await repo.activate(id))) throw accountGone();
      pendingId = null;
      stored.length = 0; // committed: keep the blobs
      this.deps.classification?.enqueue(id);
      return { image: { ...row, status: "active" }, deleteToken };
    } finally {
      await Promise.all(stored.map((key) => blobs.delete(key).catch(() => undefined)));
      if (pendingId) await repo.remove(pendingId).catch(() => undefined);
      await removeWorkFiles(work);
    }
  }

  /** The image, or the same 404 whatever the shape of the id; 410 for a deleted one. */
  async get(id: string): Promise<ImageRow> {
    const row = isShareId(id) ? await this.deps.repo.find(id) : undefined;
    if (!row || row.status === "pending") throw notFound();
    if (row.status !== "active") throw gone();
    return row;
  }

  async recordView(row: ImageRow, ip: string, userAgent: string | undefined): Promise<void> {
    if (!this.deps.views.shouldCount(row.id, ip, userAgent)) return;
    await this.deps.repo.addView(row.id, this.deps.clock.now());
  }

  async openRaw(row: ImageRow, range?: ByteRange): Promise<Readable> {
    return this.openBlob(row.blob_key, range);
  }

  async openThumb(row: ImageRow): Promise<Readable> {
    return this.openBlob(row.thumb_key);
  }

  /** Removes the bytes at once; a tombstone row stays until the tombstone retention ends. */
  async delete(id: string, token: string | undefined): Promise<void> {
    const row = await this.get(id);
    if (!token || !row.delete_token_hash || !tokenMatches(token, row.delete_token_hash)) {
      throw new AppError("invalid_delete_token", 403, "The deletion token does not match this image.");
    }
    if (!(await this.erase(row))) throw gone();
  }

  /** A moderator's removal (a report upheld): as a deletion, without the token. False when it was gone already. */
  async takeDown(id: string): Promise<boolean> {
    const row = await this.deps.repo.find(id);
    return row !== undefined && this.erase(row);
  }

  /** 66 random bits make a collision astronomically unlikely; still, never overwrite one. */
  private async unusedShareId(): Promise<ShareId> {
    for (;;) {
      const id = newShareId();
      if (!(await this.deps.repo.find(id))) return id;
    }
  }

  /** Removes uploads left "pending" for longer than any upload takes, with whatever blobs they have. */
  async purgeAbandonedUploads(olderThanMs: number): Promise<number> {
    const abandoned = await this.deps.repo.findAbandoned(this.deps.clock.now() - olderThanMs);
    for (const row of abandoned) {
      await this.removeBlobs(row);
      await this.deps.repo.remove(row.id);
    }
    return abandoned.length;
  }

  /**
   * P12: images nobody has viewed for `retentionMs` (since their upload, if ever) leave storage as a
   * deleted one does; their id answers 410 until the tombstone is purged.
   */
  async purgeUnviewed(retentionMs: number): Promise<number> {
    const before = this.deps.clock.now() - retentionMs;
    let removed = 0;
    for (;;) {
      const rows = await this.deps.repo.findUnviewed(before, PURGE_BATCH);
      // One viewed or deleted meanwhile is left alone.
      for (const row of rows) if (await this.erase(row, before)) removed++;
      if (rows.length < PURGE_BATCH) return removed;
    }
  }

  async purgeTombstones(retentionMs: number): Promise<number> {
    return this.deps.repo.purgeTombstones(this.deps.clock.now() - retentionMs);
  }

  /**
   * Leaves the tombstone, then removes the bytes (the row first, so no one is served a file being
   * deleted); false when the image was no longer active (or, with `unviewedBefore`, was viewed since).
   */
  private async erase(row: Pick<ImageRow, "id" | "blob_key" | "thumb_key">, unviewedBefore?: number): Promise<boolean> {
    if (!(await this.deps.repo.markDeleted(row.id, this.deps.clock.now(), unviewedBefore))) return false;
    await this.removeBlobs(row);
    return true;
  }

  private async removeBlobs(row: Pick<ImageRow, "blob_key" | "thumb_key">): Promise<void> {
    await Promise.all([row.blob_key, row.thumb_key].filter((k): k is string => !!k).map((k) => this.deps.blobs.delete(k)));
  }

  private async openBlob(key: string | null, range?: ByteRange): Promise<Readable> {
    if (!key) throw gone();
    try {
      return await this.deps.blobs.get(key, range);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw gone();
      throw err;
    }
  }
}

/** Fails the upload the moment it passes the limit, before the rest is read or written. */
function byteLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > max) done(new AppError("payload_too_large", 413, `The file is larger than the upload limit of ${max} bytes.`));
      else done(null, chunk);
    },
  });
}

async function removeWorkFiles(work: string): Promise<void> {
  await Promise.all([".in", ".out", ".thumb.webp"].map((suffix) => fs.rm(work + suffix, { force: true })));
}
