import { z } from "zod";
import { IMAGE_TYPES, encodingFields, keepOrConvertFormat, refuseUnfitEncoding } from "./encoding.js";
import { defineToolSpec } from "./tool.js";

/** The highest quality the target-size search tries: above it files grow much faster than quality shows. */
export const MAX_SEARCH_QUALITY = 95;

export const compressSpec = defineToolSpec({
  name: "compress",
  title: "Compress image",
  description:
    "Makes the file smaller, keeping its format by default: either at a chosen quality, or at the highest quality that fits a target size (found by a bounded search; the report gives the quality chosen, or says the target was out of reach and returns the smallest file).",
  runsOn: "both",
  params: z
    .strictObject({
      format: keepOrConvertFormat,
      ...encodingFields,
      targetKB: z
        .number()
        .positive()
        .max(1_000_000)
        .optional()
        .describe("Target size in kilobytes (1 KB = 1000 bytes). Not with quality or lossless; not for PNG unless lossy (it is then reached by palette quality)."),
      minQuality: z.number().int().min(1).max(100).default(20).describe("Lowest quality the target-size search may go to."),
    }).superRefine(refuseUnfitEncoding)
    .refine((p) => p.targetKB === undefined || p.quality === undefined, { message: "Give either quality or targetKB, not both.", path: ["targetKB"] })
    .refine((p) => p.targetKB === undefined || !p.lossless, { message: "A target size needs lossy compression; lossless cannot be sized.", path: ["targetKB"] })
    .refine((p) => p.targetKB === undefined || p.minQuality <= MAX_SEARCH_QUALITY, { message: `is at most ${MAX_SEARCH_QUALITY} with a target size.`, path: ["minQuality"] }),
  accepts: IMAGE_TYPES,
  limits: { maxInputPixels: 100_000_000 },
});
