import { colorizeSpec } from "../common/tools/colorize.js";
import { AppError } from "../common/errors.js";
import { COLORIZE_MODEL, colorize, colorizeInputSize, readColorizeManifest } from "../models/colorize.js";
import { decodeCost, decodeFailure, openPixels } from "./decode.js";
import { encode } from "./encode.js";
import type { ServerTool } from "./server-tool.js";
import { openUpright, uprightSize } from "./source.js";

/** An operator's model may be slow; the limit is for a stuck thread. */
const MODEL_TIMEOUT_MS = 5 * 60_000;
/** The photo as 8-bit RGB, handed to the model thread and coloured there in place. */
const PHOTO_BYTES_PER_PIXEL = 3;

/**
 * Colourisation with the operator's ONNX model. `memory` prices the decode and the RGB copy the
 * model thread colours in place; the model's own working set lives in its thread, one run at a time.
 */
export const colorizeTool: ServerTool<typeof colorizeSpec> = {
  spec: colorizeSpec,
  input: "image",
  models: [COLORIZE_MODEL],
  async prepare(input, params, ctx) {
    const reason = await ctx.models.unavailable(COLORIZE_MODEL);
    if (reason) throw new AppError("model_not_installed", 503, `The model for this tool is not installed on this server: ${reason}`);
    const manifestPath = ctx.models.settings.colorizeManifest!;
    const manifest = await readColorizeManifest(manifestPath);
    const { width, height } = uprightSize(input);
    const small = colorizeInputSize(manifest, width, height);
    return {
      memory: decodeCost(input.header, { kind: "reencode" }) + width * height * PHOTO_BYTES_PER_PIXEL + small.width * small.height * 3 * 5,
      async run() {
        const image = await openUpright(input, ctx);
        // The colour profile is applied here: the model and the Lab maths work in sRGB.
        const rgb = (img: typeof image) => img.flatten({ background: "#ffffff" }).withIccProfile("srgb").removeAlpha().raw().toBuffer({ resolveWithObject: true }).catch(decodeFailure);
        const model = await rgb(image.clone().resize(small.width, small.height, { fit: "fill", kernel: "lanczos3" }));
        const full = await rgb(image);
        if (full.info.channels !== 3 || full.info.width !== width || full.info.height !== height) throw new Error("the photo did not decode to its upright RGB size");
        ctx.checkpoint(0.2);
        // Own buffers for the transfer: sharp's may be views on a shared pool.
        const photo = await colorize(
          ctx.models,
          { manifest: manifestPath, photo: ownBuffer(full.data), width, height, small: ownBuffer(model.data), smallWidth: small.width, smallHeight: small.height },
          MODEL_TIMEOUT_MS,
          ctx.signal,
        );
        ctx.checkpoint(0.8);
        const out = await ctx.scratch("out");
        const options = { quality: params.quality, lossless: false, chromaSubsampling: "4:2:0", mozjpeg: false, background: "#ffffff" } as const;
        await encode(openPixels(photo, { width, height, channels: 3 }), params.format, options).toFile(out);
        return { files: [{ path: out, format: params.format }], report: { modelSize: `${small.width}x${small.height}` } };
      },
    };
  },
};

function ownBuffer(data: Buffer): ArrayBuffer {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (data.buffer as ArrayBuffer) : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
}
