import { BitWriter } from "./bit-writer.js";
import { decodeInto } from "./decode.js";
import { encodeScan, countSymbols } from "./encode.js";
import { MalformedJpegError, UnencodableJpegError } from "./errors.js";
import { isPerfect, type Layout, layoutOf, type Motion, MOTIONS, movedFrame, movedQuantTable, type Orientation } from "./geometry.js";
import type { HuffmanSpec } from "./huffman-decode.js";
import { encodeTable, optimalTable, STANDARD_TABLES } from "./huffman-encode.js";
import { type Frame, type ParsedJpeg, parseJpeg } from "./parse.js";
import { allocateCoefficients, type Coefficients, releaseCoefficients } from "./plane.js";
import { dcPreview, type Preview } from "./preview.js";
import { tableSlotsFor, writeHeader } from "./write.js";

export { MalformedJpegError };
export type { Orientation, Preview };

export interface TransformOptions {
  /**
   * Per-image Huffman tables: files about 5% smaller for a pass over every coefficient (a fifth more
   * time). Default false: the standard tables, which most cameras use anyway (as jpegtran does).
   */
  optimizeCoding?: boolean;
  /** Larger pictures get null, like anything else this cannot do. Default: sharp's default limit. */
  maxPixels?: number;
  /**
   * The result may live in memory this thread keeps for its next transform: valid only until then,
   * but no fresh pages to fault in (several milliseconds for a 12 MP photo). For a caller that
   * writes the bytes out before transforming again. Default false: a buffer of the result's own.
   */
  reuseOutput?: boolean;
}

/** The output memory kept for the next transform with reuseOutput, up to this size. */
const KEEP_OUTPUT_BYTES = 32 * 1024 * 1024;
let spareOutput: Uint8Array | undefined;

const DEFAULT_MAX_PIXELS = 0x3fff * 0x3fff;

/**
 * Turns a JPEG upright for its EXIF orientation without decoding pixels: blocks and the coefficients
 * inside them are moved (what jpegtran -perfect does), so not one pixel changes. The result carries
 * no metadata but the colour profile and the Adobe colour-transform segment.
 *
 * Returns null when it cannot be done losslessly or is not supported (progressive, arithmetic
 * coding, 12-bit, lossless, hierarchical; an edge MCU that would have to move): re-encode instead.
 * Throws MalformedJpegError when the file is corrupt or truncated.
 */
export function transformJpeg(bytes: Uint8Array, orientation: Orientation, options: TransformOptions = {}): Uint8Array | null {
  return transform(bytes, orientation, options, Infinity)?.bytes ?? null;
}

export interface Transformed {
  bytes: Uint8Array;
  /** The turned picture at 1/8 scale (see dcPreview), or null where it is not made. */
  preview: Preview | null;
}

/**
 * transformJpeg, also returning the turned picture at 1/8 scale, computed from the DC coefficients
 * the transform has decoded anyway (a few milliseconds): what a scaled decode of the result would
 * give, for making thumbnails without decoding the result again. Only made when the picture's
 * longer side is at least `previewMinSide` pixels (below that it is too small to be worth it) and
 * its colours are YCbCr with usual sampling.
 */
export function transformJpegWithPreview(bytes: Uint8Array, orientation: Orientation, previewMinSide: number, options: TransformOptions = {}): Transformed | null {
  return transform(bytes, orientation, options, previewMinSide);
}

function transform(bytes: Uint8Array, orientation: Orientation, options: TransformOptions, previewMinSide: number): Transformed | null {
  const motion = MOTIONS[orientation];
  if (!motion) throw new RangeError(`orientation must be 2 to 8, not ${String(orientation)}`);
  const jpeg = parseJpeg(bytes);
  if ("unsupported" in jpeg) return null;
  if (jpeg.frame.width * jpeg.frame.height > (options.maxPixels ?? DEFAULT_MAX_PIXELS)) return null;
  const source = layoutOf(jpeg.frame);
  const frame = movedFrame(jpeg.frame, motion);
  const result = layoutOf(frame);
  if (!isPerfect(result, frame.width, frame.height, motion)) return null;

  // Every coded block costs at least two bits, so a header that claims more blocks than the data
  // could hold is a lie told to make us allocate; refuse it before allocating.
  const blocks = result.components.reduce((n, c) => n + c.strideW * c.strideH, 0);
  const dataBytes = jpeg.scans.reduce((n, s) => n + (s.end - s.start), 0);
  if (blocks > 4 * dataBytes + 4096) throw new MalformedJpegError("the frame is larger than its data could describe");

  const coefficients = allocateCoefficients(result);
  try {
    decodeInto(bytes, jpeg, source, result, motion, coefficients);
    return encode(jpeg, bytes.length, frame, result, motion, coefficients, options, previewMinSide);
  } finally {
    releaseCoefficients(coefficients);
  }
}

/** Writes the turned JPEG from its decoded coefficients, and the preview when wanted. */
function encode(
  jpeg: ParsedJpeg,
  sourceLength: number,
  frame: Frame,
  result: Layout,
  motion: Motion,
  coefficients: Coefficients,
  options: TransformOptions,
  previewMinSide: number,
): Transformed | null {
  const tableSlots = tableSlotsFor(jpeg);
  try {
    const { dc, ac } = !options.optimizeCoding ? standardTables() : optimalTables(result, coefficients, tableSlots, jpeg.scans[0]!.restartInterval);
    const quantTables = jpeg.quantTables.map((t) => t && movedQuantTable(t, motion));
    const header = writeHeader({
      frame,
      quantTables,
      tableSlots,
      dcTables: dc,
      acTables: ac,
      restartInterval: jpeg.scans[0]!.restartInterval,
      colour: jpeg,
    });
    // The standard tables can code a source made with optimal ones a few per cent larger: room
    // for a quarter more, so the buffer is not grown (copied) near the end.
    const writer = new BitWriter(sourceLength + (sourceLength >> 2) + header.length + 65536, options.reuseOutput ? spareOutput : undefined);
    writer.bytes(header);
    const dcCodes = dc.map((t) => t && encodeTable(t));
    const acCodes = ac.map((t) => t && encodeTable(t));
    encodeScan(writer, result, coefficients, jpeg.scans[0]!.restartInterval, tableSlots.map((s) => dcCodes[s.dc]!), tableSlots.map((s) => acCodes[s.ac]!));
    writer.bytes([0xff, 0xd9]);
    if (options.reuseOutput && writer.buf.length <= KEEP_OUTPUT_BYTES) spareOutput = writer.buf;
    const wantPreview = Math.max(frame.width, frame.height) >= previewMinSide;
    return { bytes: writer.result(), preview: wantPreview ? dcPreview(jpeg, frame, result, coefficients, quantTables) : null };
  } catch (err) {
    if (err instanceof UnencodableJpegError) return null;
    throw err;
  }
}

type Tables = { dc: (HuffmanSpec | undefined)[]; ac: (HuffmanSpec | undefined)[] };

function standardTables(): Tables {
  return { dc: [...STANDARD_TABLES.dc], ac: [...STANDARD_TABLES.ac] };
}

function optimalTables(layout: Layout, coefficients: Coefficients, slots: { dc: number; ac: number }[], restartInterval: number): Tables {
  const dcCounts = [0, 1].map(() => new Int32Array(257));
  const acCounts = [0, 1].map(() => new Int32Array(257));
  countSymbols(
    layout,
    coefficients,
    restartInterval,
    slots.map((s) => dcCounts[s.dc]!),
    slots.map((s) => acCounts[s.ac]!),
  );
  const used = (kind: "dc" | "ac", slot: number): boolean => slots.some((s) => s[kind] === slot);
  return {
    dc: dcCounts.map((counts, slot) => (used("dc", slot) ? optimalTable(counts) : undefined)),
    ac: acCounts.map((counts, slot) => (used("ac", slot) ? optimalTable(counts) : undefined)),
  };
}
