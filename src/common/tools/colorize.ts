import { z } from "zod";
import { IMAGE_TYPES, encodingFields } from "./encoding.js";
import { defineToolSpec } from "./tool.js";

export const colorizeSpec = defineToolSpec({
  name: "colorize",
  title: "Colorize black-and-white photo",
  description:
    "Adds colour to a greyscale photo with the colourisation model this server's operator installed (ONNX). The model guesses the colours at its own size; they are laid over the photo's full-resolution lightness, so no detail is lost. Unavailable when no model is installed.",
  runsOn: "server",
  params: z.strictObject({
    format: z.enum(["jpeg", "png"]).default("jpeg").describe("Format to write."),
    quality: encodingFields.quality,
  }),
  accepts: IMAGE_TYPES,
  limits: { maxInputPixels: 50_000_000 },
});
