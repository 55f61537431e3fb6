import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { serveTasks } from "../jobs/worker-main.js";
import { nsfwOnnxModel } from "./nsfw-onnx.js";

/**
 * Converts NSFWJS's model in a thread of its own that ends after, and hands it over as a file:
 * the conversion's garbage (about 70 MB of base64, weights and copies) goes with this thread, and
 * ONNX Runtime reads the file itself, so the model thread's heap (which allocates so little later
 * that its collector rarely runs) never holds the model's 14 MB.
 */
serveTasks(async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-nsfw-"));
  const file = path.join(dir, "nsfw.onnx");
  await fs.writeFile(file, nsfwOnnxModel());
  return { value: file };
});
