import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { AppError } from "../common/errors.js";

export interface RawImage {
  width: number;
  height: number;
  data: Uint8Array; // RGBA
}

const heicDecodePath = createRequire(import.meta.url).resolve("heic-decode");

// Plain CommonJS so it runs the same from src/ (tests) and dist/ (built): no TypeScript in a worker.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const decode = require(${JSON.stringify(heicDecodePath)});
parentPort.on("message", async ({ id, buffer }) => {
  try {
    const image = await decode({ buffer: new Uint8Array(buffer) });
    const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    parentPort.postMessage({ id, width: image.width, height: image.height, data }, [data.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

interface Pending {
  resolve(image: RawImage): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * HEIC/HEIF decoding with libheif compiled to WebAssembly, in a worker thread so a
 * half-second decode never blocks the event loop. The worker is started on demand and stopped
 * when idle, because the WebAssembly heap only grows.
 */
export class HeicDecoder {
  private worker: Worker | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timeoutMs: number,
    private readonly idleMs = 30_000,
  ) {}

  decode(bytes: Uint8Array): Promise<RawImage> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<RawImage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AppError("decode_timeout", 422, "The HEIC image took too long to decode."));
        this.restart();
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const copy = bytes.slice(); // transfer a private copy; the caller keeps its buffer
      worker.postMessage({ id, buffer: copy.buffer }, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = null;
    this.failAll(new Error("HEIC decoder closed"));
    if (worker) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on("message", (msg: { id: number; error?: string } & RawImage) => {
      const job = this.pending.get(msg.id);
      if (!job) return;
      this.pending.delete(msg.id);
      clearTimeout(job.timer);
      if (msg.error) job.reject(new AppError("invalid_image", 422, `The HEIC image could not be decoded: ${msg.error}`));
      else job.resolve({ width: msg.width, height: msg.height, data: msg.data });
      if (this.pending.size === 0) this.idleTimer = setTimeout(() => void this.restart(), this.idleMs).unref();
    });
    worker.on("error", (err) => {
      this.failAll(new AppError("invalid_image", 422, `The HEIC image could not be decoded: ${err.message}`));
    });
    worker.on("exit", () => {
      if (this.worker === worker) this.worker = null;
      this.failAll(new AppError("invalid_image", 422, "The HEIC decoder stopped while decoding this image."));
    });
    this.worker = worker;
    return worker;
  }

  private restart(): void {
    this.failAll(new AppError("decode_timeout", 422, "The HEIC decoder was restarted."));
    const worker = this.worker;
    this.worker = null;
    if (worker) void worker.terminate();
  }

  private failAll(err: Error): void {
    for (const job of this.pending.values()) {
      clearTimeout(job.timer);
      job.reject(err);
    }
    this.pending.clear();
  }
}
