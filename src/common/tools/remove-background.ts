import { z } from "zod";
import { IMAGE_TYPES, encodingFields, refuseUnfitEncoding } from "./encoding.js";
import { defineToolSpec } from "./tool.js";

/** ISNet sizes; `medium` keeps more of the subject, `small` is half the download (for the browser). */
export const REMOVE_BACKGROUND_MODELS = ["medium", "small"] as const;
export type RemoveBackgroundModel = (typeof REMOVE_BACKGROUND_MODELS)[number];

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, "a colour as #rrggbb");

export const removeBackgroundSpec = defineToolSpec({
  name: "remove-background",
  title: "Remove background",
  description:
    "Finds the subject with a segmentation model (ISNet) and makes everything else transparent: a PNG or WebP cut-out at the input's size, the mask alone (greyscale PNG, white is subject), or the subject on a solid colour. Animations give their first frame.",
  runsOn: "server",
  params: z
    .strictObject({
      model: z.enum(REMOVE_BACKGROUND_MODELS).default("medium").describe("Model size: medium (default, more accurate) or small."),
      output: z.enum(["cutout", "mask"]).default("cutout").describe("cutout: the image with its background removed; mask: the subject mask alone, as a greyscale PNG."),
      format: z.enum(["png", "webp", "jpeg"]).default("png").describe("png or webp keep transparency; jpeg needs a background colour. The mask is always PNG."),
      background: colour.optional().describe("Put the subject on this solid colour (#rrggbb) instead of transparency."),
      quality: encodingFields.quality,
      lossless: encodingFields.lossless,
    }).superRefine(refuseUnfitEncoding)
    .refine((p) => p.format !== "jpeg" || p.background !== undefined, { message: "JPEG has no transparency: give a background colour, or choose png or webp.", path: ["background"] })
    .refine((p) => p.output !== "mask" || (p.format === "png" && p.background === undefined), { message: "The mask is a greyscale PNG; format and background do not apply.", path: ["output"] }),
  accepts: IMAGE_TYPES,
  limits: { maxInputPixels: 100_000_000 },
});
