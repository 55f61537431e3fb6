import { readlinkSync } from "node:fs";
import os from "node:os";
import { workerData } from "node:worker_threads";
import { serveTasks } from "../jobs/worker-main.js";
import type { ModelThreadData } from "./pool.js";
import { MODELS, type ModelHandler } from "./registry.js";

/**
 * Model threads run below the server's CPU priority (MODEL_NICE, Linux only; the threads ONNX
 * Runtime starts from this one inherit it): inference takes every idle cycle, and the event loop,
 * uploads and their image threads get a core the moment they want one instead of waiting for the
 * scheduler's next turn. Elsewhere, or where it is refused, the thread runs at the usual priority.
 */
function lowerPriority(nice: number): void {
  if (process.platform !== "linux" || nice <= 0) return;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").at(-1));
    if (Number.isInteger(tid) && os.getPriority(tid) < nice) os.setPriority(tid, nice);
  } catch {
    // No /proc, or a sandbox that forbids it: the usual priority.
  }
}

lowerPriority((workerData as ModelThreadData | undefined)?.nice ?? 0);

/** One model thread: loads each model it is asked for once and keeps it warm. */
const loaded = new Map<string, Promise<{ handler: ModelHandler; model: unknown }>>();

/** A model that could not be loaded here; the main thread answers it as `model_failed`. */
function loadError(name: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return Object.assign(new Error(`the model ${name} could not be loaded: ${message}`), { name: "ModelLoadError" });
}

function warm(name: string): Promise<{ handler: ModelHandler; model: unknown }> {
  let entry = loaded.get(name);
  if (!entry) {
    const known = MODELS[name];
    if (!known) return Promise.reject(loadError(name, "no such model"));
    entry = known
      .handler()
      .then(async (handler) => ({ handler, model: await handler.load() }))
      .catch((err: unknown) => {
        throw loadError(name, err);
      });
    // A model that failed to load is tried again by the next task, not remembered as broken.
    entry.catch(() => loaded.delete(name));
    loaded.set(name, entry);
  }
  return entry;
}

serveTasks(async (task: { model: string; input: unknown }) => {
  const { handler, model } = await warm(task.model);
  return handler.run(model, task.input);
});
