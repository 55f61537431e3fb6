import type { HuffmanSpec } from "./huffman-decode.js";
import type { Frame, ParsedJpeg } from "./parse.js";
import { ZIGZAG } from "./zigzag.js";

export interface Header {
  frame: Frame;
  quantTables: (Uint16Array | undefined)[]; // natural order, by slot
  tableSlots: { dc: number; ac: number }[]; // per component
  dcTables: (HuffmanSpec | undefined)[]; // by slot
  acTables: (HuffmanSpec | undefined)[];
  restartInterval: number;
  colour: Pick<ParsedJpeg, "adobeSegment" | "iccSegments">;
}

/**
 * Everything before the entropy-coded data, in the order other JPEG writers use: colour segments,
 * then quantisation tables, frame, Huffman tables, restart interval and the scan header. Nothing
 * that describes the person, place or device is written.
 */
export function writeHeader(h: Header): number[] {
  const out: number[] = [0xff, 0xd8];
  if (h.colour.adobeSegment) out.push(...h.colour.adobeSegment);
  for (const icc of h.colour.iccSegments) for (let i = 0; i < icc.length; i++) out.push(icc[i]!);
  const comps = h.frame.components;
  let wide = false;
  const seenQuant = new Set<number>();
  for (const c of comps) {
    if (seenQuant.has(c.quantSlot)) continue;
    seenQuant.add(c.quantSlot);
    const table = h.quantTables[c.quantSlot]!;
    const precision = table.some((q) => q > 255) ? 1 : 0;
    wide ||= precision === 1;
    segment(out, 0xdb, [(precision << 4) | c.quantSlot, ...Array.from(ZIGZAG, (n) => (precision ? [table[n]! >> 8, table[n]! & 0xff] : [table[n]!])).flat()]);
  }
  // 16-bit quantisation tables are not baseline: they need the extended-sequential frame type.
  segment(out, wide ? 0xc1 : 0xc0, [8, h.frame.height >> 8, h.frame.height & 0xff, h.frame.width >> 8, h.frame.width & 0xff, comps.length, ...comps.flatMap((c) => [c.id, (c.h << 4) | c.v, c.quantSlot])]);
  const seenHuffman = new Set<number>();
  const huffman = (kind: 0 | 1, slot: number): void => {
    if (seenHuffman.has(kind * 16 + slot)) return;
    seenHuffman.add(kind * 16 + slot);
    const table = (kind === 0 ? h.dcTables : h.acTables)[slot]!;
    segment(out, 0xc4, [(kind << 4) | slot, ...table.counts, ...table.symbols]);
  };
  for (const slots of h.tableSlots) {
    huffman(0, slots.dc);
    huffman(1, slots.ac);
  }
  if (h.restartInterval > 0) segment(out, 0xdd, [h.restartInterval >> 8, h.restartInterval & 0xff]);
  segment(out, 0xda, [comps.length, ...comps.flatMap((c, i) => [c.id, (h.tableSlots[i]!.dc << 4) | h.tableSlots[i]!.ac]), 0, 63, 0]);
  return out;
}

function segment(out: number[], marker: number, payload: readonly number[]): void {
  const length = payload.length + 2;
  out.push(0xff, marker, length >> 8, length & 0xff, ...payload);
}

/**
 * Luma and chroma get separate Huffman tables exactly when the picture is YCbCr (or YCCK), decided
 * from the same signs decoders use: the JFIF and Adobe segments, then the component ids.
 */
export function tableSlotsFor(jpeg: Pick<ParsedJpeg, "frame" | "sawJfif" | "adobeTransform">): { dc: number; ac: number }[] {
  const comps = jpeg.frame.components;
  const ids = comps.map((c) => c.id).join(",");
  let separateChroma = false;
  if (comps.length === 3) {
    separateChroma = jpeg.sawJfif || (jpeg.adobeTransform === undefined ? ids !== "82,71,66" : jpeg.adobeTransform !== 0);
  } else if (comps.length === 4) {
    separateChroma = jpeg.adobeTransform !== undefined && jpeg.adobeTransform !== 0;
  }
  return comps.map((_, i) => {
    const slot = separateChroma && (i === 1 || i === 2) ? 1 : 0;
    return { dc: slot, ac: slot };
  });
}
