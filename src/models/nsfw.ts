import { NSFW_CLASSES, type NsfwScores } from "../common/nsfw.js";
import { missingFiles } from "./packages.js";
import type { ModelThreads } from "./pool.js";

/**
 * The NSFW classifier, main-thread side: what it takes, whether its files are here, and the call.
 * The model itself (nsfw.model.ts) is loaded only inside a model thread.
 */
export const NSFW_MODEL = "nsfw";

/** NSFWJS's MobileNetV2 takes 224×224 RGB. */
export const NSFW_INPUT_SIZE = 224;

/** The bundled MobileNetV2 (about 3.5 MB of base64 weights in a CommonJS module), run on ONNX Runtime. */
export const NSFW_MODEL_FILES = ["dist/models/mobilenet_v2/model.min.js", "dist/models/mobilenet_v2/group1-shard1of1.min.js"] as const;

export async function probeNsfw(): Promise<string | null> {
  return missingFiles("nsfwjs", NSFW_MODEL_FILES);
}

/** One classification; `pixels` (224×224×3 RGB) is transferred to the thread, not copied. */
export async function classifyNsfw(models: ModelThreads, pixels: Uint8Array, timeoutMs: number, signal?: AbortSignal): Promise<NsfwScores> {
  if (pixels.length !== NSFW_INPUT_SIZE * NSFW_INPUT_SIZE * 3) throw new Error(`the classifier takes ${NSFW_INPUT_SIZE}×${NSFW_INPUT_SIZE} RGB`);
  // A view on a larger (pooled) buffer is copied out first: transferring would detach the pool.
  const own = pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength ? pixels : pixels.slice();
  const buffer = own.buffer as ArrayBuffer;
  const { scores } = await models.run<{ scores: NsfwScores }>(NSFW_MODEL, { pixels: buffer }, { timeoutMs, transfer: [buffer], ...(signal ? { signal } : {}) });
  for (const name of NSFW_CLASSES) if (typeof scores[name] !== "number") throw new Error(`the classifier gave no ${name} score`);
  return scores;
}
