import sharp from "sharp";
import { removeBackgroundSpec } from "../common/tools/remove-background.js";
import { ISNET_SIZE, isnetModelName, segment } from "../models/isnet.js";
import { decodeCost, decodeFailure } from "./decode.js";
import { encode } from "./encode.js";
import type { ImageInput, ServerTool } from "./server-tool.js";
import { openUpright, uprightSize } from "./source.js";

/**
 * A 1024² run takes 3-11 s on one busy CPU core (plus about 2 s to load the model into a cold
 * thread); the limit is for a thread that is stuck, not for a slow machine.
 */
const MODEL_TIMEOUT_MS = 5 * 60_000;
/**
 * The mask grown to the full size and, while the cut-out is written, the copy it is applied with:
 * its visible part (one byte a pixel) when it becomes the alpha channel, grey + alpha (two) when it
 * is composited.
 */
const MASK_BYTES_PER_PIXEL = 3;
/** The model's input and output at 1024², on this side of the thread. */
const MODEL_IO_BYTES = ISNET_SIZE * ISNET_SIZE * (3 + 1) * 2;
/**
 * zlib level of a PNG cut-out, with every row filter still tried. On 12 MP photo cut-outs level 3
 * wrote them in 0.73-0.82 s of CPU against 1.10-1.31 s at the default 6, the files 0.2 % smaller to
 * 4 % larger; level 2 was no faster and up to 10 % larger, level 1 up to 70 % larger. The mask
 * alone stays at 6: 0.14 s for a 12 MP one, 0.11 s at level 3 for a file 12 % larger.
 */
const CUTOUT_PNG_LEVEL = 3;

/**
 * Background removal. Memory: `memory` prices what this process holds for the run (the decode at
 * full size, the mask grown to it, the model's input and output) against DECODE_MEMORY. The
 * inference itself (about 0.9 GB of activations for ISNet at 1024², on top of the 0.65 GB a thread
 * holding the model keeps) lives in a model thread and is bounded by those threads, one run each
 * at a time: MODEL_WORKERS × 1.5 GB at worst, whatever DECODE_MEMORY says.
 */
export const removeBackgroundTool: ServerTool<typeof removeBackgroundSpec> = {
  spec: removeBackgroundSpec,
  input: "image",
  models: [isnetModelName("medium"), isnetModelName("small")],
  prepare(input, params, ctx) {
    const { width, height } = uprightSize(input);
    return {
      memory: decodeCost(input.header, { kind: "reencode" }) + width * height * MASK_BYTES_PER_PIXEL + MODEL_IO_BYTES,
      async run() {
        const image = await openUpright(input, ctx);
        // Squashed to the model's square as the library does, with libvips' anti-aliased Lanczos.
        const { data: rgb } = await image
          .clone()
          .resize(ISNET_SIZE, ISNET_SIZE, { fit: "fill", kernel: "lanczos3" })
          .flatten({ background: "#ffffff" })
          .toColourspace("srgb")
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true })
          .catch(decodeFailure);
        ctx.checkpoint(0.1);
        const found = await segment(ctx.models, params.model, new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength), MODEL_TIMEOUT_MS, ctx.signal);
        const mask = Buffer.from(found.buffer, found.byteOffset, found.byteLength);
        ctx.checkpoint(0.8);
        const out = await ctx.scratch("out");
        // Grown bicubically: libvips enlarges with its bicubic interpolator whatever the kernel
        // (mitchell, cubic and lanczos3 give the same bytes), smooth and without Lanczos' ringing.
        const grown = sharp(mask, { raw: { width: ISNET_SIZE, height: ISNET_SIZE, channels: 1 } }).resize(width, height, { fit: "fill", kernel: "mitchell" }).toColourspace("b-w");
        if (params.output === "mask") {
          await grown.png({ compressionLevel: 6, adaptiveFiltering: true }).toFile(out);
          return { files: [{ path: out, format: "png" }], report: { model: params.model } };
        }
        const full = await grown.raw().toBuffer();
        const raw1 = { raw: { width, height, channels: 1 as const } };
        const rgbOnly = params.background === undefined ? await opaqueRgb(image, input) : null;
        let cutout: sharp.Sharp;
        if (rgbOnly) {
          // The mask becomes the alpha channel as it is (sharp joins it after turning the picture
          // upright), and what it makes fully transparent loses its colour, as compositing left it:
          // a photo's cut-out PNG came out twice as large with its invisible colours kept. On 12 MP
          // this takes about 0.1 s where the composite (in float) took 0.4 s.
          // The 0/255 copy is made by libvips (threshold: 255 from 1 up), off the event loop, where a
          // loop over 12 MP in JavaScript held it for about 45 ms.
          const visible = await sharp(full, raw1).threshold(1).toColourspace("b-w").raw().toBuffer();
          cutout = (rgbOnly === "flatten" ? image.flatten() : image).joinChannel(full, raw1).boolean(visible, "and", raw1);
        } else {
          // Grey plus alpha (joined in a pipeline of its own: libvips joins bands before resizing),
          // so that `dest-in` keeps the picture where the mask is, times any alpha it had; then the
          // colour, if any, underneath.
          const alpha = await sharp(full, raw1).joinChannel(full, raw1).raw().toBuffer();
          const layers: sharp.OverlayOptions[] = [{ input: alpha, raw: { width, height, channels: 2 }, blend: "dest-in" }];
          if (params.background) layers.push({ input: { create: { width, height, channels: 3, background: params.background } }, blend: "dest-over" });
          cutout = image.composite(layers);
          if (params.background) cutout.removeAlpha();
        }
        const lossyPng = params.format === "png" && params.quality !== undefined && !params.lossless;
        const options = {
          quality: params.quality,
          lossless: params.lossless,
          // A palette PNG's effort also sets its quantisation: left at its default.
          effort: params.format === "png" && !lossyPng ? CUTOUT_PNG_LEVEL : undefined,
          chromaSubsampling: "4:2:0",
          mozjpeg: false,
          background: params.background ?? "#ffffff",
        } as const;
        await encode(cutout, params.format, options).toFile(out).catch(decodeFailure);
        return { files: [{ path: out, format: params.format }], report: { model: params.model } };
      },
    };
  },
};

/**
 * How the picture can take the mask as its alpha channel: 8-bit RGB as it is ("as-is"), 8-bit RGBA
 * whose alpha the header says is not there (HEIC, decoded with an opaque one) once flattened, which
 * changes no pixel; null for anything else (its own alpha, grey, 16-bit, CMYK), composited instead.
 */
async function opaqueRgb(image: sharp.Sharp, input: ImageInput): Promise<"as-is" | "flatten" | null> {
  const meta = await image.metadata().catch(decodeFailure);
  if (meta.depth !== "uchar" || meta.space !== "srgb") return null;
  if (meta.channels === 3 && !meta.hasAlpha) return "as-is";
  if (meta.channels === 4 && !input.header.hasAlpha) return "flatten";
  return null;
}
