import type { BitWriter } from "./bit-writer.js";
import { UnencodableJpegError } from "./errors.js";
import type { EncodeTable } from "./huffman-encode.js";
import type { Layout } from "./geometry.js";
import { CHUNK_BITS, CHUNK_MASK, type Coefficients, type Plane } from "./plane.js";

/** What is done with each block of the scan, in coding order. */
interface BlockVisitor {
  startMcu(): void;
  block(component: number, plane: Plane, index: number): void;
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
        visit.block(0, planes[0]!, y * c.strideW + x);
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
            if (x < c.blocksW && y < c.blocksH) visit.block(i, plane, y * c.strideW + x);
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

function dcDifference(dc: Int16Array, index: number, last: Int32Array, component: number): number {
  const diff = dc[index]! - last[component]!;
  last[component] = dc[index]!;
  // Baseline DC tables stop at 11 bits; only a corrupt source gets further.
  if (diff > 2047 || diff < -2047) throw new UnencodableJpegError("DC difference out of range");
  return diff;
}

/** Counts the symbols each Huffman table would code, for building optimal tables. */
export function countSymbols(layout: Layout, coefficients: Coefficients, restartInterval: number, dcCounts: Int32Array[], acCounts: Int32Array[]): void {
  const last = new Int32Array(4);
  const chunks = coefficients.values.chunks;
  walkScan(layout, coefficients.planes, restartInterval, {
    startMcu() {},
    restart() {
      last.fill(0);
    },
    padding(c) {
      dcCounts[c]![0]!++;
      acCounts[c]![0]!++;
    },
    block(c, plane, index) {
      dcCounts[c]![bitLength(dcDifference(plane.dc, index, last, c))]!++;
      const ac = acCounts[c]!;
      const start = plane.start[index]!;
      const values = chunks[start >>> CHUNK_BITS]!;
      let at = start & CHUNK_MASK;
      let previous = 0;
      for (let half = 0; half < 2; half++) {
        let mask = plane.nonzero[2 * index + half]!;
        while (mask !== 0) {
          const bit = mask & -mask;
          mask ^= bit;
          const k = 31 - Math.clz32(bit) + 32 * half;
          let run = k - previous - 1;
          for (; run > 15; run -= 16) ac[0xf0]!++;
          ac[(run << 4) | bitLength(values[at++]!)]!++;
          previous = k;
        }
      }
      if (previous < 63) ac[0]!++;
    },
  });
}

/**
 * Writes the entropy-coded data of the one output scan (JPEG F.1.2). This runs for every coefficient
 * of the picture, so it is one loop over the writer's state held in locals, with the bit output
 * written out in place (see BitWriter.bits for what it does) rather than called per symbol.
 */
export function encodeScan(writer: BitWriter, layout: Layout, coefficients: Coefficients, restartInterval: number, dcTables: EncodeTable[], acTables: EncodeTable[]): void {
  const comps = layout.components;
  const planes = coefficients.planes;
  // The blocks of one MCU in coding order, as for decoding (a lone component: MCUs of one block).
  const single = comps.length === 1;
  const mcusX = single ? comps[0]!.blocksW : layout.mcusX;
  const mcusY = single ? comps[0]!.blocksH : layout.mcusY;
  const slot: number[] = [];
  const dx: number[] = [];
  const dy: number[] = [];
  comps.forEach((c, i) => {
    const h = single ? 1 : c.strideW / layout.mcusX;
    const v = single ? 1 : c.strideH / layout.mcusY;
    for (let by = 0; by < v; by++) {
      for (let bx = 0; bx < h; bx++) {
        slot.push(i);
        dx.push(bx);
        dy.push(by);
      }
    }
  });
  const hOf = slot.map((i) => (single ? 1 : comps[i]!.strideW / layout.mcusX));
  const vOf = slot.map((i) => (single ? 1 : comps[i]!.strideH / layout.mcusY));
  const widthOf = slot.map((i) => comps[i]!.blocksW);
  const heightOf = slot.map((i) => comps[i]!.blocksH);
  const strideOf = slot.map((i) => comps[i]!.strideW);
  const dcOf: Int16Array[] = slot.map((i) => planes[i]!.dc);
  const nonzeroOf: Int32Array[] = slot.map((i) => planes[i]!.nonzero);
  const startOf: Int32Array[] = slot.map((i) => planes[i]!.start);
  // Code and length together, (code << 8) | length: one load per symbol.
  const packed = (t: EncodeTable): Int32Array => Int32Array.from(t.code, (code, s) => (code << 8) | t.size[s]!);
  const dcCodes: Int32Array[] = slot.map((i) => packed(dcTables[i]!));
  const acCodes: Int32Array[] = slot.map((i) => packed(acTables[i]!));
  const last = new Int32Array(4);

  const state: EncodeState = {
    writer,
    slot,
    dx,
    dy,
    hOf,
    vOf,
    widthOf,
    heightOf,
    strideOf,
    dcOf,
    nonzeroOf,
    startOf,
    chunks: coefficients.values.chunks,
    dcCodes,
    acCodes,
    last,
    mcusX,
    restartInterval,
    toGo: restartInterval,
    nextRst: 0,
  };
  for (let my = 0; my < mcusY; my++) encodeRow(state, my);
  writer.flushBits();
}

/** What encodeRow needs, made once per scan (one shape, so the row function stays monomorphic). */
interface EncodeState {
  writer: BitWriter;
  slot: number[];
  dx: number[];
  dy: number[];
  hOf: number[];
  vOf: number[];
  widthOf: number[];
  heightOf: number[];
  strideOf: number[];
  dcOf: Int16Array[];
  nonzeroOf: Int32Array[];
  startOf: Int32Array[];
  chunks: Int16Array[];
  dcCodes: Int32Array[];
  acCodes: Int32Array[];
  last: Int32Array;
  mcusX: number;
  restartInterval: number;
  toGo: number;
  nextRst: number;
}

/**
 * One row of MCUs. A function called per row rather than one loop over the picture: V8 optimises
 * it within the first rows of the first picture and keeps that code for the next pictures, where a
 * loop that runs once per call is recompiled on the stack (OSR) for its first several calls, slowly.
 */
function encodeRow(state: EncodeState, my: number): void {
  const { writer, slot, dx, dy, hOf, vOf, widthOf, heightOf, strideOf, dcOf, nonzeroOf, startOf, chunks, dcCodes, acCodes, last, mcusX, restartInterval } = state;
  const blocks = slot.length;
  let buf = writer.buf;
  let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = writer.pos;
  let acc = writer.acc;
  let count = writer.count;
  let toGo = state.toGo;
  let nextRst = state.nextRst;
  for (let mx = 0; mx < mcusX; mx++) {
    if (restartInterval > 0) {
      if (toGo === 0) {
        writer.pos = pos;
        writer.acc = acc;
        writer.count = count;
        writer.bytes([0xff, 0xd0 + nextRst]); // pads the bits to a byte first
        ({ buf, pos, acc, count } = writer);
        view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        nextRst = (nextRst + 1) & 7;
        last.fill(0);
        toGo = restartInterval;
      }
      toGo--;
    }
    // An MCU of 10 worst-case blocks, stuffed, fits with room to spare.
    if (pos + 8192 > buf.length) {
      writer.pos = pos;
      writer.reserve(8192);
      buf = writer.buf;
      view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    for (let j = 0; j < blocks; j++) {
      const c = slot[j]!;
      const x = mx * hOf[j]! + dx[j]!;
      const y = my * vOf[j]! + dy[j]!;
      const dcCode = dcCodes[j]!;
      const acCode = acCodes[j]!;
      // Each symbol goes through the same steps, written out in place: `bits` of `length` (at
      // most 31) join the accumulator, and when it fills, four bytes go out, stuffed.
      let bits: number;
      let length: number;
      if (x >= widthOf[j]! || y >= heightOf[j]!) {
        // Padding, coded as encoders do: no AC, the DC of the block before; they cost almost nothing.
        bits = ((dcCode[0]! >>> 8) << (acCode[0]! & 0xff)) | (acCode[0]! >>> 8);
        length = (dcCode[0]! & 0xff) + (acCode[0]! & 0xff);
        if (length < 32 - count) {
          acc = (acc << length) | bits;
          count += length;
        } else {
          const rest = length - (32 - count);
          const word = (acc << (32 - count)) | (bits >>> rest);
          // Most words hold no 0xFF byte (the test is for a zero byte in ~word): one store.
          if (((~word - 0x01010101) & word & 0x80808080) === 0) {
            view.setInt32(pos, word);
            pos += 4;
          } else {
            for (let shift = 24; shift >= 0; shift -= 8) {
              const byte = (word >>> shift) & 0xff;
              buf[pos++] = byte;
              if (byte === 0xff) buf[pos++] = 0;
            }
          }
          acc = bits;
          count = rest;
        }
        continue;
      }
      const index = y * strideOf[j]! + x;
      const dcValue = dcOf[j]![index]!;
      const diff = dcValue - last[c]!;
      last[c] = dcValue;
      // Baseline DC tables stop at 11 bits; only a corrupt source gets further.
      if (diff > 2047 || diff < -2047) throw new UnencodableJpegError("DC difference out of range");
      let size = bitLength(diff);
      let code = dcCode[size]!;
      bits = ((code >>> 8) << size) | ((diff + (diff >> 31)) & ((1 << size) - 1));
      length = (code & 0xff) + size;
      if (length < 32 - count) {
        acc = (acc << length) | bits;
        count += length;
      } else {
        const rest = length - (32 - count);
        const word = (acc << (32 - count)) | (bits >>> rest);
        // Most words hold no 0xFF byte (the test is for a zero byte in ~word): one store.
        if (((~word - 0x01010101) & word & 0x80808080) === 0) {
          view.setInt32(pos, word);
          pos += 4;
        } else {
          for (let shift = 24; shift >= 0; shift -= 8) {
            const byte = (word >>> shift) & 0xff;
            buf[pos++] = byte;
            if (byte === 0xff) buf[pos++] = 0;
          }
        }
        acc = bits;
        count = rest;
      }
      let previous = 0;
      const nonzero = nonzeroOf[j]!;
      const start = startOf[j]![index]!;
      const values = chunks[start >>> CHUNK_BITS]!;
      let at = start & CHUNK_MASK;
      for (let half = 0; half < 2; half++) {
        let mask = nonzero[2 * index + half]!;
        while (mask !== 0) {
          const bit = mask & -mask;
          mask ^= bit;
          const k = 31 - Math.clz32(bit) + 32 * half;
          let run = k - previous - 1;
          while (run > 15) {
            bits = acCode[0xf0]! >>> 8;
            length = acCode[0xf0]! & 0xff;
            if (length < 32 - count) {
              acc = (acc << length) | bits;
              count += length;
            } else {
              const rest = length - (32 - count);
              const word = (acc << (32 - count)) | (bits >>> rest);
              // Most words hold no 0xFF byte (the test is for a zero byte in ~word): one store.
              if (((~word - 0x01010101) & word & 0x80808080) === 0) {
                view.setInt32(pos, word);
                pos += 4;
              } else {
                for (let shift = 24; shift >= 0; shift -= 8) {
                  const byte = (word >>> shift) & 0xff;
                  buf[pos++] = byte;
                  if (byte === 0xff) buf[pos++] = 0;
                }
              }
              acc = bits;
              count = rest;
            }
            run -= 16;
          }
          const v = values[at++]!;
          size = bitLength(v);
          code = acCode[(run << 4) | size]!;
          bits = ((code >>> 8) << size) | ((v + (v >> 31)) & ((1 << size) - 1));
          length = (code & 0xff) + size;
          if (length < 32 - count) {
            acc = (acc << length) | bits;
            count += length;
          } else {
            const rest = length - (32 - count);
            const word = (acc << (32 - count)) | (bits >>> rest);
            // Most words hold no 0xFF byte (the test is for a zero byte in ~word): one store.
            if (((~word - 0x01010101) & word & 0x80808080) === 0) {
              view.setInt32(pos, word);
              pos += 4;
            } else {
              for (let shift = 24; shift >= 0; shift -= 8) {
                const byte = (word >>> shift) & 0xff;
                buf[pos++] = byte;
                if (byte === 0xff) buf[pos++] = 0;
              }
            }
            acc = bits;
            count = rest;
          }
          previous = k;
        }
      }
      if (previous < 63) {
        bits = acCode[0]! >>> 8;
        length = acCode[0]! & 0xff;
        if (length < 32 - count) {
          acc = (acc << length) | bits;
          count += length;
        } else {
          const rest = length - (32 - count);
          const word = (acc << (32 - count)) | (bits >>> rest);
          // Most words hold no 0xFF byte (the test is for a zero byte in ~word): one store.
          if (((~word - 0x01010101) & word & 0x80808080) === 0) {
            view.setInt32(pos, word);
            pos += 4;
          } else {
            for (let shift = 24; shift >= 0; shift -= 8) {
              const byte = (word >>> shift) & 0xff;
              buf[pos++] = byte;
              if (byte === 0xff) buf[pos++] = 0;
            }
          }
          acc = bits;
          count = rest;
        }
      }
    }
  }
  writer.pos = pos;
  writer.acc = acc;
  writer.count = count;
  state.toGo = toGo;
  state.nextRst = nextRst;
}
