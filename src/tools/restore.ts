import sharp from "sharp";
import { AppError } from "../common/errors.js";
import { RESTORE_SECONDS_PER_MEGAPIXEL } from "../common/tools/cost.js";
import { restoreSpec } from "../common/tools/restore.js";
import type { ToolParams } from "../common/tools/tool.js";
import { MAXIM_DENOISE_MODEL, MAXIM_MULTIPLE } from "../models/maxim-models.js";
import { decodeCost, decodeFailure } from "./decode.js";
import { checkEncoding, encode, invalidParam, targetFormat } from "./encode.js";
import type { ServerTool } from "./server-tool.js";
import { openUpright, uprightSize } from "./source.js";
import { type Region, decodeRgb, withAlpha, writeEncoded } from "./upscale.js";
import { planTiles, runTiled } from "./upscale-tiles.js";

type RestoreParams = ToolParams<typeof restoreSpec>;

/**
 * AI tiles: 256 pixels each seeing 32 more on every side, grown to the model's multiple of 64 (a
 * 500×500 picture is four tiles of 320×320). A tile of 320² holds about 0.6 GB in its thread,
 * against 1.8 GB for a whole 512² picture, and the tiles run on every model thread at once.
 */
export const RESTORE_AI_TILE = 256;
export const RESTORE_AI_MARGIN = 32;
/** One tile of 320² takes about 75 s on one core; a slow or busy core gets ample room. */
const AI_TILE_TIMEOUT_MS = 15 * 60_000;
/** MAXIM's cost, measured: about 0.75 ms of one core per pixel it sees. */
const AI_SECONDS_PER_PIXEL = RESTORE_SECONDS_PER_MEGAPIXEL.ai / 1e6;

export const restoreTool: ServerTool<typeof restoreSpec> = {
  spec: restoreSpec,
  input: "image",
  prepare(input, params, ctx) {
    const format = targetFormat(params.format, input);
    checkEncoding(format, params);
    const upright = uprightSize(input);
    const region = params.rect ? checkedRegion(params.rect, upright) : undefined;
    const size = region ?? upright;
    const pixels = size.width * size.height;
    const suffix = region ? `${region.width}x${region.height}` : "restored";
    if (params.mode === "fast") {
      return {
        // The decoded picture, and the filtered copy libvips holds for the median's window.
        memory: decodeCost(input.header, { kind: "reencode" }) + pixels * 4 * 2,
        async run() {
          let image = await openUpright(input, ctx);
          if (region) image = image.extract({ left: region.x, top: region.y, width: region.width, height: region.height });
          ctx.checkpoint(0.2);
          const file = await ctx.scratch("out");
          // The filters keep 16 bits a sample, and so does a lossless PNG of them.
          await encode(fastFilters(image, params, size), format, params, input.header).toFile(file).catch(decodeFailure);
          return { files: [{ path: file, format, suffix }], report: { mode: "fast", width: size.width, height: size.height } };
        },
      };
    }

    const cap = ctx.limits.maxModelPixels;
    if (pixels > cap) {
      const side = Math.floor(Math.sqrt(cap));
      throw new AppError(
        "too_many_pixels",
        413,
        `The ai mode takes at most ${cap} pixels (about ${Math.round(cap * AI_SECONDS_PER_PIXEL)} s of one core; RESTORE_MAX_PIXELS); ` +
          `this ${region ? "rectangle" : "picture"} is ${size.width}×${size.height} (${pixels} pixels). Choose a rectangle (rect) of at most ${cap} pixels, e.g. ${side}×${side}, or use the fast mode.`,
      );
    }
    const tiles = planTiles(size.width, size.height, RESTORE_AI_TILE, RESTORE_AI_MARGIN, MAXIM_MULTIPLE);
    const threads = Math.max(1, ctx.models.size);
    // What the model will see (tiles overlap, sides round up to 64), spread over the threads.
    const seen = tiles.reduce((sum, t) => sum + roundUp(t.seen.width) * roundUp(t.seen.height), 0);
    const expectedSeconds = (seen * AI_SECONDS_PER_PIXEL) / Math.min(threads, tiles.length);
    return {
      memory: decodeCost(input.header, { kind: "reencode" }) + pixels * 4 * 3 + threads * 2 * (RESTORE_AI_TILE + 2 * RESTORE_AI_MARGIN) ** 2 * 3,
      async run() {
        const started = performance.now();
        const { rgb, alpha } = await decodeRgb(input, ctx, region);
        ctx.checkpoint(0.05);
        const result = await runTiled(rgb, {
          models: ctx.models,
          model: MAXIM_DENOISE_MODEL,
          scale: 1,
          tile: RESTORE_AI_TILE,
          margin: RESTORE_AI_MARGIN,
          align: MAXIM_MULTIPLE,
          concurrency: threads,
          timeoutMs: AI_TILE_TIMEOUT_MS,
          onTile: (done, total) => ctx.checkpoint(0.05 + (0.9 * done) / total),
          signal: ctx.signal,
        });
        const image = await withAlpha(result, alpha, format);
        const file = await ctx.scratch("out");
        await writeEncoded(image, format, params, input.header.icc, file);
        return {
          files: [{ path: file, format, suffix }],
          report: {
            mode: "ai",
            model: MAXIM_DENOISE_MODEL,
            width: size.width,
            height: size.height,
            tiles: tiles.length,
            threads,
            expectedSeconds: Math.round(expectedSeconds),
            seconds: Math.round((performance.now() - started) / 100) / 10,
          },
        };
      },
    };
  },
};

/**
 * The fast mode: a median filter removes speckle without blurring edges the way a Gaussian does,
 * the contrast stretch lifts a dull photo, and a gentle unsharp mask (more on edges than on flat
 * areas, so what noise is left is not amplified) gives back the crispness the median took.
 */
export function fastFilters(image: sharp.Sharp, params: Pick<RestoreParams, "denoise" | "normalise" | "sharpen">, size: { width: number; height: number }): sharp.Sharp {
  let out = image;
  // libvips refuses a window larger than the picture: a thinner one gets the widest that fits (none under 3).
  const window = Math.min(params.denoise === "strong" ? 5 : 3, oddAtMost(Math.min(size.width, size.height)));
  if (params.denoise !== "off" && window >= 3) out = out.median(window);
  if (params.normalise) out = out.normalise({ lower: 1, upper: 99 });
  if (params.sharpen) out = out.sharpen({ sigma: 1, m1: 0.3, m2: 1.5 });
  return out;
}

function checkedRegion(rect: Region, upright: { width: number; height: number }): Region {
  if (rect.x + rect.width > upright.width || rect.y + rect.height > upright.height) {
    throw invalidParam("rect", `the rectangle ${rect.width}×${rect.height} at (${rect.x}, ${rect.y}) does not lie within the ${upright.width}×${upright.height} picture.`);
  }
  return rect;
}

const roundUp = (n: number) => Math.ceil(n / MAXIM_MULTIPLE) * MAXIM_MULTIPLE;
const oddAtMost = (n: number) => (n % 2 === 1 ? n : n - 1);
