import { z } from "zod";
import { UPSCALE_SECONDS_PER_MEGAPIXEL } from "./cost.js";
import { IMAGE_TYPES, encodingFields, refuseUnfitEncoding } from "./encoding.js";
import { defineToolSpec } from "./tool.js";

/** Model choices and the ESRGAN package behind each (fast = slim, balanced = medium, best = thick). */
export const UPSCALE_MODELS = ["fast", "balanced", "best"] as const;
export type UpscaleModel = (typeof UPSCALE_MODELS)[number];

/** Largest result, in pixels: a 1 MP picture at 4x (4000×4000), a 4 MP one at 2x. */
export const UPSCALE_MAX_OUTPUT_PIXELS = 16_000_000;


export const upscaleSpec = defineToolSpec({
  name: "upscale",
  title: "Upscale (AI)",
  description:
    "Enlarges 2x or 4x with an ESRGAN super-resolution model that redraws detail instead of blurring it: fast (slim), balanced (medium) or best (thick). The picture is processed in overlapping tiles spread over the server's model threads. Transparency is kept (the alpha channel is enlarged with Lanczos3). " +
    `Slow on CPUs: about ${UPSCALE_SECONDS_PER_MEGAPIXEL.fast} s (fast), ${UPSCALE_SECONDS_PER_MEGAPIXEL.balanced} s (balanced) or ${UPSCALE_SECONDS_PER_MEGAPIXEL.best} s (best) per input megapixel on one core, divided by the number of model threads. ` +
    "The result may have at most {maxOutputPixels} (UPSCALE_MAX_OUTPUT_PIXELS). Animations give their first frame.",
  runsOn: "server",
  params: z.strictObject({
    scale: z.literal([2, 4]).default(2).describe("Enlargement factor: 2 or 4."),
    model: z.enum(UPSCALE_MODELS).default("fast").describe("fast (ESRGAN slim, default), balanced (ESRGAN medium, about 2x slower) or best (ESRGAN thick, about 15x slower)."),
    format: z.enum(["png", "webp", "jpeg"]).default("png").describe("Output format: png (default, lossless), webp or jpeg."),
    quality: encodingFields.quality,
    lossless: encodingFields.lossless,
    background: encodingFields.background,
  }).superRefine(refuseUnfitEncoding),
  accepts: IMAGE_TYPES,
  limits: { maxOutputPixels: UPSCALE_MAX_OUTPUT_PIXELS },
});
