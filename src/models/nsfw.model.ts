import type * as ort from "onnxruntime-node";
import { NSFW_CLASSES, type NsfwScores } from "../common/nsfw.js";
import { withConvertedModel } from "./keras-onnx-thread.js";
import { NSFW_INPUT_SIZE } from "./nsfw.js";
import { createSession, runSession } from "./onnx.model.js";
import type { ModelHandler } from "./registry.js";

async function loadSession(): Promise<ort.InferenceSession> {
  // NSFWJS's model, converted in a short-lived thread (see keras-onnx.worker.ts). The memory arena
  // stays on for this small model (about 40 MB held): without it every run maps and faults in its
  // activations afresh, which with the server's malloc settings (a 128 KiB mmap threshold) made a
  // 5 ms classification take 40-80 ms.
  return withConvertedModel({ model: "nsfw" }, (file) => createSession(file, { enableCpuMemArena: true, spinning: false }));
}

/**
 * 224×224 RGB bytes as the model takes them: NCHW floats scaled to [0, 1], as NSFWJS scales them.
 * Written into `out` when given (a thread's one input buffer: a fresh 600 KB array per image is a
 * fresh mapping and its page faults, with the server's mmap threshold).
 */
export function nsfwInput(pixels: Uint8Array, out: Float32Array<ArrayBuffer> = new Float32Array(NSFW_INPUT_SIZE * NSFW_INPUT_SIZE * 3)): Float32Array<ArrayBuffer> {
  const plane = NSFW_INPUT_SIZE * NSFW_INPUT_SIZE;
  for (let i = 0; i < plane; i++) {
    out[i] = pixels[i * 3]! / 255;
    out[plane + i] = pixels[i * 3 + 1]! / 255;
    out[2 * plane + i] = pixels[i * 3 + 2]! / 255;
  }
  return out;
}

let input: Float32Array<ArrayBuffer> | undefined;

export const handler: ModelHandler<{ pixels: ArrayBuffer }, { scores: NsfwScores }, ort.InferenceSession> = {
  load: loadSession,
  async run(session, { pixels }) {
    input = nsfwInput(new Uint8Array(pixels), input);
    const { data } = await runSession(session, input, [1, 3, NSFW_INPUT_SIZE, NSFW_INPUT_SIZE]);
    if (data.length !== NSFW_CLASSES.length) throw new Error(`the classifier gave ${data.length} scores, not ${NSFW_CLASSES.length}`);
    // The model's softmax answers in NSFWJS's class order.
    const scores = Object.fromEntries(NSFW_CLASSES.map((name, i) => [name, data[i]!])) as NsfwScores;
    return { value: { scores } };
  },
};
