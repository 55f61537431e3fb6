import { MalformedJpegError } from "./errors.js";
import { blockOffsets, coefficientMap, type Layout, type Motion } from "./geometry.js";
import { unstuff } from "./entropy-data.js";
import { BitReader, type HuffmanDecodeTable } from "./huffman-decode.js";
import type { ParsedJpeg, Scan } from "./parse.js";
import type { Plane } from "./plane.js";

/** Quantised DC values of 8-bit JPEG stay within ±1024 (2047 leaves room for odd encoders). */
const MAX_DC = 2047;

/**
 * Decodes every scan straight into the moved positions: each block lands where the motion puts it,
 * each coefficient at its moved index with its moved sign, so no second copy of the picture is made.
 * Planes must start zeroed.
 */
export function decodeInto(bytes: Uint8Array, jpeg: ParsedJpeg, source: Layout, result: Layout, motion: Motion, planes: Plane[]): void {
  const { target, sign } = coefficientMap(motion);
  const offsets = source.components.map((c, i) => blockOffsets(c, result.components[i]!, motion));
  const scratch: Plane = { coefs: new Int16Array(64), nonzero: new Int32Array(2) }; // padding blocks are decoded and dropped
  const ctx: BlockContext = { target, sign, scratch };
  for (const scan of jpeg.scans) decodeScan(bytes, scan, source, planes, offsets, ctx);
}

interface BlockContext {
  target: Uint8Array;
  sign: Int8Array;
  scratch: Plane;
}

function decodeScan(
  bytes: Uint8Array,
  scan: Scan,
  source: Layout,
  planes: Plane[],
  offsets: { colOffset: Int32Array; rowOffset: Int32Array }[],
  ctx: BlockContext,
): void {
  const reader = new BitReader(unstuff(bytes, scan.start, scan.end));
  const comps = scan.components;
  const interval = scan.restartInterval;
  const preds = [0, 0, 0, 0];
  let toGo = interval;
  let nextRst = 0;
  const beforeMcu = (): void => {
    if (interval === 0) return;
    if (toGo === 0) {
      reader.restart(nextRst);
      nextRst = (nextRst + 1) & 7;
      preds.fill(0);
      toGo = interval;
    }
    toGo--;
  };

  if (comps.length === 1) {
    // A lone component is coded block by block over just its picture area.
    const { index, dc, ac } = comps[0]!;
    const layout = source.components[index]!;
    const { colOffset, rowOffset } = offsets[index]!;
    const plane = planes[index]!;
    for (let y = 0; y < layout.blocksH; y++) {
      for (let x = 0; x < layout.blocksW; x++) {
        beforeMcu();
        preds[0] = decodeBlock(reader, dc, ac, plane, colOffset[x]! + rowOffset[y]!, preds[0]!, ctx);
      }
    }
  } else {
    const frameComps = comps.map((c) => ({ ...c, layout: source.components[c.index]!, ...offsets[c.index]!, plane: planes[c.index]! }));
    const sampling = comps.map((c) => ({ h: source.components[c.index]!.strideW / source.mcusX, v: source.components[c.index]!.strideH / source.mcusY }));
    for (let my = 0; my < source.mcusY; my++) {
      for (let mx = 0; mx < source.mcusX; mx++) {
        beforeMcu();
        for (let i = 0; i < frameComps.length; i++) {
          const c = frameComps[i]!;
          const { h, v } = sampling[i]!;
          for (let by = 0; by < v; by++) {
            const row = c.rowOffset[my * v + by]!;
            for (let bx = 0; bx < h; bx++) {
              const col = c.colOffset[mx * h + bx]!;
              const inside = row >= 0 && col >= 0;
              preds[i] = decodeBlock(reader, c.dc, c.ac, inside ? c.plane : ctx.scratch, inside ? row + col : 0, preds[i]!, ctx);
            }
          }
        }
      }
    }
  }
  reader.checkComplete();
}

/** Decodes one block (JPEG F.2.2) into plane at offset; returns the new DC prediction. */
function decodeBlock(reader: BitReader, dcTable: HuffmanDecodeTable, acTable: HuffmanDecodeTable, plane: Plane, offset: number, pred: number, ctx: BlockContext): number {
  reader.checkBounds();
  const s = reader.decode(dcTable);
  if (s > 11) throw new MalformedJpegError("DC difference out of range");
  const dc = s === 0 ? pred : pred + reader.receive(s);
  if (dc > MAX_DC || dc < -MAX_DC) throw new MalformedJpegError("DC coefficient out of range");
  const coefs = plane.coefs;
  const nonzero = plane.nonzero;
  const maskAt = offset >> 5;
  coefs[offset] = dc;
  const { target, sign } = ctx;
  const fastAc = acTable.fastAc;
  for (let k = 1; k < 64; k++) {
    const fast = fastAc[reader.peek()]!;
    if (fast !== 0) {
      reader.skip(fast & 15);
      k += (fast >> 4) & 15;
      if (k > 63) throw new MalformedJpegError("AC coefficient out of range");
      const t = target[k]!;
      coefs[offset + t] = (fast >> 8) * sign[k]!;
      nonzero[maskAt + (t >> 5)]! |= 1 << (t & 31);
      continue;
    }
    const rs = reader.decode(acTable);
    const size = rs & 15;
    const run = rs >> 4;
    if (size === 0) {
      if (run !== 15) break; // end of block
      k += 15;
      continue;
    }
    k += run;
    if (k > 63 || size > 10) throw new MalformedJpegError("AC coefficient out of range");
    const t = target[k]!;
    coefs[offset + t] = reader.receive(size) * sign[k]!;
    nonzero[maskAt + (t >> 5)]! |= 1 << (t & 31);
  }
  return dc;
}
