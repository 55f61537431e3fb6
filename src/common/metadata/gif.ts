import { ChunkList, MalformedImageError, Removed, result, startsWith, type StripResult } from "./bytes.js";

const TRAILER = 0x3b;
const IMAGE = 0x2c;
const EXTENSION = 0x21;
const GRAPHIC_CONTROL = 0xf9;
const PLAIN_TEXT = 0x01;
const COMMENT = 0xfe;
const APPLICATION = 0xff;

/** Application extensions that change how the picture looks or plays. */
const KEPT_APPLICATIONS = new Set(["NETSCAPE2.0", "ANIMEXTS1.0", "ICCRGBG1012"]);

/**
 * Drops comment and metadata-carrying application extensions from a GIF.
 * Frames (with their colour tables and LZW data), frame timing and looping
 * extensions are copied whole.
 */
export function stripGif(bytes: Uint8Array): StripResult {
  if (bytes.length < 13 || !(startsWith(bytes, 0, "GIF87a") || startsWith(bytes, 0, "GIF89a"))) {
    throw new MalformedImageError("not a GIF: bad header");
  }
  const end = bytes.length;
  const out = new ChunkList();
  const removed = new Removed();
  let pos = 13 + colourTableSize(bytes[10]!);
  if (pos > end) throw new MalformedImageError("truncated GIF global colour table");
  out.push(bytes.subarray(0, pos));
  let sawTrailer = false;

  while (pos < end) {
    const introducer = bytes[pos]!;
    if (introducer === TRAILER) {
      out.push(bytes.subarray(pos, pos + 1));
      pos++;
      sawTrailer = true;
      break;
    }
    if (introducer === IMAGE) {
      if (pos + 10 > end) throw new MalformedImageError("truncated GIF image descriptor");
      // Descriptor, optional local colour table, LZW minimum code size.
      const dataStart = pos + 10 + colourTableSize(bytes[pos + 9]!) + 1;
      const next = skipSubBlocks(bytes, dataStart);
      out.push(bytes.subarray(pos, next));
      pos = next;
      continue;
    }
    if (introducer === EXTENSION) {
      if (pos + 2 > end) throw new MalformedImageError("truncated GIF extension");
      const next = skipSubBlocks(bytes, pos + 2);
      const label = classifyExtension(bytes, pos);
      if (label === undefined) out.push(bytes.subarray(pos, next));
      else removed.add(label);
      pos = next;
      continue;
    }
    throw new MalformedImageError(`unexpected GIF block 0x${introducer.toString(16)} at byte ${pos}`);
  }

  if (sawTrailer && pos < end) removed.add("trailing data");
  return result(bytes, out, removed);
}

function colourTableSize(packed: number): number {
  return packed & 0x80 ? 3 * (1 << ((packed & 0x07) + 1)) : 0;
}

function skipSubBlocks(bytes: Uint8Array, at: number): number {
  const end = bytes.length;
  let pos = at;
  for (;;) {
    if (pos >= end) throw new MalformedImageError("GIF data sub-blocks run past the end of the file");
    const size = bytes[pos]!;
    pos += 1 + size;
    if (size === 0) return pos;
  }
}

/** Returns the removal label, or undefined when the extension is kept. */
function classifyExtension(bytes: Uint8Array, at: number): string | undefined {
  const label = bytes[at + 1]!;
  if (label === GRAPHIC_CONTROL || label === PLAIN_TEXT) return undefined;
  if (label === COMMENT) return "comment";
  if (label !== APPLICATION) return "extension";
  if (bytes[at + 2] !== 11) return "application data";
  const id = String.fromCharCode(...bytes.subarray(at + 3, at + 14));
  if (KEPT_APPLICATIONS.has(id)) return undefined;
  return id === "XMP DataXMP" ? "XMP" : "application data";
}
