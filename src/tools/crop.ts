import type sharp from "sharp";
import { cropSpec } from "../common/tools/crop.js";
import type { ToolParams } from "../common/tools/tool.js";
import { decodeCost, decodeFailure } from "./decode.js";
import { canAnimate, checkEncoding, encode, invalidParam, targetFormat } from "./encode.js";
import { framesInput } from "./orient.js";
import type { ServerTool } from "./server-tool.js";
import { isAnimation, mapFrames, openUpright, uprightFrames, uprightSize } from "./source.js";

type CropParams = ToolParams<typeof cropSpec>;
type Size = { width: number; height: number };
type Region = { left: number; top: number; width: number; height: number };

export const cropTool: ServerTool<typeof cropSpec> = {
  spec: cropSpec,
  input: "image",
  prepare(input, params, ctx) {
    const format = targetFormat(params.format, input);
    checkEncoding(format, params);
    const upright = uprightSize(input);
    const region = cropRegion(params, upright);
    const animated = isAnimation(input) && canAnimate(format);
    const quarterTurn = params.rotate === 90 || params.rotate === 270;
    const op = (image: sharp.Sharp) => {
      let out = image;
      if (region && (params.position === "centre" || params.rect)) out = out.extract(region);
      // An aspect crop placed by content: a cover "resize" to the region's size scales by 1 and
      // lets libvips choose where to cut.
      else if (region) out = out.resize(region.width, region.height, { fit: "cover", position: params.position === "attention" ? "attention" : "entropy" });
      if (params.rotate) out = out.rotate(params.rotate);
      // sharp mirrors before it turns, whatever the call order; the spec mirrors after. After a
      // quarter turn, mirroring top to bottom is mirroring left to right before it, and so on.
      if (quarterTurn ? params.flop : params.flip) out = out.flip();
      if (quarterTurn ? params.flip : params.flop) out = out.flop();
      return out;
    };
    return {
      memory: decodeCost(input.header, { kind: "reencode" }),
      async run() {
        const file = await ctx.scratch("out");
        if (animated) {
          const frames = await mapFrames(await uprightFrames(input, ctx), ctx, op);
          ctx.checkpoint(0.7);
          await encode(framesInput(frames), format, params, input.header).toFile(file).catch(decodeFailure);
        } else {
          const image = op(await openUpright(input, ctx));
          ctx.checkpoint(0.2);
          await encode(image, format, params, input.header).toFile(file).catch(decodeFailure);
        }
        // Named by the size delivered: a quarter turn swaps the sides.
        const [w, h] = quarterTurn ? [region?.height, region?.width] : [region?.width, region?.height];
        return { files: [{ path: file, format, ...(region ? { suffix: `${w}x${h}` } : {}) }] };
      },
    };
  },
};

/** The area to keep, in upright coordinates; undefined to keep the whole picture. */
function cropRegion(params: CropParams, upright: Size): Region | undefined {
  if (params.rect) {
    const { x, y, width, height } = params.rect;
    if (x + width > upright.width || y + height > upright.height) {
      throw invalidParam("rect", `the rectangle ${width}×${height} at (${x}, ${y}) does not lie within the ${upright.width}×${upright.height} picture.`);
    }
    return { left: x, top: y, width, height };
  }
  if (!params.aspect) return undefined;
  const [w, h] = params.aspect.split(":").map(Number) as [number, number];
  // The largest area of that ratio that fits, centred.
  const width = Math.max(1, Math.min(upright.width, Math.round((upright.height * w) / h)));
  const height = Math.max(1, Math.min(upright.height, Math.round((width * h) / w)));
  return { left: Math.floor((upright.width - width) / 2), top: Math.floor((upright.height - height) / 2), width, height };
}
