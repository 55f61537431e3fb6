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
 * Removes privacy-sensitive metadata (EXIF incl. GPS and thumbnails, XMP,
 * IPTC, comments, timestamps) without re-encoding, so pixels stay bit-exact.
 * Colour information (ICC, Adobe transform) and animation are kept.
 * The input is never modified; when nothing is removed it is returned as-is.
 * Throws MalformedImageError when the container cannot be walked safely.
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
