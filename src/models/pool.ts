import { availableParallelism } from "node:os";
import { AppError } from "../common/errors.js";
import { ThreadPool, WorkerTaskError, WorkerTimeoutError } from "../jobs/thread-pool.js";
import { MODELS } from "./registry.js";

/** Models stay loaded while used; an idle thread exits after this and returns their memory. */
const IDLE_MS = 10 * 60 * 1000;

/**
 * The model threads: WebAssembly gets no threads of its own in Node, so parallelism is one thread
 * per core (MODEL_WORKERS), each loading the models it is asked for once. A thread that crashes or
 * runs past its time limit is replaced; its task fails with a clear error.
 */
export class ModelThreads {
  private readonly pool: ThreadPool;
  private readonly probes = new Map<string, Promise<string | null>>();

  constructor(readonly size: number = availableParallelism()) {
    this.pool = new ThreadPool(ThreadPool.moduleNextTo(import.meta.url, "model.worker"), size, IDLE_MS);
  }

  /** Why `model` cannot run on this server, or null when it can; checked once (files only, no loading). */
  unavailable(model: string): Promise<string | null> {
    let probe = this.probes.get(model);
    if (!probe) {
      const entry = MODELS[model];
      probe = entry ? entry.probe().catch((err: Error) => err.message) : Promise.resolve(`no model named ${model}`);
      this.probes.set(model, probe);
    }
    return probe;
  }

  async run<T>(model: string, input: unknown, options: { timeoutMs: number; transfer?: ArrayBuffer[] }): Promise<T> {
    const reason = await this.unavailable(model);
    if (reason) throw new AppError("model_not_installed", 503, `The model for this tool is not installed on this server: ${reason}`);
    try {
      return await this.pool.run<T>({ model, input }, { timeoutMs: options.timeoutMs, ...(options.transfer ? { transfer: options.transfer } : {}) });
    } catch (err) {
      if (err instanceof WorkerTimeoutError) throw new AppError("model_timeout", 422, "The model took too long on this image; try a smaller one.");
      if (err instanceof WorkerTaskError && err.errorName === "AppError") throw new AppError("model_failed", 422, err.message);
      if (err instanceof WorkerTaskError || err instanceof Error) throw new AppError("model_failed", 500, `The model failed: ${err.message}`);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
