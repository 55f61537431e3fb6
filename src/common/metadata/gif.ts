import { ChunkList, MalformedImageError, Removed, result, startsWith, type StripResult } from "./bytes.js";
import { INVALID_ICC, isValidIccProfile } from "./icc.js";

const TRAILER = 0x3b;
const IMAGE = 0x2c;
const EXTENSION = 0x21;
const GRAPHIC_CONTROL = 0xf9;
const PLAIN_TEXT = 0x01;
const COMMENT = 0xfe;
const APPLICATION = 0xff;

const LOOPING_APPLICATIONS = new Set(["NETSCAPE2.0", "ANIMEXTS1.0"]);
const ICC_APPLICATION = "ICCRGBG1012";

/** An extension is copied whole, rebuilt without its extra data, or dropped with a label. */
type Verdict = { keep: true } | { rebuilt: Uint8Array; label: string } | { label: string };

/**
 * Keeps what a decoder needs to draw and play a GIF: frames (with their
 * colour tables and LZW data), graphic control (timing, transparency), the
 * loop count and a valid colour profile. Comments, plain text, XMP and every
 * other extension are dropped; extra sub-blocks hidden in a kept extension
 * are cut off.
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
      const verdict = classifyExtension(bytes, pos, next);
      if ("keep" in verdict) out.push(bytes.subarray(pos, next));
      else removed.add(verdict.label);
      if ("rebuilt" in verdict) out.push(verdict.rebuilt);
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

/** The data sub-blocks from `at` up to the terminator, as [start, end) pairs. */
function subBlocks(bytes: Uint8Array, at: number, end: number): [number, number][] {
  const blocks: [number, number][] = [];
  for (let pos = at; pos < end - 1; pos += 1 + bytes[pos]!) blocks.push([pos + 1, pos + 1 + bytes[pos]!]);
  return blocks;
}

function classifyExtension(bytes: Uint8Array, at: number, end: number): Verdict {
  const label = bytes[at + 1]!;
  const blocks = subBlocks(bytes, at + 2, end);
  const sizeOf = (i: number) => (blocks[i] ? blocks[i][1] - blocks[i][0] : -1);
  if (label === GRAPHIC_CONTROL) {
    if (sizeOf(0) !== 4) throw new MalformedImageError("GIF graphic control extension is not 4 bytes");
    if (blocks.length === 1) return { keep: true };
    return { rebuilt: extension(label, [bytes.subarray(blocks[0]![0], blocks[0]![1])]), label: "unrecognised data" };
  }
  if (label === COMMENT) return { label: "comment" };
  if (label === PLAIN_TEXT) return { label: "text" };
  if (label !== APPLICATION) return { label: "unrecognised data" };
  if (sizeOf(0) !== 11) return { label: "application data" };
  const id = String.fromCharCode(...bytes.subarray(at + 3, at + 14));
  if (LOOPING_APPLICATIONS.has(id)) {
    const loop = blocks.find(([start, stop]) => stop - start === 3 && bytes[start] === 1);
    if (loop === undefined) return { label: "application data" };
    if (blocks.length === 2) return { keep: true };
    return { rebuilt: extension(label, [bytes.subarray(at + 3, at + 14), bytes.subarray(loop[0], loop[1])]), label: "application data" };
  }
  if (id === ICC_APPLICATION) {
    const profile = joinBlocks(bytes, blocks.slice(1));
    return isValidIccProfile(profile) ? { keep: true } : { label: INVALID_ICC };
  }
  if (id === "XMP DataXMP") return { label: "XMP" };
  if (id.startsWith("C2PA")) return { label: "C2PA content credentials" };
  return { label: "application data" };
}

function joinBlocks(bytes: Uint8Array, blocks: [number, number][]): Uint8Array {
  const out = new Uint8Array(blocks.reduce((sum, [start, stop]) => sum + stop - start, 0));
  let at = 0;
  for (const [start, stop] of blocks) {
    out.set(bytes.subarray(start, stop), at);
    at += stop - start;
  }
  return out;
}

/** An extension holding the given sub-blocks (each under 256 bytes). */
function extension(label: number, blocks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(2 + blocks.reduce((sum, block) => sum + 1 + block.length, 0) + 1);
  out[0] = EXTENSION;
  out[1] = label;
  let at = 2;
  for (const block of blocks) {
    out[at] = block.length;
    out.set(block, at + 1);
    at += 1 + block.length;
  }
  return out;
}
