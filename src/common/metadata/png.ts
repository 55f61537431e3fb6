import { ChunkList, MalformedImageError, Removed, fourcc, result, startsWith, view, type StripResult } from "./bytes.js";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Drops the textual, EXIF and timestamp chunks of a PNG. Chunks are copied
 * whole with their original CRCs, so pixel, colour (iCCP, sRGB, gAMA, cHRM)
 * and APNG animation chunks are untouched.
 */
export function stripPng(bytes: Uint8Array): StripResult {
  if (bytes.length < SIGNATURE.length || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new MalformedImageError("not a PNG: bad signature");
  }
  const dv = view(bytes);
  const end = bytes.length;
  const out = new ChunkList();
  const removed = new Removed();
  out.push(bytes.subarray(0, SIGNATURE.length));
  let pos = SIGNATURE.length;
  let sawIend = false;
  let chunks = 0;

  while (pos < end) {
    if (pos + 12 > end) throw new MalformedImageError("truncated PNG chunk header");
    const length = dv.getUint32(pos);
    const chunkEnd = pos + 12 + length;
    if (length > 0x7fffffff || chunkEnd > end) throw new MalformedImageError("PNG chunk runs past the end of the file");
    const type = fourcc(bytes, pos + 4);
    if (chunks === 0 && type !== "IHDR") throw new MalformedImageError("PNG does not start with IHDR");
    chunks++;
    const label = labelFor(type, bytes, pos + 8);
    if (label === undefined) out.push(bytes.subarray(pos, chunkEnd));
    else removed.add(label);
    pos = chunkEnd;
    if (type === "IEND") {
      sawIend = true;
      break;
    }
  }

  if (chunks === 0) throw new MalformedImageError("PNG has no chunks");
  if (sawIend && pos < end) removed.add("trailing data");
  return result(bytes, out, removed);
}

function labelFor(type: string, bytes: Uint8Array, dataStart: number): string | undefined {
  switch (type) {
    case "tEXt":
    case "zTXt":
    case "tIME":
      return type;
    case "iTXt":
      return startsWith(bytes, dataStart, "XML:com.adobe.xmp\0") ? "XMP" : "iTXt";
    case "eXIf":
      return "EXIF";
    default:
      return undefined;
  }
}
