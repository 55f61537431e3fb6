import type sharp from "sharp";
import { AppError } from "../common/errors.js";
import { socialPreset } from "../common/tools/presets.js";
import { resizeSpec } from "../common/tools/resize.js";
import type { ToolParams } from "../common/tools/tool.js";
import { decodeCost, decodeFailure } from "./decode.js";
import { canAnimate, checkEncoding, encode, targetFormat } from "./encode.js";
import { framesInput } from "./orient.js";
import type { ServerTool } from "./server-tool.js";
import { isAnimation, mapFrames, openUpright, uprightFrames, uprightSize } from "./source.js";

type ResizeParams = ToolParams<typeof resizeSpec>;
type Fit = NonNullable<ResizeParams["fit"]>;

export const resizeTool: ServerTool<typeof resizeSpec> = {
  spec: resizeSpec,
  input: "image",
  prepare(input, params, ctx) {
    const format = targetFormat(params.format, input);
    checkEncoding(format, params);
    const upright = uprightSize(input);
    const box = targetBox(params, upright);
    const out = outputSize(upright, box);
    if (out.width * out.height > ctx.limits.maxOutputPixels) {
      throw new AppError("too_many_pixels", 413, `The result would be ${out.width}×${out.height} pixels; the limit is ${ctx.limits.maxOutputPixels} pixels.`);
    }
    const animated = isAnimation(input) && canAnimate(format);
    const frames = animated ? input.header.frames : 1;
    const resize = (image: sharp.Sharp) =>
      image.resize(box.width, box.height, { fit: box.fit, kernel: "lanczos3", withoutEnlargement: params.withoutEnlargement, background: params.background });
    return {
      // The decoded input, plus the resized frames held at once.
      memory: decodeCost(input.header, { kind: "reencode" }) + out.width * out.height * 4 * frames,
      async run() {
        const file = await ctx.scratch("out");
        if (animated) {
          const resized = await mapFrames(await uprightFrames(input, ctx), ctx, resize);
          ctx.checkpoint(0.7);
          await encode(framesInput(resized), format, params, input.header).toFile(file).catch(decodeFailure);
          out.width = resized.width;
          out.height = resized.frameHeight;
        } else {
          const image = resize(await openUpright(input, ctx));
          ctx.checkpoint(0.2);
          // A letterbox may add colour to a grey picture: its 16 bits are then kept in RGB.
          const header = box.fit === "contain" ? { ...input.header, greyscale: undefined } : input.header;
          const info = await encode(image, format, params, header).toFile(file).catch(decodeFailure);
          out.width = info.width;
          out.height = info.height;
        }
        return { files: [{ path: file, format, suffix: `${out.width}x${out.height}` }] };
      },
    };
  },
};

interface Box {
  width: number | undefined;
  height: number | undefined;
  fit: Fit;
}

function targetBox(params: ResizeParams, upright: { width: number; height: number }): Box {
  if (params.preset) {
    const preset = socialPreset(params.preset);
    return { width: preset.width, height: preset.height, fit: params.fit ?? "cover" };
  }
  if (params.percent !== undefined) {
    const scale = params.percent / 100;
    return { width: Math.max(1, Math.round(upright.width * scale)), height: Math.max(1, Math.round(upright.height * scale)), fit: "fill" };
  }
  return { width: params.width, height: params.height, fit: params.fit ?? "inside" };
}

/** The size sharp will produce, computed before decoding so an oversized result is refused first. */
function outputSize(upright: { width: number; height: number }, box: Box): { width: number; height: number } {
  const { width: w, height: h } = upright;
  if (box.width === undefined || box.height === undefined) {
    // One side given: the other follows the aspect ratio.
    const scale = box.width !== undefined ? box.width / w : box.height! / h;
    return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
  }
  if (box.fit === "inside" || box.fit === "outside") {
    const pick = box.fit === "inside" ? Math.min : Math.max;
    const scale = pick(box.width / w, box.height / h);
    return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
  }
  return { width: box.width, height: box.height };
}
