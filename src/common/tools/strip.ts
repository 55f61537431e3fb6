import { z } from "zod";
import { defineToolSpec } from "./tool.js";

export const stripSpec = defineToolSpec({
  name: "strip",
  title: "Remove metadata",
  description:
    "Removes EXIF (GPS position, camera, serial number, dates), XMP, IPTC, comments, embedded thumbnails and C2PA data without re-encoding: the pixels stay identical. A picture with an orientation tag is turned upright first (losslessly for most JPEGs). The report lists the kinds of data found, never their values.",
  runsOn: "both",
  params: z.strictObject({}),
  accepts: ["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif"],
  limits: { maxInputPixels: 100_000_000 },
});
