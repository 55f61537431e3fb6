import type { BitWriter } from "./bit-writer.js";
import { UnencodableJpegError } from "./errors.js";
import type { EncodeTable } from "./huffman-encode.js";
import type { Layout } from "./geometry.js";
import type { Plane } from "./plane.js";

/** What is done with each block of the scan, in coding order. */
interface BlockVisitor {
  startMcu(): void;
  block(component: number, plane: Plane, offset: number): void;
  /** A block outside the picture, in an MCU at the right or bottom edge. */
  padding(component: number): void;
  restart(n: number): void;
}

/**
 * Visits one interleaved scan of all components (a lone component is coded block by block). Padding
 * blocks are coded as encoders do: no AC, the DC of the block before, so they cost almost nothing.
 */
function walkScan(layout: Layout, planes: Plane[], restartInterval: number, visit: BlockVisitor): void {
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

/** Bits of |value|; branch-free because coefficient signs are a coin toss for the branch predictor. */
function bitLength(value: number): number {
  const sign = value >> 31;
  return 32 - Math.clz32((value ^ sign) - sign);
}

function dcDifference(coefs: Int16Array, offset: number, last: Int32Array, component: number): number {
  const diff = coefs[offset]! - last[component]!;
  last[component] = coefs[offset]!;
  // Baseline DC tables stop at 11 bits; only a corrupt source gets further.
  if (diff > 2047 || diff < -2047) throw new UnencodableJpegError("DC difference out of range");
  return diff;
}

/** Counts the symbols each Huffman table would code, for building optimal tables. */
export function countSymbols(layout: Layout, planes: Plane[], restartInterval: number, dcCounts: Int32Array[], acCounts: Int32Array[]): void {
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
      const coefs = plane.coefs;
      dcCounts[c]![bitLength(dcDifference(coefs, offset, last, c))]!++;
      const ac = acCounts[c]!;
      let previous = 0;
      for (let half = 0; half < 2; half++) {
        let mask = plane.nonzero[(offset >> 5) + half]! & (half === 0 ? ~1 : ~0);
        while (mask !== 0) {
          const bit = mask & -mask;
          mask ^= bit;
          const k = 31 - Math.clz32(bit) + 32 * half;
          let run = k - previous - 1;
          for (; run > 15; run -= 16) ac[0xf0]!++;
          ac[(run << 4) | bitLength(coefs[offset + k]!)]!++;
          previous = k;
        }
      }
      if (previous < 63) ac[0]!++;
    },
  });
}

/** Writes the entropy-coded data of the one output scan (JPEG F.1.2). */
export function encodeScan(writer: BitWriter, layout: Layout, planes: Plane[], restartInterval: number, dcTables: EncodeTable[], acTables: EncodeTable[]): void {
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
      const coefs = plane.coefs;
      const diff = dcDifference(coefs, offset, last, c);
      const dcSize = bitLength(diff);
      writer.bits((dc.code[dcSize]! << dcSize) | ((diff + (diff >> 31)) & ((1 << dcSize) - 1)), dc.size[dcSize]! + dcSize);
      let previous = 0;
      for (let half = 0; half < 2; half++) {
        let mask = plane.nonzero[(offset >> 5) + half]! & (half === 0 ? ~1 : ~0);
        while (mask !== 0) {
          const bit = mask & -mask;
          mask ^= bit;
          const k = 31 - Math.clz32(bit) + 32 * half;
          let run = k - previous - 1;
          for (; run > 15; run -= 16) writer.bits(ac.code[0xf0]!, ac.size[0xf0]!);
          const v = coefs[offset + k]!;
          const size = bitLength(v);
          const symbol = (run << 4) | size;
          writer.bits((ac.code[symbol]! << size) | ((v + (v >> 31)) & ((1 << size) - 1)), ac.size[symbol]! + size);
          previous = k;
        }
      }
      if (previous < 63) writer.bits(ac.code[0]!, ac.size[0]!);
    },
  });
  writer.flushBits();
}
