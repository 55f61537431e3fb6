import { serveTasks } from "../jobs/worker-main.js";
import { MODELS, type ModelHandler } from "./registry.js";

/** One model thread: loads each model it is asked for once and keeps it warm. */
const loaded = new Map<string, Promise<{ handler: ModelHandler; model: unknown }>>();

function warm(name: string): Promise<{ handler: ModelHandler; model: unknown }> {
  let entry = loaded.get(name);
  if (!entry) {
    const known = MODELS[name];
    if (!known) return Promise.reject(Object.assign(new Error(`unknown model ${name}`), { name: "ModelUnavailableError" }));
    entry = known.handler().then(async (handler) => ({ handler, model: await handler.load() }));
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
