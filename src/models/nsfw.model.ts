import type * as ort from "onnxruntime-node";
import { NSFW_CLASSES, type NsfwScores } from "../common/nsfw.js";
import { ThreadPool } from "../jobs/thread-pool.js";
import { NSFW_INPUT_SIZE } from "./nsfw.js";
import { createSession, runSession } from "./onnx.model.js";
import type { ModelHandler } from "./registry.js";

/** NSFWJS's model as an ONNX graph, converted in a short-lived thread (see nsfw-onnx.worker.ts). */
async function convertedModel(): Promise<Uint8Array> {
  const converter = new ThreadPool(ThreadPool.moduleNextTo(import.meta.url, "nsfw-onnx.worker"), 1);
  try {
    return await converter.run<Uint8Array>({}, { timeoutMs: 120_000 });
  } finally {
    await converter.close();
  }
}

/** 224×224 RGB bytes as the model takes them: NCHW floats scaled to [0, 1], as NSFWJS scales them. */
export function nsfwInput(pixels: Uint8Array): Float32Array {
  const plane = NSFW_INPUT_SIZE * NSFW_INPUT_SIZE;
  const out = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    out[i] = pixels[i * 3]! / 255;
    out[plane + i] = pixels[i * 3 + 1]! / 255;
    out[2 * plane + i] = pixels[i * 3 + 2]! / 255;
  }
  return out;
}

export const handler: ModelHandler<{ pixels: ArrayBuffer }, { scores: NsfwScores }, ort.InferenceSession> = {
  // Without the memory pattern (one block planned for all activations, kept) the session holds
  // about 20 MB less, for the same 5-6 ms an image.
  load: async () => createSession(await convertedModel(), { enableMemPattern: false }),
  async run(session, { pixels }) {
    const { data } = await runSession(session, nsfwInput(new Uint8Array(pixels)), [1, 3, NSFW_INPUT_SIZE, NSFW_INPUT_SIZE]);
    if (data.length !== NSFW_CLASSES.length) throw new Error(`the classifier gave ${data.length} scores, not ${NSFW_CLASSES.length}`);
    // The model's softmax answers in NSFWJS's class order.
    const scores = Object.fromEntries(NSFW_CLASSES.map((name, i) => [name, data[i]!])) as NsfwScores;
    return { value: { scores } };
  },
};
