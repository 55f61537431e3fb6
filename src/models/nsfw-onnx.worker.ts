import { serveTasks } from "../jobs/worker-main.js";
import { nsfwOnnxModel } from "./nsfw-onnx.js";

/**
 * Converts NSFWJS's model in a thread of its own that ends after: the conversion's garbage (about
 * 70 MB of base64, weights and copies) goes with the thread, instead of staying in the model
 * thread's heap, which allocates so little afterwards that its collector would rarely run.
 */
serveTasks(async () => {
  const model = nsfwOnnxModel();
  const own = model.byteOffset === 0 && model.byteLength === model.buffer.byteLength ? model : model.slice();
  return { value: own, transfer: [own.buffer as ArrayBuffer] };
});
