import { AppError } from "../common/errors.js";
import type { Orientation } from "../common/jpeg/index.js";
import type { StrippableFormat } from "../common/metadata/index.js";
import { type PoolLoad, ThreadPool, WorkerTaskError, WorkerTimeoutError } from "../jobs/thread-pool.js";
import type { DecodedHeic, ImageTask, RotateReply, StripReply } from "./image.worker.js";

/** Typed front of the image worker threads; turns worker failures into Pixhaven errors. */
export class ImageWorkers {
  private readonly pool: ThreadPool;

  constructor(
    size: number,
    private readonly timeoutMs: number,
  ) {
    this.pool = new ThreadPool(ThreadPool.moduleNextTo(import.meta.url, "image.worker"), size);
  }

  /** Writes `input` without its metadata to `output`; null when the container cannot be rewritten. */
  async strip(input: string, output: string, format: StrippableFormat): Promise<StripReply | null> {
    try {
      return await this.run<StripReply>({ op: "strip", input, output, format });
    } catch (err) {
      if (err instanceof WorkerTaskError && err.errorName === "MalformedImageError") return null;
      throw err;
    }
  }

  /**
   * Writes the JPEG `input` turned upright for its EXIF orientation to `output`, losslessly and
   * without metadata; null when its MCU grid does not allow that, its coding is not supported or it
   * is corrupt: the caller then re-encodes, which also reports what is wrong with a broken file.
   * With `previewMinSide`, a picture whose longer side is at least that comes back with its 1/8-scale
   * preview (see transformJpegWithPreview).
   */
  async rotateJpeg(input: string, output: string, orientation: number, maxPixels: number, previewMinSide = Infinity): Promise<RotateReply> {
    if (!Number.isInteger(orientation) || orientation < 2 || orientation > 8) return null;
    try {
      return await this.run<RotateReply>({ op: "rotateJpeg", input, output, orientation: orientation as Orientation, maxPixels, previewMinSide });
    } catch (err) {
      if (err instanceof WorkerTaskError && err.errorName === "MalformedJpegError") return null;
      throw err;
    }
  }

  async decodeHeic(input: string): Promise<DecodedHeic> {
    try {
      // libheif's WebAssembly heap only grows (to ~25 bytes a pixel): the thread ends after each decode.
      return await this.run<DecodedHeic>({ op: "decodeHeic", input }, { recycle: true });
    } catch (err) {
      if (err instanceof WorkerTaskError) throw new AppError("invalid_image", 422, `The HEIC image could not be decoded: ${err.message}`);
      throw err;
    }
  }

  load(): PoolLoad {
    return this.pool.load();
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async run<T>(task: ImageTask, options: { recycle?: boolean } = {}): Promise<T> {
    try {
      return await this.pool.run<T>(task, { timeoutMs: this.timeoutMs, ...options });
    } catch (err) {
      if (err instanceof WorkerTimeoutError) throw new AppError("decode_timeout", 422, "The image took too long to process.");
      throw err;
    }
  }
}
