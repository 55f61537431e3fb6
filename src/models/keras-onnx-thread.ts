import fs from "node:fs/promises";
import path from "node:path";
import { ThreadPool } from "../jobs/thread-pool.js";
import type { EsrganScale, EsrganSize } from "./esrgan-models.js";

/** Which shipped Keras model to convert (see keras-onnx.worker.ts). */
export type KerasModelTask = { model: "nsfw" } | { model: "esrgan"; size: EsrganSize; scale: EsrganScale };

/**
 * Converts the model in a short-lived thread and gives `use` the ONNX file, deleted once `use` is
 * done with it (ONNX Runtime reads it while making its session).
 */
export async function withConvertedModel<T>(task: KerasModelTask, use: (file: string) => Promise<T>): Promise<T> {
  const converter = new ThreadPool(ThreadPool.moduleNextTo(import.meta.url, "keras-onnx.worker"), 1);
  let file: string;
  try {
    file = await converter.run<string>(task, { timeoutMs: 300_000 });
  } finally {
    await converter.close();
  }
  try {
    return await use(file);
  } finally {
    await fs.rm(path.dirname(file), { recursive: true, force: true });
  }
}
