import { z } from "zod";
import { IMAGE_TYPES, encodingFields, keepOrConvertFormat, refuseUnfitEncoding } from "./encoding.js";
import { SOCIAL_PRESET_IDS } from "./presets.js";
import { defineToolSpec } from "./tool.js";

const MAX_SIDE = 16_384;

export const resizeSpec = defineToolSpec({
  name: "resize",
  title: "Resize image",
  description:
    "Resizes to a width and/or height, a percentage, or a social media preset (exactly its size when fit is cover, the default for presets), with the Lanczos3 kernel. Animations are resized frame by frame.",
  runsOn: "both",
  params: z
    .strictObject({
      width: z.number().int().min(1).max(MAX_SIDE).optional().describe("Target width in pixels; alone, the height follows the aspect ratio."),
      height: z.number().int().min(1).max(MAX_SIDE).optional().describe("Target height in pixels; alone, the width follows the aspect ratio."),
      percent: z.number().positive().max(1000).optional().describe("Scale both sides by this percentage instead of giving a size."),
      preset: z.enum(SOCIAL_PRESET_IDS).optional().describe("A social media size by id (e.g. instagram-portrait is 1080x1350) instead of width and height."),
      fit: z
        .enum(["cover", "contain", "fill", "inside", "outside"])
        .optional()
        .describe(
          "How the picture fits the box when both sides are given: cover crops to fill it (default for presets), contain letterboxes with the background colour, fill stretches, inside fits within it (default), outside covers it without cropping.",
        ),
      withoutEnlargement: z.boolean().default(false).describe("Never make the picture larger than it is."),
      format: keepOrConvertFormat,
      ...encodingFields,
    }).superRefine(refuseUnfitEncoding)
    .refine((p) => [p.preset !== undefined, p.percent !== undefined, p.width !== undefined || p.height !== undefined].filter(Boolean).length === 1, {
      message: "Give exactly one of: width and/or height, percent, preset.",
      path: ["width"],
    }),
  accepts: IMAGE_TYPES,
  limits: { maxInputPixels: 100_000_000, maxOutputPixels: 100_000_000 },
});
