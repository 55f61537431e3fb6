import { MalformedImageError, type StripResult } from "./bytes.js";
import { stripGif } from "./gif.js";
import { stripIsobmff } from "./isobmff.js";
import { stripJpeg } from "./jpeg.js";
import { stripPng } from "./png.js";
import { stripWebp } from "./webp.js";

export { MalformedImageError };
export type { StripResult };

export type StrippableFormat = "jpeg" | "png" | "webp" | "gif" | "avif";

/**
 * Keeps only what a decoder needs to draw the picture (coded data, colour
 * information with a valid ICC profile, animation) and drops everything else,
 * known or not: EXIF with GPS and thumbnails, XMP, IPTC, comments, timestamps,
 * C2PA content credentials, private chunks. Nothing is re-encoded, so pixels
 * stay bit-exact. `removed` names what was found, never its values.
 * The input is never modified; when nothing is removed it is returned as-is.
 * Throws MalformedImageError when the container cannot be walked safely or
 * fails its own integrity checks (a PNG chunk CRC).
 */
export function stripMetadata(bytes: Uint8Array, format: StrippableFormat): StripResult {
  switch (format) {
    case "jpeg":
      return stripJpeg(bytes);
    case "png":
      return stripPng(bytes);
    case "webp":
      return stripWebp(bytes);
    case "gif":
      return stripGif(bytes);
    case "avif":
      return stripIsobmff(bytes);
    default:
      throw new MalformedImageError(`unsupported format ${String(format satisfies never)}`);
  }
}
