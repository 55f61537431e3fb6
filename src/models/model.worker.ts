import { serveTasks } from "../jobs/worker-main.js";
import { MODELS, type ModelHandler } from "./registry.js";

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
