import { Worker } from "node:worker_threads";
import { postMoving } from "./post.js";

interface Task {
  id: number;
  message: unknown;
  transfer: readonly ArrayBuffer[];
  resolve(value: unknown): void;
  reject(err: Error): void;
  timeoutMs: number;
  /** end the worker after this task, so what it allocated (a WebAssembly heap only grows) is returned */
  recycle: boolean;
  /** may be inside native asynchronous work, which a terminated thread turns into a process abort */
  native: boolean;
}

interface Slot {
  worker: Worker;
  task: Task | null;
  timer: NodeJS.Timeout | null;
  /** the thread has ended (crashed, or exited on its own) */
  ended: boolean;
}

export interface PoolLoad {
  /** threads the pool may start */
  size: number;
  /** threads running now (busy or waiting for work) */
  started: number;
  /** threads working on a task */
  busy: number;
  /** tasks waiting for a thread */
  queued: number;
}

/** What a worker answers; `error.name` lets the caller rebuild domain errors. */
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { name: string; message: string } };

export class WorkerTaskError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = "WorkerTaskError";
  }
}

export class WorkerTimeoutError extends Error {}

const abortReason = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new Error("task abandoned"));

/** How long a retired thread may take to finish its native call before it is terminated anyway. */
const RETIRE_LIMIT_MS = 15 * 60_000;

/**
 * A small pool of worker threads running one module, so CPU-bound work (WebAssembly decoders, byte
 * walking over large files) never blocks the event loop. Workers start on demand, one task each at
 * a time; a task past its time limit has its worker terminated (the only way to stop WebAssembly)
 * and replaced; idle workers exit so their memory is returned. A task marked `native` may be inside
 * a native addon's asynchronous call (ONNX Runtime's): terminating its thread then would abort the
 * process when the call returns, so the thread is retired instead (the task fails now, a fresh
 * thread takes the queue) and terminated once it answers.
 *
 * The module is given without extension: `.js` when running built code, `.ts` (through tsx) when
 * running from sources in tests.
 */
export class ThreadPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly moduleUrl: URL,
    private readonly size: number,
    private readonly idleMs = 30_000,
    /** handed to every thread as its `workerData` */
    private readonly workerData?: unknown,
  ) {}

  /** What the pool is doing now: for /metrics. Threads start on demand and stop when idle. */
  load(): PoolLoad {
    const busy = this.slots.filter((slot) => slot.task !== null).length;
    return { size: this.size, started: this.slots.length, busy, queued: this.queue.length };
  }

  static moduleNextTo(baseUrl: string, name: string): URL {
    return new URL(`./${name}${baseUrl.endsWith(".ts") ? ".ts" : ".js"}`, baseUrl);
  }

  /**
   * Runs one task. With `signal`, a task whose caller gives up (a cancelled job) rejects at once: a
   * queued one leaves the queue, a running WebAssembly one has its thread terminated (and replaced
   * when needed), and a running native one (which a termination would turn into a process abort)
   * finishes unseen, its thread taking the next task afterwards.
   */
  run<T>(message: unknown, options: { timeoutMs: number; transfer?: readonly ArrayBuffer[]; recycle?: boolean; native?: boolean; signal?: AbortSignal }): Promise<T> {
    if (this.closed) return Promise.reject(new Error("thread pool closed"));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        id: this.nextId++,
        message,
        transfer: options.transfer ?? [],
        resolve: resolve as (v: unknown) => void,
        reject,
        timeoutMs: options.timeoutMs,
        recycle: options.recycle ?? false,
        native: options.native ?? false,
      };
      if (signal) {
        const abandon = () => this.abandon(task, abortReason(signal));
        signal.addEventListener("abort", abandon, { once: true });
        task.resolve = (value) => {
          signal.removeEventListener("abort", abandon);
          resolve(value as T);
        };
        task.reject = (err) => {
          signal.removeEventListener("abort", abandon);
          reject(err);
        };
      }
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** The caller gave the task up: see `run`. */
  private abandon(task: Task, reason: Error): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      task.reject(reason);
      return;
    }
    const slot = this.slots.find((s) => s.task === task);
    if (!slot) return; // already answered
    if (task.native) task.reject(reason); // its answer, when it comes, frees the thread
    else void this.stop(slot, reason);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const task of this.queue.splice(0)) task.reject(new Error("thread pool closed"));
    await Promise.all(this.slots.splice(0).map((slot) => this.stop(slot, new Error("thread pool closed"))));
  }

  private dispatch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => !s.task) ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.timer = setTimeout(() => void this.stop(slot, new WorkerTimeoutError(`worker task exceeded ${task.timeoutMs} ms`)), task.timeoutMs);
      postMoving(slot.worker, { id: task.id, message: task.message }, task.transfer);
    }
    if (this.slots.every((s) => !s.task)) {
      this.idleTimer = setTimeout(() => void Promise.all(this.slots.splice(0).map((s) => this.stop(s))), this.idleMs).unref();
    }
  }

  private spawn(): Slot {
    const worker = this.moduleUrl.pathname.endsWith(".ts")
      ? // Running from sources (tests, `npm run dev`): register tsx inside the thread first.
        new Worker(`import("tsx/esm/api").then((tsx) => tsx.register()).then(() => import(${JSON.stringify(this.moduleUrl.href)}))`, { eval: true, workerData: this.workerData })
      : new Worker(this.moduleUrl, { workerData: this.workerData });
    worker.unref();
    const slot: Slot = { worker, task: null, timer: null, ended: false };
    worker.on("message", (reply: WorkerReply) => {
      const task = slot.task;
      if (!task || task.id !== reply.id) return;
      this.finish(slot);
      const settle = () => {
        if (reply.ok) task.resolve(reply.value);
        else task.reject(new WorkerTaskError(reply.error.name, reply.error.message));
      };
      if (!task.recycle) {
        settle();
        this.dispatch();
        return;
      }
      // The answer waits until the worker is gone, so a caller that counts memory sees it returned.
      void this.stop(slot).then(settle);
    });
    worker.on("error", (err) => {
      slot.ended = true;
      void this.stop(slot, err);
    });
    worker.on("exit", () => {
      slot.ended = true;
      void this.stop(slot, new Error("worker exited unexpectedly"));
    });
    this.slots.push(slot);
    return slot;
  }

  private finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.task = null;
  }

  /** Removes a worker, failing its task (if any) with `reason`, and lets queued work go on. */
  private async stop(slot: Slot, reason?: Error): Promise<void> {
    const task = slot.task;
    this.finish(slot);
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    if (task) task.reject(reason ?? new Error("worker stopped"));
    if (task?.native && !slot.ended) {
      // Retired: a fresh thread takes the queue now; this one ends once its call has returned.
      const answered = this.answered(slot.worker);
      if (!this.closed) this.dispatch();
      await answered;
      await slot.worker.terminate();
      return;
    }
    await slot.worker.terminate();
    if (!this.closed) this.dispatch();
  }

  /** Resolves when the worker next answers or ends, or after RETIRE_LIMIT_MS at most. */
  private answered(worker: Worker): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        worker.off("message", done);
        worker.off("exit", done);
        resolve();
      };
      const timer = setTimeout(done, RETIRE_LIMIT_MS);
      worker.on("message", done);
      worker.on("exit", done);
    });
  }
}
