import { crc32 } from "../crc32.js";
import { ChunkList, MalformedImageError, Removed, fourcc, result, startsWith, view, type StripResult } from "./bytes.js";
import { INVALID_ICC, inflateIccProfile, isValidIccProfile } from "./icc.js";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Everything a decoder needs to reproduce the pixels, their colours and the
 * APNG animation. mDCV/cLLI are HDR mastering data; both spellings are listed
 * because drafts of the third edition capitalised them differently.
 */
const RENDERING_CHUNKS = new Set([
  "IHDR", "PLTE", "IDAT", "IEND",
  "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "cICP", "mDCV", "mDCv", "cLLI", "cLLi", "sBIT", "pHYs",
  "acTL", "fcTL", "fdAT",
]); // prettier-ignore

/**
 * Keeps only the chunks listed above, copied whole with their original CRCs
 * (each one verified), and drops everything else: text, EXIF, timestamps,
 * C2PA manifests, private chunks and whatever is invented later.
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
    const data = bytes.subarray(pos + 8, chunkEnd - 4);
    const label = RENDERING_CHUNKS.has(type) ? (type === "iCCP" ? checkIccp(data) : undefined) : labelFor(type, data);
    if (label === undefined) {
      if (crc32(bytes, 0, pos + 4, chunkEnd - 4) !== dv.getUint32(chunkEnd - 4)) {
        throw new MalformedImageError(`PNG ${type} chunk fails its CRC check`);
      }
      out.push(bytes.subarray(pos, chunkEnd));
    } else {
      removed.add(label);
    }
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

/** iCCP: a profile name, a NUL, compression method 0 and a zlib stream. */
function checkIccp(data: Uint8Array): string | undefined {
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79 || data[nul + 1] !== 0) return INVALID_ICC;
  const profile = inflateIccProfile(data.subarray(nul + 2));
  return profile !== undefined && isValidIccProfile(profile) ? undefined : INVALID_ICC;
}

function labelFor(type: string, data: Uint8Array): string {
  switch (type) {
    case "tEXt":
    case "zTXt":
      return "text";
    case "iTXt":
      return startsWith(data, 0, "XML:com.adobe.xmp\0") ? "XMP" : "text";
    case "eXIf":
      return "EXIF";
    case "tIME":
      return "timestamp";
    case "caBX":
      return "C2PA content credentials";
    case "bKGD":
      return "background colour";
    case "hIST":
    case "sPLT":
      return "palette suggestions";
    default:
      return "unrecognised data";
  }
}
