import type { BitWriter } from "./bit-writer.js";
import { UnencodableJpegError } from "./errors.js";
import type { EncodeTable } from "./huffman-encode.js";
import type { Layout } from "./geometry.js";

/** What is done with each block of the scan, in coding order. */
interface BlockVisitor {
  startMcu(): void;
  block(component: number, plane: Int16Array, offset: number): void;
  /** A block outside the picture, in an MCU at the right or bottom edge. */
  padding(component: number): void;
  restart(n: number): void;
}

/**
 * Visits one interleaved scan of all components (a lone component is coded block by block). Padding
 * blocks are coded as encoders do: no AC, the DC of the block before, so they cost almost nothing.
 */
function walkScan(layout: Layout, planes: Int16Array[], restartInterval: number, visit: BlockVisitor): void {
  let toGo = restartInterval;
  let nextRst = 0;
  const beforeMcu = (): void => {
    if (restartInterval > 0) {
      if (toGo === 0) {
        visit.restart(nextRst);
        nextRst = (nextRst + 1) & 7;
        toGo = restartInterval;
      }
      toGo--;
    }
    visit.startMcu();
  };
  const comps = layout.components;
  if (comps.length === 1) {
    const c = comps[0]!;
    for (let y = 0; y < c.blocksH; y++) {
      for (let x = 0; x < c.blocksW; x++) {
        beforeMcu();
        visit.block(0, planes[0]!, (y * c.strideW + x) * 64);
      }
    }
    return;
  }
  const sampling = comps.map((c) => ({ ...c, h: c.strideW / layout.mcusX, v: c.strideH / layout.mcusY }));
  for (let my = 0; my < layout.mcusY; my++) {
    for (let mx = 0; mx < layout.mcusX; mx++) {
      beforeMcu();
      for (let i = 0; i < sampling.length; i++) {
        const c = sampling[i]!;
        const plane = planes[i]!;
        for (let by = 0; by < c.v; by++) {
          const y = my * c.v + by;
          for (let bx = 0; bx < c.h; bx++) {
            const x = mx * c.h + bx;
            if (x < c.blocksW && y < c.blocksH) visit.block(i, plane, (y * c.strideW + x) * 64);
            else visit.padding(i);
          }
        }
      }
    }
  }
}

function bitLength(value: number): number {
  return 32 - Math.clz32(value < 0 ? -value : value);
}

function dcDifference(plane: Int16Array, offset: number, last: Int32Array, component: number): number {
  const diff = plane[offset]! - last[component]!;
  last[component] = plane[offset]!;
  // Baseline DC tables stop at 11 bits; only a corrupt source gets further.
  if (diff > 2047 || diff < -2047) throw new UnencodableJpegError("DC difference out of range");
  return diff;
}

/** Counts the symbols each Huffman table would code, for building optimal tables. */
export function countSymbols(layout: Layout, planes: Int16Array[], restartInterval: number, dcCounts: Int32Array[], acCounts: Int32Array[]): void {
  const last = new Int32Array(4);
  walkScan(layout, planes, restartInterval, {
    startMcu() {},
    restart() {
      last.fill(0);
    },
    padding(c) {
      dcCounts[c]![0]!++;
      acCounts[c]![0]!++;
    },
    block(c, plane, offset) {
      dcCounts[c]![bitLength(dcDifference(plane, offset, last, c))]!++;
      const ac = acCounts[c]!;
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const v = plane[offset + k]!;
        if (v === 0) {
          run++;
          continue;
        }
        for (; run > 15; run -= 16) ac[0xf0]!++;
        ac[(run << 4) | bitLength(v)]!++;
        run = 0;
      }
      if (run > 0) ac[0]!++;
    },
  });
}

/** Writes the entropy-coded data of the one output scan (JPEG F.1.2). */
export function encodeScan(writer: BitWriter, layout: Layout, planes: Int16Array[], restartInterval: number, dcTables: EncodeTable[], acTables: EncodeTable[]): void {
  const last = new Int32Array(4);
  walkScan(layout, planes, restartInterval, {
    startMcu() {
      writer.reserve(8192); // an MCU of 10 worst-case blocks, stuffed, fits with room to spare
    },
    restart(n) {
      writer.flushBits();
      writer.bytes([0xff, 0xd0 + n]);
      last.fill(0);
    },
    padding(c) {
      writer.bits(dcTables[c]!.code[0]!, dcTables[c]!.size[0]!);
      writer.bits(acTables[c]!.code[0]!, acTables[c]!.size[0]!);
    },
    block(c, plane, offset) {
      const dc = dcTables[c]!;
      const ac = acTables[c]!;
      const diff = dcDifference(plane, offset, last, c);
      let size = bitLength(diff);
      writer.bits(dc.code[size]!, dc.size[size]!);
      if (size > 0) writer.bits((diff < 0 ? diff - 1 : diff) & ((1 << size) - 1), size);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const v = plane[offset + k]!;
        if (v === 0) {
          run++;
          continue;
        }
        for (; run > 15; run -= 16) writer.bits(ac.code[0xf0]!, ac.size[0xf0]!);
        size = bitLength(v);
        const symbol = (run << 4) | size;
        writer.bits(ac.code[symbol]!, ac.size[symbol]!);
        writer.bits((v < 0 ? v - 1 : v) & ((1 << size) - 1), size);
        run = 0;
      }
      if (run > 0) writer.bits(ac.code[0]!, ac.size[0]!);
    },
  });
  writer.flushBits();
}
