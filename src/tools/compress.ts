import fs from "node:fs/promises";
import { MAX_SEARCH_QUALITY, compressSpec } from "../common/tools/compress.js";
import { DEFAULT_QUALITY, type OutputFormat } from "../common/tools/encoding.js";
import type { ToolParams } from "../common/tools/tool.js";
import { decodeCost, decodeFailure } from "./decode.js";
import { canAnimate, checkEncoding, encode, targetFormat } from "./encode.js";
import { stripLosslessly } from "./strip.js";
import { type RawFrames, framesInput } from "./orient.js";
import type { ImageInput, ServerTool, ServerToolContext } from "./server-tool.js";
import { isAnimation, openUpright, uprightFrames } from "./source.js";

type CompressParams = ToolParams<typeof compressSpec>;

/** PNG is made smaller by palette quantisation, which is lossy; this is its quality when none is given. */
const PNG_QUALITY = 80;
/** log2 of the quality range: enough steps for the exact answer. */
const MAX_STEPS = 7;

export const compressTool: ServerTool<typeof compressSpec> = {
  spec: compressSpec,
  input: "image",
  prepare(input, params, ctx) {
    const format = targetFormat(params.format, input);
    checkEncoding(format, params);
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
          const kept = await originalIfSmaller(input, format, animated, bytes.length, Infinity, ctx);
          if (kept) return { files: [{ path: kept.file, format }], report: { format, quality: null, lossless: true, bytes: kept.bytes, inputBytes: input.bytes, keptOriginal: true, message: keptMessage(bytes.length) } };
          await fs.writeFile(file, bytes);
          return { files: [{ path: file, format }], report: { format, quality: quality ?? null, lossless: quality === undefined, bytes: bytes.length, inputBytes: input.bytes } };
        }
        const target = Math.floor(params.targetKB * 1000);
        const found = await searchQuality(encodeAt, target, params.minQuality, ctx);
        const kept = await originalIfSmaller(input, format, animated, found.bytes.length, target, ctx);
        if (kept) {
          return {
            files: [{ path: kept.file, format }],
            report: { format, targetBytes: target, reached: true, quality: null, bytes: kept.bytes, inputBytes: input.bytes, keptOriginal: true, message: keptMessage(found.bytes.length) },
          };
        }
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

/**
 * Compressing never hands back more than was sent: when the re-encoded file (`encodedBytes`) is no
 * smaller than the input, in the input's own format, the input's own data without its metadata
 * (turned losslessly if need be) is kept instead, if it is the smaller and fits `target`. An input
 * whose other frames the output would drop is not kept.
 */
async function originalIfSmaller(input: ImageInput, format: OutputFormat, animated: boolean, encodedBytes: number, target: number, ctx: ServerToolContext): Promise<{ file: string; bytes: number } | null> {
  if (format !== input.format || encodedBytes < input.bytes || (isAnimation(input) && !animated)) return null;
  const { file } = await stripLosslessly(input, ctx);
  if (!file) return null;
  const { size } = await fs.stat(file);
  return size < encodedBytes && size <= target ? { file, bytes: size } : null;
}

const keptMessage = (encodedBytes: number) =>
  `Re-encoding made the file larger (${encodedBytes} bytes) than it was: this is the original's own compressed data, with its metadata removed.`;

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
