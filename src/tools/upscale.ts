import fs from "node:fs/promises";
import sharp from "sharp";
import { AppError } from "../common/errors.js";
import type { EncodingOptions, OutputFormat } from "../common/tools/encoding.js";
import { type ToolParams, megapixels } from "../common/tools/tool.js";
import { type UpscaleModel, upscaleSpec } from "../common/tools/upscale.js";
import { ESRGAN_SCALES, ESRGAN_SIZES, type EsrganSize, esrganModelName } from "../models/esrgan-models.js";
import { decodeCost, decodeFailure } from "./decode.js";
import { encode } from "./encode.js";
import { addIccToJpeg, addIccToPng, addIccToWebp } from "./icc.js";
import type { ImageInput, ServerTool, ServerToolContext } from "./server-tool.js";
import { openUpright, uprightSize } from "./source.js";
import { type RgbImage, runTiled } from "./upscale-tiles.js";

type UpscaleParams = ToolParams<typeof upscaleSpec>;
/** A rectangle of the upright picture. */
export type Region = { x: number; y: number; width: number; height: number };

export const UPSCALE_SIZES: Record<UpscaleModel, EsrganSize> = { fast: "slim", balanced: "medium", best: "thick" };

/**
 * Tiles of 128 input pixels, each seeing 16 more on every side: the models' receptive field
 * reaches further, but what lies beyond 16 pixels changes an output pixel by less than its
 * rounding, so the tiled result matches a whole-picture run (see the tests) while a thread's
 * memory stays that of one small tile whatever the picture's size.
 */
export const UPSCALE_TILE = 128;
export const UPSCALE_MARGIN = 16;
/** For one tile; the best model takes about 40 s for one 4x tile on a slow core. */
const TILE_TIMEOUT_MS = 5 * 60_000;

export const upscaleTool: ServerTool<typeof upscaleSpec> = {
  spec: upscaleSpec,
  input: "image",
  models: ESRGAN_SIZES.flatMap((size) => ESRGAN_SCALES.map((scale) => esrganModelName(size, scale))),
  prepare(input, params, ctx) {
    const encoding = encodingOptions(params);
    const upright = uprightSize(input);
    const out = { width: upright.width * params.scale, height: upright.height * params.scale };
    const cap = ctx.limits.maxOutputPixels;
    if (out.width * out.height > cap) {
      throw new AppError(
        "too_many_pixels",
        413,
        `Upscaled ${params.scale}x, the result would be ${out.width}×${out.height} pixels; the limit for upscale is ${cap} pixels (${megapixels(cap)} MP).`,
      );
    }
    // The model threads' own heaps are not counted here: they hold one tile at a time whatever the
    // picture's size (measured in the report), and stay allocated between runs.
    const seen = (UPSCALE_TILE + 2 * UPSCALE_MARGIN) ** 2;
    const memory =
      decodeCost(input.header, { kind: "reencode" }) +
      upright.width * upright.height * 4 + // the decoded RGBA, then RGB and alpha apart
      out.width * out.height * 4 * 2 + // the result's RGB and alpha, and the encoder's copy of them
      Math.max(1, ctx.models.size) * seen * 3 * (1 + params.scale ** 2); // tiles in flight, both ways
    return {
      memory,
      run: () => upscale(input, params, encoding, ctx, out),
    };
  },
};

async function upscale(input: ImageInput, params: UpscaleParams, encoding: EncodingOptions, ctx: ServerToolContext, out: { width: number; height: number }) {
  const started = performance.now();
  const { rgb, alpha } = await decodeRgb(input, ctx);
  ctx.checkpoint(0.1);
  const model = esrganModelName(UPSCALE_SIZES[params.model], params.scale);
  const result = await runTiled(rgb, {
    models: ctx.models,
    model,
    scale: params.scale,
    tile: UPSCALE_TILE,
    margin: UPSCALE_MARGIN,
    concurrency: ctx.models.size,
    timeoutMs: TILE_TIMEOUT_MS,
    onTile: (done, total) => ctx.checkpoint(0.1 + (0.8 * done) / total),
    signal: ctx.signal,
  });
  // Transparency has no texture to invent: Lanczos3 keeps its edges clean.
  const bigAlpha = alpha
    ? await sharp(alpha, { raw: { width: rgb.width, height: rgb.height, channels: 1 } })
        .resize(out.width, out.height, { kernel: "lanczos3", fit: "fill" })
        .extractChannel(0) // one band out, not the three of sRGB
        .raw()
        .toBuffer()
    : undefined;
  const image = await withAlpha({ data: result.data, width: out.width, height: out.height }, bigAlpha, params.format);
  ctx.checkpoint(0.92);
  const file = await ctx.scratch("out");
  await writeEncoded(image, params.format, encoding, input.header.icc, file);
  const seconds = (performance.now() - started) / 1000;
  return {
    files: [{ path: file, format: params.format, suffix: `x${params.scale}` }],
    report: {
      model: `${params.model} (${model})`,
      scale: params.scale,
      width: out.width,
      height: out.height,
      threads: ctx.models.size,
      seconds: Math.round(seconds * 10) / 10,
    },
  };
}

function encodingOptions(params: UpscaleParams): EncodingOptions {
  return { quality: params.quality, lossless: params.lossless, chromaSubsampling: "4:4:4", mozjpeg: false, background: params.background };
}

/**
 * The first frame, upright (or a region of it), as RGB bytes in the picture's own colour space (its profile is put back
 * on the output), and its alpha channel apart when it has one.
 */
export async function decodeRgb(input: ImageInput, ctx: ServerToolContext, region?: Region): Promise<{ rgb: RgbImage; alpha?: Buffer }> {
  let image = await openUpright(input, ctx);
  if (region) image = image.extract({ left: region.x, top: region.y, width: region.width, height: region.height });
  image = image.toColourspace("srgb");
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true }).catch(decodeFailure);
  const { width, height, channels } = info;
  if (channels === 3) return { rgb: { data, width, height } };
  const rgb = new Uint8Array(width * height * 3);
  const alpha = Buffer.allocUnsafe(width * height);
  for (let p = 0, i = 0; p < width * height; p++, i += channels) {
    rgb[p * 3] = data[i]!;
    rgb[p * 3 + 1] = data[i + 1]!;
    rgb[p * 3 + 2] = data[i + 2]!;
    alpha[p] = data[i + 3]!;
  }
  return { rgb: { data: rgb, width, height }, alpha };
}

/**
 * The model's RGB with the input's alpha put back. For JPEG the joined pixels are made first (off
 * the event loop), so the encoder's flatten lays them on the background: within one pipeline sharp
 * flattens before it joins channels, whatever the order of the calls, and JPEG dropped the alpha
 * onto black.
 */
export async function withAlpha(rgb: RgbImage, alpha: Uint8Array | undefined, format: OutputFormat): Promise<sharp.Sharp> {
  const { width, height } = rgb;
  const image = sharp(rgb.data, { raw: { width, height, channels: 3 } });
  if (!alpha) return image;
  const joined = image.joinChannel(Buffer.from(alpha.buffer, alpha.byteOffset, alpha.byteLength), { raw: { width, height, channels: 1 } });
  if (format !== "jpeg") return joined;
  return sharp(await joined.raw().toBuffer(), { raw: { width, height, channels: 4 } });
}

/**
 * Encodes with the shared encoders (which write no metadata) and puts back the input's colour
 * profile when it describes RGB, so colours stay as they were; a CMYK or grey profile is dropped
 * with the conversion to RGB.
 */
export async function writeEncoded(image: sharp.Sharp, format: OutputFormat, encoding: EncodingOptions, icc: Buffer | undefined, file: string): Promise<void> {
  const bytes = await encode(image, format, encoding).toBuffer().catch(decodeFailure);
  const rgbProfile = icc && icc.length >= 20 && icc.toString("latin1", 16, 20) === "RGB " ? icc : undefined;
  const tagged = !rgbProfile ? bytes : format === "png" ? addIccToPng(bytes, rgbProfile) : format === "jpeg" ? addIccToJpeg(bytes, rgbProfile) : format === "webp" ? addIccToWebp(bytes, rgbProfile) : bytes;
  await fs.writeFile(file, tagged);
}
