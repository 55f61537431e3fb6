import { nsfwResult, nsfwSpec } from "../common/tools/nsfw.js";
import { NSFW_INPUT_SIZE, NSFW_MODEL, classifyNsfw } from "../models/nsfw.js";
import { decodeCost, decodeFailure } from "./decode.js";
import type { ServerTool } from "./server-tool.js";
import { openUpright } from "./source.js";

/** The model's own time on a warm thread is about 0.05 s; a cold thread loads it first (about 1.5 s). */
const MODEL_TIMEOUT_MS = 60_000;

/**
 * The picture as the classifier takes it: upright, squashed to 224×224 (NSFWJS resizes without
 * keeping the aspect ratio too), transparency on white, 8-bit RGB.
 */
export async function nsfwPixels(image: import("sharp").Sharp): Promise<Uint8Array> {
  const { data } = await image
    .resize(NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, { fit: "fill", kernel: "lanczos3" })
    .flatten({ background: "#ffffff" })
    .toColourspace("srgb")
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch(decodeFailure);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export const nsfwTool: ServerTool<typeof nsfwSpec> = {
  spec: nsfwSpec,
  input: "image",
  models: [NSFW_MODEL],
  prepare(input, _params, ctx) {
    return {
      memory: decodeCost(input.header, { kind: "preview", box: NSFW_INPUT_SIZE }) + NSFW_INPUT_SIZE * NSFW_INPUT_SIZE * 4,
      async run() {
        const pixels = await nsfwPixels(await openUpright(input, ctx));
        ctx.checkpoint(0.3);
        const scores = await classifyNsfw(ctx.models, pixels, MODEL_TIMEOUT_MS, ctx.signal);
        return { files: [], report: { ...nsfwResult(scores) } };
      },
    };
  },
};
