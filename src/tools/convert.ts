import { convertSpec } from "../common/tools/convert.js";
import { decodeCost, decodeFailure } from "./decode.js";
import { canAnimate, encode } from "./encode.js";
import { framesInput } from "./orient.js";
import type { ServerTool } from "./server-tool.js";
import { isAnimation, openUpright, uprightFrames } from "./source.js";

export const convertTool: ServerTool<typeof convertSpec> = {
  spec: convertSpec,
  input: "image",
  prepare(input, params, ctx) {
    const animated = isAnimation(input) && canAnimate(params.format);
    return {
      memory: decodeCost(input.header, { kind: "reencode" }),
      async run() {
        const out = await ctx.scratch("out");
        if (animated) {
          const frames = await uprightFrames(input, ctx);
          ctx.checkpoint(0.5);
          await encode(framesInput(frames), params.format, params, input.header).toFile(out).catch(decodeFailure);
        } else {
          const image = await openUpright(input, ctx);
          ctx.checkpoint(0.2);
          await encode(image, params.format, params, input.header).toFile(out).catch(decodeFailure);
        }
        // An animation written as one frame is reported by the runner, as for every tool.
        return { files: [{ path: out, format: params.format }] };
      },
    };
  },
};
