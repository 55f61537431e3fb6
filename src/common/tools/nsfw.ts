import { z } from "zod";
import { IMAGE_TYPES } from "./encoding.js";
import { defineToolSpec } from "./tool.js";

export * from "../nsfw.js";

export const nsfwSpec = defineToolSpec({
  name: "nsfw",
  title: "NSFW check",
  description:
    "Classifies an image as Drawing, Hentai, Neutral, Porn or Sexy with NSFWJS (MobileNetV2, 224×224) on this server. Returns a report with the likeliest class and all five probabilities; no file.",
  runsOn: "server",
  params: z.strictObject({}),
  accepts: IMAGE_TYPES,
  limits: { maxInputPixels: 100_000_000 },
});
