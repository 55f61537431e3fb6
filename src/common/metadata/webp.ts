import { ChunkList, MalformedImageError, Removed, ascii, fourcc, result, startsWith, view, type StripResult } from "./bytes.js";
import { INVALID_ICC, isValidIccProfile } from "./icc.js";

const VP8X_ICC = 0x20;
const VP8X_EXIF = 0x08;
const VP8X_XMP = 0x04;
const ANMF_HEADER = 16;

/** What a decoder needs for a still or animated WebP, with its colour profile. */
const RENDERING_CHUNKS = new Set(["VP8X", "VP8 ", "VP8L", "ALPH", "ANIM", "ANMF", "ICCP"]);
/** What a decoder reads inside an animation frame. */
const FRAME_CHUNKS = new Set(["ALPH", "VP8 ", "VP8L"]);

interface Chunk {
  type: string;
  start: number;
  data: number;
  dataEnd: number;
  /** Past the padding byte, when there is one. */
  end: number;
}

/**
 * Keeps only the bitstream, animation and (valid) colour profile chunks of a
 * WebP, also inside every animation frame, and drops the rest: EXIF, XMP,
 * C2PA and any chunk a decoder does not read. VP8X flags and the RIFF size
 * are brought in line with what is left.
 */
export function stripWebp(bytes: Uint8Array): StripResult {
  if (bytes.length < 12 || !startsWith(bytes, 0, "RIFF") || !startsWith(bytes, 8, "WEBP")) {
    throw new MalformedImageError("not a WebP: bad RIFF header");
  }
  const riffEnd = 8 + view(bytes).getUint32(4, true);
  if (riffEnd > bytes.length || riffEnd < 12) throw new MalformedImageError("RIFF size runs past the end of the file");
  const removed = new Removed();
  const chunks = readChunks(bytes, 12, riffEnd);
  const keptIcc = chunks.some((chunk) => chunk.type === "ICCP" && topLevelLabel(bytes, chunk) === undefined);

  const out = new ChunkList();
  const header = new Uint8Array(12);
  header.set(ascii("RIFF"));
  header.set(ascii("WEBP"), 8);
  out.push(header);
  for (const chunk of chunks) {
    const label = topLevelLabel(bytes, chunk);
    if (label !== undefined) removed.add(label);
    else if (chunk.type === "VP8X") out.push(vp8xWithFlags(bytes, chunk, keptIcc));
    else if (chunk.type === "ANMF") out.push(frameWithAllowedChunks(bytes, chunk, removed));
    else out.push(bytes.subarray(chunk.start, chunk.end));
  }
  if (riffEnd < bytes.length) removed.add("trailing data");
  view(header).setUint32(4, out.length - 8, true);
  return result(bytes, out, removed);
}

function readChunks(bytes: Uint8Array, from: number, to: number): Chunk[] {
  const dv = view(bytes);
  const chunks: Chunk[] = [];
  for (let pos = from; pos < to; ) {
    if (pos + 8 > to) throw new MalformedImageError("truncated WebP chunk header");
    const size = dv.getUint32(pos + 4, true);
    const dataEnd = pos + 8 + size;
    if (dataEnd > to) throw new MalformedImageError("WebP chunk runs past its container");
    // Chunks are padded to an even size; a missing final pad byte is tolerated.
    const end = Math.min(dataEnd + (size & 1), to);
    chunks.push({ type: fourcc(bytes, pos), start: pos, data: pos + 8, dataEnd, end });
    pos = end;
  }
  return chunks;
}

function topLevelLabel(bytes: Uint8Array, chunk: Chunk): string | undefined {
  if (chunk.type === "ICCP") return isValidIccProfile(bytes.subarray(chunk.data, chunk.dataEnd)) ? undefined : INVALID_ICC;
  if (RENDERING_CHUNKS.has(chunk.type)) return undefined;
  if (chunk.type === "EXIF") return "EXIF";
  if (chunk.type === "XMP ") return "XMP";
  if (chunk.type === "C2PA") return "C2PA content credentials";
  return "unrecognised data";
}

/** The EXIF and XMP flags always go; the ICC flag goes with an invalid profile. */
function vp8xWithFlags(bytes: Uint8Array, chunk: Chunk, keptIcc: boolean): Uint8Array {
  const original = bytes.subarray(chunk.start, chunk.end);
  if (chunk.dataEnd === chunk.data) return original;
  const flags = bytes[chunk.data]!;
  const wanted = flags & ~(VP8X_EXIF | VP8X_XMP | (keptIcc ? 0 : VP8X_ICC));
  if (wanted === flags) return original;
  const copy = original.slice();
  copy[8] = wanted;
  return copy;
}

/** Rebuilds an ANMF chunk around the frame chunks a decoder reads, when anything else hides in it. */
function frameWithAllowedChunks(bytes: Uint8Array, frame: Chunk, removed: Removed): Uint8Array {
  const original = bytes.subarray(frame.start, frame.end);
  if (frame.data + ANMF_HEADER > frame.dataEnd) throw new MalformedImageError("truncated WebP animation frame");
  const inner = readChunks(bytes, frame.data + ANMF_HEADER, frame.dataEnd);
  const kept = inner.filter((chunk) => FRAME_CHUNKS.has(chunk.type));
  if (kept.length === inner.length) return original;
  for (const chunk of inner) if (!FRAME_CHUNKS.has(chunk.type)) removed.add(topLevelLabel(bytes, chunk) ?? "unrecognised data");

  const parts = new ChunkList();
  const head = new Uint8Array(8);
  head.set(ascii("ANMF"));
  parts.push(head);
  parts.push(bytes.subarray(frame.data, frame.data + ANMF_HEADER));
  for (const chunk of kept) {
    parts.push(bytes.subarray(chunk.start, chunk.dataEnd));
    if ((chunk.dataEnd - chunk.data) & 1) parts.push(new Uint8Array(1));
  }
  view(head).setUint32(4, parts.length - 8, true);
  return parts.concat();
}
