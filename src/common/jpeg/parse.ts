import { MalformedJpegError } from "./errors.js";
import { HuffmanDecodeTable } from "./huffman-decode.js";
import { ZIGZAG } from "./zigzag.js";

export interface FrameComponent {
  id: number;
  h: number;
  v: number;
  quantSlot: number;
}

export interface Frame {
  width: number;
  height: number;
  components: FrameComponent[];
}

export interface ScanComponent {
  index: number; // into Frame.components
  dc: HuffmanDecodeTable;
  ac: HuffmanDecodeTable;
}

export interface Scan {
  components: ScanComponent[];
  restartInterval: number;
  start: number; // first byte of entropy-coded data
  end: number; // the marker that follows it
}

export interface ParsedJpeg {
  frame: Frame;
  quantTables: (Uint16Array | undefined)[]; // natural order, by slot
  scans: Scan[];
  /** Segments that carry colour and must travel with the pixels, whole (marker included). */
  iccSegments: Uint8Array[];
  adobeSegment: Uint8Array | undefined;
  adobeTransform: number | undefined;
  sawJfif: boolean;
}

export type ParseOutcome = ParsedJpeg | { unsupported: string };

const M = { SOF0: 0xc0, SOF1: 0xc1, DHT: 0xc4, DAC: 0xcc, SOI: 0xd8, EOI: 0xd9, SOS: 0xda, DQT: 0xdb, DNL: 0xdc, DRI: 0xdd } as const;

/** Reads the structure of a baseline Huffman-coded 8-bit JPEG; anything else is named as unsupported. */
export function parseJpeg(bytes: Uint8Array): ParseOutcome {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== M.SOI) throw new MalformedJpegError("not a JPEG");
  const dcTables: (HuffmanDecodeTable | undefined)[] = [];
  const acTables: (HuffmanDecodeTable | undefined)[] = [];
  const out: Omit<ParsedJpeg, "frame"> & { frame: Frame | undefined } = {
    frame: undefined,
    quantTables: [],
    scans: [],
    iccSegments: [],
    adobeSegment: undefined,
    adobeTransform: undefined,
    sawJfif: false,
  };
  let restartInterval = 0;
  let pos = 2;
  while (pos < bytes.length) {
    if (bytes[pos] !== 0xff) throw new MalformedJpegError(`expected a marker at byte ${pos}`);
    while (pos < bytes.length && bytes[pos] === 0xff) pos++;
    if (pos >= bytes.length) break;
    const marker = bytes[pos++]!;
    if (marker === M.EOI) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0x00 || marker === M.SOI) throw new MalformedJpegError(`unexpected marker 0x${marker.toString(16)}`);
    if (pos + 2 > bytes.length) throw new MalformedJpegError("truncated segment header");
    const end = pos + ((bytes[pos]! << 8) | bytes[pos + 1]!);
    if (end < pos + 2 || end > bytes.length) throw new MalformedJpegError("segment runs past the end of the file");
    const payload = bytes.subarray(pos + 2, end);
    const segment = bytes.subarray(pos - 2, end);
    pos = end;

    if (marker === M.DQT) {
      if (out.scans.length > 0) return { unsupported: "quantisation table redefined between scans" };
      readQuantTables(payload, out.quantTables);
    } else if (marker === M.DHT) {
      readHuffmanTables(payload, dcTables, acTables);
    } else if (marker === M.SOF0 || marker === M.SOF1) {
      if (out.frame) throw new MalformedJpegError("more than one frame header");
      const frame = readFrame(payload);
      if (typeof frame === "string") return { unsupported: frame };
      out.frame = frame;
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== M.DHT && marker !== 0xc8) {
      return { unsupported: marker === M.DAC || marker >= 0xc9 ? "arithmetic coding" : marker === 0xc2 ? "progressive JPEG" : "lossless or hierarchical JPEG" };
    } else if (marker === M.DNL || marker === 0xde || marker === 0xdf) {
      return { unsupported: "height defined after the scan, or hierarchical JPEG" };
    } else if (marker === M.DRI) {
      if (payload.length !== 2) throw new MalformedJpegError("bad DRI segment");
      restartInterval = (payload[0]! << 8) | payload[1]!;
    } else if (marker === M.SOS) {
      if (!out.frame) throw new MalformedJpegError("scan before the frame header");
      const components = readScanHeader(payload, out.frame, dcTables, acTables, out.scans);
      const dataEnd = findEntropyEnd(bytes, pos);
      out.scans.push({ components, restartInterval, start: pos, end: dataEnd });
      pos = dataEnd;
    } else {
      noteColourSegment(marker, payload, segment, out);
    }
  }
  const frame = out.frame;
  if (!frame || out.scans.length === 0) throw new MalformedJpegError("JPEG has no image data");
  for (const c of frame.components) if (!out.quantTables[c.quantSlot]) throw new MalformedJpegError("component refers to a missing quantisation table");
  const covered = new Set(out.scans.flatMap((s) => s.components.map((c) => c.index)));
  if (covered.size !== frame.components.length) throw new MalformedJpegError("a component has no scan");
  return { ...out, frame };
}

function noteColourSegment(marker: number, payload: Uint8Array, segment: Uint8Array, out: Omit<ParsedJpeg, "frame">): void {
  if (marker === 0xe0 && startsWith(payload, "JFIF\0")) out.sawJfif = true;
  if (marker === 0xe2 && startsWith(payload, "ICC_PROFILE\0")) out.iccSegments.push(segment);
  if (marker === 0xee && startsWith(payload, "Adobe") && payload.length >= 12 && !out.adobeSegment) {
    out.adobeSegment = segment;
    out.adobeTransform = payload[11]!;
  }
}

function readQuantTables(p: Uint8Array, tables: (Uint16Array | undefined)[]): void {
  let i = 0;
  while (i < p.length) {
    const precision = p[i]! >> 4;
    const slot = p[i]! & 15;
    i++;
    if (precision > 1 || slot > 3 || i + 64 * (precision + 1) > p.length) throw new MalformedJpegError("bad DQT segment");
    const table = new Uint16Array(64);
    for (let k = 0; k < 64; k++) {
      table[ZIGZAG[k]!] = precision ? (p[i]! << 8) | p[i + 1]! : p[i]!;
      i += precision + 1;
    }
    tables[slot] = table;
  }
}

function readHuffmanTables(p: Uint8Array, dc: (HuffmanDecodeTable | undefined)[], ac: (HuffmanDecodeTable | undefined)[]): void {
  let i = 0;
  while (i < p.length) {
    const kind = p[i]! >> 4;
    const slot = p[i]! & 15;
    if (kind > 1 || slot > 3 || i + 17 > p.length) throw new MalformedJpegError("bad DHT segment");
    const counts = p.slice(i + 1, i + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    if (total > 256 || i + 17 + total > p.length) throw new MalformedJpegError("bad DHT segment");
    const table = new HuffmanDecodeTable({ counts, symbols: p.slice(i + 17, i + 17 + total) });
    (kind === 0 ? dc : ac)[slot] = table;
    i += 17 + total;
  }
}

function readFrame(p: Uint8Array): Frame | string {
  if (p.length < 6) throw new MalformedJpegError("bad frame header");
  if (p[0] !== 8) return `${p[0]}-bit samples`;
  const height = (p[1]! << 8) | p[2]!;
  const width = (p[3]! << 8) | p[4]!;
  const count = p[5]!;
  if (height === 0) return "height defined after the scan";
  if (width === 0 || count === 0 || p.length !== 6 + 3 * count) throw new MalformedJpegError("bad frame header");
  if (count > 4) return `${count} colour components`;
  const components: FrameComponent[] = [];
  for (let c = 0; c < count; c++) {
    const id = p[6 + 3 * c]!;
    const h = p[7 + 3 * c]! >> 4;
    const v = p[7 + 3 * c]! & 15;
    const quantSlot = p[8 + 3 * c]!;
    if (h < 1 || h > 4 || v < 1 || v > 4 || quantSlot > 3) throw new MalformedJpegError("bad component in frame header");
    if (components.some((other) => other.id === id)) throw new MalformedJpegError("duplicate component id");
    components.push({ id, h, v, quantSlot });
  }
  return { width, height, components };
}

function readScanHeader(
  p: Uint8Array,
  frame: Frame,
  dcTables: (HuffmanDecodeTable | undefined)[],
  acTables: (HuffmanDecodeTable | undefined)[],
  earlier: Scan[],
): ScanComponent[] {
  const count = p[0] ?? 0;
  if (count < 1 || count > 4 || p.length !== 4 + 2 * count) throw new MalformedJpegError("bad scan header");
  const components: ScanComponent[] = [];
  for (let i = 0; i < count; i++) {
    const index = frame.components.findIndex((c) => c.id === p[1 + 2 * i]);
    const dc = dcTables[p[2 + 2 * i]! >> 4];
    const ac = acTables[p[2 + 2 * i]! & 15];
    if (index < 0 || !dc || !ac) throw new MalformedJpegError("scan refers to a missing component or table");
    // In a sequential JPEG each component is coded exactly once.
    if (components.some((c) => c.index === index) || earlier.some((s) => s.components.some((c) => c.index === index))) {
      throw new MalformedJpegError("component coded twice");
    }
    components.push({ index, dc, ac });
  }
  const tail = 1 + 2 * count;
  if (p[tail] !== 0 || p[tail + 1] !== 63 || p[tail + 2] !== 0) throw new MalformedJpegError("bad spectral selection for a sequential scan");
  const blocksPerMcu = components.reduce((n, c) => n + frame.components[c.index]!.h * frame.components[c.index]!.v, 0);
  if (count > 1 && blocksPerMcu > 10) throw new MalformedJpegError("too many blocks in an MCU");
  return components;
}

/** Entropy-coded data runs to the first marker that is neither a stuffed 0xFF00 nor a restart marker. */
function findEntropyEnd(bytes: Uint8Array, from: number): number {
  let i = from;
  for (;;) {
    i = bytes.indexOf(0xff, i);
    if (i < 0 || i + 1 >= bytes.length) return bytes.length;
    const next = bytes[i + 1]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) i += 2;
    else if (next === 0xff) i += 1;
    else return i;
  }
}

function startsWith(payload: Uint8Array, text: string): boolean {
  if (payload.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (payload[i] !== text.charCodeAt(i)) return false;
  return true;
}
