import fs from "node:fs/promises";
import { compressSpec } from "../common/tools/compress.js";
import { DEFAULT_QUALITY, type OutputFormat } from "../common/tools/encoding.js";
import type { ToolParams } from "../common/tools/tool.js";
import { decodeCost, decodeFailure } from "./decode.js";
import { canAnimate, checkEncoding, encode, invalidParam, targetFormat } from "./encode.js";
import { type RawFrames, framesInput } from "./orient.js";
import type { ImageInput, ServerTool, ServerToolContext } from "./server-tool.js";
import { isAnimation, openUpright, uprightFrames } from "./source.js";

type CompressParams = ToolParams<typeof compressSpec>;

/** PNG is made smaller by palette quantisation, which is lossy; this is its quality when none is given. */
const PNG_QUALITY = 80;
/** Above this, lossy codecs grow fast for no visible gain: the search never goes higher. */
const MAX_SEARCH_QUALITY = 95;
/** log2 of the quality range: enough steps for the exact answer. */
const MAX_STEPS = 7;

export const compressTool: ServerTool<typeof compressSpec> = {
  spec: compressSpec,
  input: "image",
  prepare(input, params, ctx) {
    const format = targetFormat(params.format, input);
    checkEncoding(format, params);
    if (params.targetKB !== undefined && params.minQuality > MAX_SEARCH_QUALITY) throw invalidParam("minQuality", `is at most ${MAX_SEARCH_QUALITY} with a target size.`);
    const animated = isAnimation(input) && canAnimate(format);
    return {
      // The decoded picture, plus the encoded candidate kept while the next is tried.
      memory: decodeCost(input.header, { kind: "reencode" }) + input.header.width * input.header.height * input.header.frames,
      async run() {
        const frames = animated ? await uprightFrames(input, ctx) : undefined;
        const encodeAt = (quality: number | undefined) => encodeOnce(input, frames, format, { ...params, quality }, ctx);
        const file = await ctx.scratch("out");
        if (params.targetKB === undefined) {
          const quality = params.lossless ? undefined : (params.quality ?? defaultQuality(format));
          const bytes = await encodeAt(quality);
          await fs.writeFile(file, bytes);
          return { files: [{ path: file, format }], report: { format, quality: quality ?? null, lossless: quality === undefined, bytes: bytes.length, inputBytes: input.bytes } };
        }
        const target = Math.floor(params.targetKB * 1000);
        const found = await searchQuality(encodeAt, target, params.minQuality, ctx);
        await fs.writeFile(file, found.bytes);
        return {
          files: [{ path: file, format }],
          report: {
            format,
            targetBytes: target,
            reached: found.reached,
            quality: found.quality,
            bytes: found.bytes.length,
            inputBytes: input.bytes,
            ...(found.reached ? {} : { message: `Even at the minimum quality (${params.minQuality}) the file is ${found.bytes.length} bytes; this is the smallest it gets.` }),
          },
        };
      },
    };
  },
};

function defaultQuality(format: OutputFormat): number | undefined {
  return format === "png" ? PNG_QUALITY : DEFAULT_QUALITY[format];
}

async function encodeOnce(input: ImageInput, frames: RawFrames | undefined, format: OutputFormat, params: CompressParams, ctx: ServerToolContext): Promise<Buffer> {
  const image = frames ? framesInput(frames) : await openUpright(input, ctx);
  return encode(image, format, params, input.header).toBuffer().catch(decodeFailure);
}

/** The highest quality whose file fits `target` bytes, by bisection; the smallest file when none fits. */
async function searchQuality(encodeAt: (quality: number) => Promise<Buffer>, target: number, minQuality: number, ctx: ServerToolContext) {
  let low = minQuality;
  let high = MAX_SEARCH_QUALITY;
  let best: { quality: number; bytes: Buffer } | undefined;
  let smallest: { quality: number; bytes: Buffer } | undefined;
  for (let step = 0; step <= MAX_STEPS && low <= high; step++) {
    ctx.checkpoint(0.1 + (0.8 * step) / (MAX_STEPS + 1));
    const quality = Math.floor((low + high) / 2);
    const bytes = await encodeAt(quality);
    if (!smallest || bytes.length < smallest.bytes.length) smallest = { quality, bytes };
    if (bytes.length <= target) {
      best = { quality, bytes };
      low = quality + 1;
    } else {
      high = quality - 1;
    }
  }
  if (best) return { ...best, reached: true };
  // Nothing fitted: the search went down to the minimum, unless it ran out of steps first.
  if (!smallest || smallest.quality !== minQuality) smallest = { quality: minQuality, bytes: await encodeAt(minQuality) };
  return { ...smallest, reached: false };
}
