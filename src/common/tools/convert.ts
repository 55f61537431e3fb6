import { z } from "zod";
import { IMAGE_TYPES, OUTPUT_FORMATS, encodingFields, refuseUnfitEncoding } from "./encoding.js";
import { defineToolSpec } from "./tool.js";

export const convertSpec = defineToolSpec({
  name: "convert",
  title: "Convert image format",
  description:
    "Writes the image as JPEG, PNG, WebP, AVIF or GIF, upright and without metadata (the colour profile is kept). Animations stay animated when the target format can animate (GIF, WebP); other targets get the first frame.",
  runsOn: "both",
  params: z.strictObject({
    format: z.enum(OUTPUT_FORMATS).describe("Format to write."),
    ...encodingFields,
  }).superRefine(refuseUnfitEncoding),
  accepts: IMAGE_TYPES,
  limits: { maxInputPixels: 100_000_000 },
});
