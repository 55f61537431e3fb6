import { ChunkList, MalformedImageError, Removed, ascii, fourcc, result, startsWith, view, type StripResult } from "./bytes.js";

const VP8X_EXIF = 0x08;
const VP8X_XMP = 0x04;

/**
 * Drops the EXIF and XMP chunks of a WebP and clears their VP8X flags.
 * Bitstream, ICC profile and animation chunks are copied whole.
 */
export function stripWebp(bytes: Uint8Array): StripResult {
  if (bytes.length < 12 || !startsWith(bytes, 0, "RIFF") || !startsWith(bytes, 8, "WEBP")) {
    throw new MalformedImageError("not a WebP: bad RIFF header");
  }
  const dv = view(bytes);
  const riffEnd = 8 + dv.getUint32(4, true);
  if (riffEnd > bytes.length || riffEnd < 12) throw new MalformedImageError("RIFF size runs past the end of the file");
  const out = new ChunkList();
  const removed = new Removed();
  const header = new Uint8Array(12);
  header.set(ascii("RIFF"));
  header.set(ascii("WEBP"), 8);
  out.push(header);
  let pos = 12;

  while (pos < riffEnd) {
    if (pos + 8 > riffEnd) throw new MalformedImageError("truncated WebP chunk header");
    const type = fourcc(bytes, pos);
    const size = dv.getUint32(pos + 4, true);
    const dataEnd = pos + 8 + size;
    // Chunks are padded to an even size; a missing final pad byte is tolerated.
    const chunkEnd = Math.min(dataEnd + (size & 1), riffEnd);
    if (dataEnd > riffEnd) throw new MalformedImageError("WebP chunk runs past the end of the RIFF container");
    if (type === "EXIF") {
      removed.add("EXIF");
    } else if (type === "XMP ") {
      removed.add("XMP");
    } else if (type === "VP8X" && size >= 1) {
      const flags = bytes[pos + 8]!;
      if (flags & (VP8X_EXIF | VP8X_XMP)) {
        const copy = bytes.slice(pos, chunkEnd);
        copy[8] = flags & ~(VP8X_EXIF | VP8X_XMP);
        out.push(copy);
      } else {
        out.push(bytes.subarray(pos, chunkEnd));
      }
    } else {
      out.push(bytes.subarray(pos, chunkEnd));
    }
    pos = chunkEnd;
  }

  if (riffEnd < bytes.length) removed.add("trailing data");
  view(header).setUint32(4, out.length - 8, true);
  return result(bytes, out, removed);
}
