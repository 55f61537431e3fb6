import { z } from "zod";
import { IMAGE_TYPES, encodingFields, keepOrConvertFormat, refuseUnfitEncoding } from "./encoding.js";
import { rectSchema } from "./rect.js";
import { defineToolSpec } from "./tool.js";

const rect = rectSchema("Rectangle to keep, in the coordinates of the upright picture; it must lie within the picture.");

export const cropSpec = defineToolSpec({
  name: "crop",
  title: "Crop, rotate and flip",
  description:
    "Keeps a rectangle, or the largest area of an aspect ratio (centred, or where the interesting content is), then turns by quarter turns and mirrors. Coordinates refer to the picture as it is displayed (upright).",
  runsOn: "both",
  params: z
    .strictObject({
      rect: rect.optional(),
      aspect: z
        .string()
        .regex(/^[1-9]\d{0,4}:[1-9]\d{0,4}$/, "Write the aspect ratio as W:H, e.g. 16:9.")
        .optional()
        .describe("Aspect ratio W:H (e.g. 16:9, 1:1) of the largest area to keep, instead of a rectangle."),
      position: z
        .enum(["centre", "attention", "entropy"])
        .default("centre")
        .describe("Where an aspect crop is placed: centre, attention (the most salient region: skin, saturation, luminance) or entropy (the most detail)."),
      rotate: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)], { error: "Turn by 0, 90, 180 or 270 degrees." }).default(0).describe("Clockwise turn in degrees, after cropping."),
      flip: z.boolean().default(false).describe("Mirror top to bottom, after turning."),
      flop: z.boolean().default(false).describe("Mirror left to right, after turning."),
      format: keepOrConvertFormat,
      ...encodingFields,
    }).superRefine(refuseUnfitEncoding)
    .refine((p) => !(p.rect && p.aspect), { message: "Give either rect or aspect, not both.", path: ["aspect"] }),
  accepts: IMAGE_TYPES,
  limits: { maxInputPixels: 100_000_000 },
});
