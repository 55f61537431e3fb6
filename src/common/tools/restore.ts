import { z } from "zod";
import { RESTORE_SECONDS_PER_MEGAPIXEL } from "./cost.js";
import { IMAGE_TYPES, encodingFields, keepOrConvertFormat, refuseUnfitEncoding } from "./encoding.js";
import { rectSchema } from "./rect.js";
import { defineToolSpec } from "./tool.js";

/**
 * The AI mode's limit, in pixels of the picture or of the chosen rectangle: MAXIM costs about
 * 0.7 ms of one core per pixel, so 0.25 MP is about 3 minutes on one core.
 */
export const RESTORE_AI_MAX_PIXELS = 250_000;

const rect = rectSchema("Restore only this rectangle of the upright picture (the output is that rectangle); needed for the ai mode on pictures over its limit.");

export const restoreSpec = defineToolSpec({
  name: "restore",
  title: "Restore photo",
  description:
    "Cleans up a noisy or dull photo. fast (default): a median denoise and a gentle sharpen (and, on request, a contrast stretch), in seconds even for 12 MP. " +
    `ai: MAXIM denoising, trained on phone photos; very slow on CPUs (about ${RESTORE_SECONDS_PER_MEGAPIXEL.ai} s per megapixel on one core, divided by the server's model threads), ` +
    "so it takes pictures or rectangles of at most {maxModelPixels} (RESTORE_MAX_PIXELS). Animations give their first frame.",
  runsOn: "server",
  params: z.strictObject({
    mode: z.enum(["fast", "ai"]).default("fast").describe("fast (filters, seconds) or ai (MAXIM denoising, at most {maxModelPixels}, minutes)."),
    denoise: z.enum(["off", "light", "strong"]).default("light").describe("fast mode: median filter of 3 (light) or 5 (strong) pixels, or none."),
    normalise: z
      .boolean()
      .default(false)
      .describe("fast mode: stretch the contrast so the darkest and lightest 1% reach black and white; for dull or faded photos (it changes every tone, so it is off by default)."),
    sharpen: z.boolean().default(true).describe("fast mode: a gentle unsharp mask after denoising."),
    rect: rect.optional(),
    format: keepOrConvertFormat,
    ...encodingFields,
  }).superRefine(refuseUnfitEncoding),
  accepts: IMAGE_TYPES,
  limits: { maxInputPixels: 100_000_000, maxModelPixels: RESTORE_AI_MAX_PIXELS },
});
