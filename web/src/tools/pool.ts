/**
 * A pool of module web workers, one per core by default, behind one bridge: `run` sends a job to
 * the next free web worker and resolves with its reply. Cancelling (an AbortSignal) drops a job that
 * is still queued; a job already running cannot be interrupted inside WebAssembly, so its web
 * worker is terminated and replaced, which frees its memory at once.
 */
import { DeviceFailure } from "./problems.js";
import type { EncodeFormat, WorkerJob, WorkerReply } from "./protocol.js";

interface Task {
  job: WorkerJob;
  transfer: Transferable[];
  signal: AbortSignal | undefined;
  onProgress: ((fraction: number) => void) | undefined;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

interface Slot {
  worker: Worker;
  task: Task | null;
  id: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  transfer?: Transferable[];
}

export class AbortError extends Error {
  constructor() {
    super("Cancelled.");
    this.name = "AbortError";
  }
}

/** Web workers to run at once: the cores the browser reports, bounded for memory; `?workers=N` overrides (measurements). */
export function defaultPoolSize(): number {
  const asked = Number(new URLSearchParams(location.search).get("workers"));
  if (Number.isInteger(asked) && asked >= 1 && asked <= 32) return asked;
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 8));
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;

  constructor(
    private readonly create: () => Worker,
    readonly size: number,
  ) {}

  run<R>(job: WorkerJob, options: RunOptions = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted) return reject(new AbortError());
      const task: Task = { job, transfer: options.transfer ?? [], signal, onProgress: options.onProgress, resolve: resolve as (v: unknown) => void, reject };
      signal?.addEventListener("abort", () => this.cancel(task), { once: true });
      this.queue.push(task);
      this.pump();
    });
  }

  /** Starts every web worker and loads the given encoders in each, ahead of the first file. */
  warm(formats: EncodeFormat[], heic = false): Promise<void> {
    while (this.slots.length < this.size) this.slots.push(this.spawn());
    return Promise.all(this.slots.map((slot) => this.direct(slot, { kind: "warm", formats, heic }))).then(() => undefined);
  }

  close(): void {
    for (const task of this.queue.splice(0)) task.reject(new AbortError());
    for (const slot of this.slots.splice(0)) {
      slot.task?.reject(new AbortError());
      slot.worker.terminate();
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: this.create(), task: null, id: 0 };
    slot.worker.onmessage = (e: MessageEvent<WorkerReply>) => this.reply(slot, e.data);
    slot.worker.onerror = (e) => {
      e.preventDefault();
      this.fail(slot, new DeviceFailure({ code: "workerStopped", detail: e.message ?? "" }));
    };
    return slot;
  }

  /** Warm-up messages bypass the queue: they carry no picture and must reach every web worker. */
  private direct(slot: Slot, job: WorkerJob): Promise<void> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      const listener = (e: MessageEvent<WorkerReply>) => {
        if (e.data.id !== id || "progress" in e.data) return;
        slot.worker.removeEventListener("message", listener);
        resolve();
      };
      slot.worker.addEventListener("message", listener);
      slot.worker.postMessage({ id, job });
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.task === null);
      if (!slot && this.slots.length < this.size) {
        slot = this.spawn();
        this.slots.push(slot);
      }
      if (!slot) return;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.id = this.nextId++;
      slot.worker.postMessage({ id: slot.id, job: task.job }, task.transfer);
    }
  }

  private reply(slot: Slot, message: WorkerReply): void {
    const task = slot.task;
    if (!task || message.id !== slot.id) return;
    if ("progress" in message) {
      task.onProgress?.(message.progress);
      return;
    }
    slot.task = null;
    if (message.ok) task.resolve(message.result);
    else task.reject(new DeviceFailure(message.problem));
    this.pump();
  }

  private fail(slot: Slot, error: DeviceFailure): void {
    const task = slot.task;
    this.replace(slot);
    task?.reject(error);
    this.pump();
  }

  private cancel(task: Task): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      task.reject(new AbortError());
      return;
    }
    const slot = this.slots.find((s) => s.task === task);
    if (!slot) return;
    this.replace(slot);
    task.reject(new AbortError());
    this.pump();
  }

  private replace(slot: Slot): void {
    slot.worker.terminate();
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
  }
}

let shared: WorkerPool | undefined;

/** The pool every browser tool shares, created on first use. */
export function imagePool(): WorkerPool {
  shared ??= new WorkerPool(() => new Worker(new URL("./image.worker.ts", import.meta.url), { type: "module", name: "pixhaven-image" }), defaultPoolSize());
  return shared;
}
