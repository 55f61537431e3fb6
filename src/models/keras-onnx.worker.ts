import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { serveTasks } from "../jobs/worker-main.js";
import { esrganOnnxModel } from "./esrgan-onnx.js";
import type { KerasModelTask } from "./keras-onnx-thread.js";
import { nsfwOnnxModel } from "./nsfw-onnx.js";

/**
 * Converts a shipped Keras model to ONNX in a thread of its own that ends after, and hands it over
 * as a file: the conversion's garbage (NSFWJS: about 70 MB of base64, weights and copies) goes with
 * this thread, and ONNX Runtime reads the file itself, so the model thread's heap (which allocates
 * so little later that its collector rarely runs) never holds the model's weights.
 */
serveTasks(async (task: KerasModelTask) => {
  const model = task.model === "nsfw" ? nsfwOnnxModel() : await esrganOnnxModel(task.size, task.scale);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-model-"));
  const file = path.join(dir, "model.onnx");
  await fs.writeFile(file, model);
  return { value: file };
});
