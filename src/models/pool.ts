import { availableParallelism } from "node:os";
import { AppError } from "../common/errors.js";
import { type PoolLoad, ThreadPool, WorkerTaskError, WorkerTimeoutError } from "../jobs/thread-pool.js";
import { MODELS, type ModelSettings } from "./registry.js";

/** Models stay loaded while used; an idle thread exits after this and returns their memory. */
const IDLE_MS = 10 * 60 * 1000;

/**
 * A model thread died under its task (killed, out of memory, an abort inside WebAssembly). Not an
 * AppError on purpose: the image is not at fault, so the job system tries the job again, on the
 * fresh thread the pool starts in its place.
 */
export class ModelThreadLostError extends Error {
  constructor(model: string, cause: Error) {
    super(`the thread running the model ${model} stopped: ${cause.message}`);
    this.name = "ModelThreadLostError";
  }
}

/** What every model thread is told when it starts (its `workerData`). */
export interface ModelThreadData {
  /** how many threads of its own a runtime may use in one model thread */
  computeThreads: number;
  /** how far the thread lowers its CPU priority (Linux nice) before loading anything */
  nice: number;
}

export interface ModelThreadsOptions {
  /** the thread module (tests give one that misbehaves); model.worker by default */
  module?: URL;
  idleMs?: number;
  /** where operator-supplied models lie (the configuration's paths) */
  settings?: ModelSettings;
  /** threads ONNX Runtime may use in each model thread; default: cores ÷ size */
  computeThreads?: number;
  /** Linux nice of the model threads and the runtime threads they start (MODEL_NICE; default 0) */
  nice?: number;
}

/**
 * The model threads: WebAssembly gets no threads of its own in Node, so parallelism is one thread
 * per core (MODEL_WORKERS), each loading the models it is asked for once. A thread that crashes or
 * runs past its time limit is replaced. Failures come back as: `model_not_installed` (503, the
 * files are missing: nothing is started), `model_failed` (503 when the model would not load, 422
 * when it refused the input, 500 when it threw), `model_timeout` (422), or ModelThreadLostError
 * (the thread died: worth another attempt).
 */
export class ModelThreads {
  private readonly pool: ThreadPool;
  private readonly probes = new Map<string, Promise<string | null>>();
  readonly settings: ModelSettings;

  constructor(
    readonly size: number = availableParallelism(),
    options: ModelThreadsOptions = {},
  ) {
    this.settings = options.settings ?? {};
    // The threads share the cores: ONNX Runtime, which would start a thread per core in every
    // model thread (MODEL_WORKERS × cores in all), gets each one's share.
    const threadData: ModelThreadData = { computeThreads: options.computeThreads ?? Math.max(1, Math.floor(availableParallelism() / size)), nice: options.nice ?? 0 };
    this.pool = new ThreadPool(options.module ?? ThreadPool.moduleNextTo(import.meta.url, "model.worker"), size, options.idleMs ?? IDLE_MS, threadData);
  }

  /** Why `model` cannot run on this server, or null when it can; checked once (files only, no loading). */
  unavailable(model: string): Promise<string | null> {
    let probe = this.probes.get(model);
    if (!probe) {
      const entry = MODELS[model];
      probe = entry ? entry.probe(this.settings).catch((err: Error) => err.message) : Promise.resolve(`no model named ${model}`);
      this.probes.set(model, probe);
    }
    return probe;
  }

  /** With `signal`, a cancelled job's call is given up at once (ThreadPool.run): it rejects with the signal's reason. */
  async run<T>(model: string, input: unknown, options: { timeoutMs: number; transfer?: ArrayBuffer[]; signal?: AbortSignal }): Promise<T> {
    const reason = await this.unavailable(model);
    if (reason) throw new AppError("model_not_installed", 503, `The model for this tool is not installed on this server: ${reason}`);
    const { signal } = options;
    try {
      return await this.pool.run<T>({ model, input }, { timeoutMs: options.timeoutMs, native: MODELS[model]?.native ?? false, ...(options.transfer ? { transfer: options.transfer } : {}), ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw err;
      if (err instanceof WorkerTimeoutError) throw new AppError("model_timeout", 422, "The model took too long on this image; try a smaller one.");
      if (err instanceof WorkerTaskError) {
        if (err.errorName === "ModelLoadError") throw new AppError("model_failed", 503, `The model for this tool failed to load on this server: ${err.message}`);
        if (err.errorName === "AppError") throw new AppError("model_failed", 422, err.message);
        throw new AppError("model_failed", 500, `The model failed: ${err.message}`);
      }
      if (err instanceof Error) throw new ModelThreadLostError(model, err);
      throw err;
    }
  }

  load(): PoolLoad {
    return this.pool.load();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
