import sharp from "sharp";
import { removeBackgroundSpec } from "../common/tools/remove-background.js";
import { ISNET_SIZE, isnetModelName, segment } from "../models/isnet.js";
import { decodeCost, decodeFailure } from "./decode.js";
import { encode } from "./encode.js";
import type { ServerTool } from "./server-tool.js";
import { openUpright, uprightSize } from "./source.js";

/**
 * A 1024² run takes 3-11 s on one busy CPU core (plus about 2 s to load the model into a cold
 * thread); the limit is for a thread that is stuck, not for a slow machine.
 */
const MODEL_TIMEOUT_MS = 5 * 60_000;
/** The mask grown to the full size, and its grey + alpha copy, held while compositing. */
const MASK_BYTES_PER_PIXEL = 3;
/** The model's input and output at 1024², on this side of the thread. */
const MODEL_IO_BYTES = ISNET_SIZE * ISNET_SIZE * (3 + 1) * 2;

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
        const found = await segment(ctx.models, params.model, new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength), MODEL_TIMEOUT_MS);
        const mask = Buffer.from(found.buffer, found.byteOffset, found.byteLength);
        ctx.checkpoint(0.8);
        const out = `${ctx.workDir}/out`;
        // Mitchell grows the mask smoothly without the ringing Lanczos leaves around its edges.
        const grown = sharp(mask, { raw: { width: ISNET_SIZE, height: ISNET_SIZE, channels: 1 } }).resize(width, height, { fit: "fill", kernel: "mitchell" }).toColourspace("b-w");
        if (params.output === "mask") {
          await grown.png({ compressionLevel: 6, adaptiveFiltering: true }).toFile(out);
          return { files: [{ path: out, format: "png" }], report: { model: params.model } };
        }
        // Grey plus alpha (joined in a pipeline of its own: libvips joins bands before resizing),
        // so that `dest-in` keeps the picture where the mask is, times any alpha it had.
        const full = await grown.raw().toBuffer();
        const raw1 = { raw: { width, height, channels: 1 as const } };
        const alpha = await sharp(full, raw1).joinChannel(full, raw1).raw().toBuffer();
        const layers: sharp.OverlayOptions[] = [{ input: alpha, raw: { width, height, channels: 2 }, blend: "dest-in" }];
        if (params.background) layers.push({ input: { create: { width, height, channels: 3, background: params.background } }, blend: "dest-over" });
        const cutout = image.composite(layers);
        if (params.background) cutout.removeAlpha();
        const options = { quality: params.quality, lossless: params.lossless, chromaSubsampling: "4:2:0", mozjpeg: false, background: params.background ?? "#ffffff" } as const;
        await encode(cutout, params.format, options).toFile(out).catch(decodeFailure);
        return { files: [{ path: out, format: params.format }], report: { model: params.model } };
      },
    };
  },
};
