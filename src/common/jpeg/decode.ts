import { MalformedJpegError } from "./errors.js";
import { blockOffsets, coefficientMap, type Layout, type Motion } from "./geometry.js";
import { SLACK, unstuff } from "./entropy-data.js";
import { decodeLong, LOOKAHEAD, type HuffmanDecodeTable } from "./huffman-decode.js";
import type { ParsedJpeg, Scan } from "./parse.js";
import { CHUNK_BITS, CHUNK_MASK, type Coefficients, type ValueStore } from "./plane.js";

/** Quantised DC values of 8-bit JPEG stay within ±1024 (2047 leaves room for odd encoders). */
const MAX_DC = 2047;
const PEEK_SHIFT = 32 - LOOKAHEAD;

/**
 * Decodes every scan straight into the moved positions: each block lands where the motion puts it,
 * each coefficient at its moved index with its moved sign, so no second copy of the picture is made.
 * Each decoded block's DC, both non-zero masks and the start of its values are written whole, and its
 * non-zero AC values appended in moved zig-zag order; the encoder reads exactly those. Planes start
 * zeroed (a component no scan covers stays so).
 */
export function decodeInto(bytes: Uint8Array, jpeg: ParsedJpeg, source: Layout, result: Layout, motion: Motion, coefficients: Coefficients): void {
  const { target, sign } = coefficientMap(motion);
  const offsets = source.components.map((c, i) => blockOffsets(c, result.components[i]!, motion));
  const cursor = { chunk: 0, at: 0 };
  for (const scan of jpeg.scans) decodeScan(bytes, scan, source, coefficients, offsets, target, sign, cursor);
}

/**
 * One scan, as a single loop with the bit position in a local: this runs for every coefficient of
 * the picture, so nothing in it calls a method or reads an object's state per coefficient. The 32
 * bits at the bit position are read straight from memory each time (no refill branch, whose outcome
 * depends on the data and would be mispredicted about every other coefficient).
 */
function decodeScan(
  bytes: Uint8Array,
  scan: Scan,
  source: Layout,
  coefficients: Coefficients,
  offsets: { colOffset: Int32Array; rowOffset: Int32Array }[],
  target: Uint8Array,
  sign: Int8Array,
  cursor: { chunk: number; at: number },
): void {
  const planes = coefficients.planes;
  const entropy = unstuff(bytes, scan.start, scan.end);
  const data = entropy.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // A block reads far less than the slack, so checking once per block keeps every read in bounds.
  const lastBit = (data.length - SLACK) * 8 + 64;
  const ends = entropy.ends;
  const markers = entropy.markers;
  const comps = scan.components;
  const interval = scan.restartInterval;

  // The blocks of one MCU, in coding order: which scan component, and where in the MCU. A lone
  // component is coded block by block over just its picture area: an MCU of one block.
  const single = comps.length === 1;
  const mcusX = single ? source.components[comps[0]!.index]!.blocksW : source.mcusX;
  const mcusY = single ? source.components[comps[0]!.index]!.blocksH : source.mcusY;
  const slot: number[] = [];
  const dx: number[] = [];
  const dy: number[] = [];
  const hOf: number[] = [];
  const vOf: number[] = [];
  comps.forEach((c, i) => {
    const layout = source.components[c.index]!;
    const h = single ? 1 : layout.strideW / source.mcusX;
    const v = single ? 1 : layout.strideH / source.mcusY;
    for (let by = 0; by < v; by++) {
      for (let bx = 0; bx < h; bx++) {
        slot.push(i);
        dx.push(bx);
        dy.push(by);
        hOf.push(h);
        vOf.push(v);
      }
    }
  });
  const dcTables: HuffmanDecodeTable[] = slot.map((i) => comps[i]!.dc);
  const acTables: HuffmanDecodeTable[] = slot.map((i) => comps[i]!.ac);
  const fastAcs: Int32Array[] = acTables.map((t) => t.fastAc);
  const dcOf: Int16Array[] = slot.map((i) => planes[comps[i]!.index]!.dc);
  const nonzeroOf: Int32Array[] = slot.map((i) => planes[comps[i]!.index]!.nonzero);
  const startOf: Int32Array[] = slot.map((i) => planes[comps[i]!.index]!.start);
  const colOffsets: Int32Array[] = slot.map((i) => offsets[comps[i]!.index]!.colOffset);
  const rowOffsets: Int32Array[] = slot.map((i) => offsets[comps[i]!.index]!.rowOffset);
  // Each block is decoded here (at its moved positions), then its values are appended to the store;
  // padding blocks (outside the picture, in edge MCUs) are dropped.
  const block = new Int16Array(64);
  const masks = new Int32Array(2);
  const preds = new Int32Array(4);

  const state: DecodeState = {
    view,
    lastBit,
    ends,
    markers,
    interval,
    slot,
    dx,
    dy,
    hOf,
    vOf,
    dcTables,
    acTables,
    fastAcs,
    dcOf,
    nonzeroOf,
    startOf,
    colOffsets,
    rowOffsets,
    block,
    masks,
    values: coefficients.values,
    chunkIndex: cursor.chunk,
    chunk: coefficients.values.chunk(cursor.chunk),
    at: cursor.at,
    preds,
    target,
    sign,
    mcusX,
    pos: 0,
    run: 0,
    toGo: interval,
    nextRst: 0,
  };
  for (let my = 0; my < mcusY; my++) decodeRow(state, my);
  cursor.chunk = state.chunkIndex;
  cursor.at = state.at;
  if (state.pos > ends[state.run]! * 8) throw new MalformedJpegError("entropy-coded data ends early");
}

/** What decodeRow needs, made once per scan (one shape, so the row function stays monomorphic). */
interface DecodeState {
  view: DataView;
  lastBit: number;
  ends: number[];
  markers: number[];
  interval: number;
  slot: number[];
  dx: number[];
  dy: number[];
  hOf: number[];
  vOf: number[];
  dcTables: HuffmanDecodeTable[];
  acTables: HuffmanDecodeTable[];
  fastAcs: Int32Array[];
  dcOf: Int16Array[];
  nonzeroOf: Int32Array[];
  startOf: Int32Array[];
  colOffsets: Int32Array[];
  rowOffsets: Int32Array[];
  block: Int16Array;
  masks: Int32Array;
  values: ValueStore;
  chunkIndex: number;
  chunk: Int16Array;
  at: number; // next free index in chunk
  preds: Int32Array;
  target: Uint8Array;
  sign: Int8Array;
  mcusX: number;
  pos: number; // in bits
  run: number; // index of the restart interval being read
  toGo: number;
  nextRst: number;
}

/**
 * One row of MCUs. A function called per row rather than one loop over the picture: V8 optimises
 * it within the first rows of the first picture and keeps that code for the next pictures, where a
 * loop that runs once per call is recompiled on the stack (OSR) for its first several calls, slowly.
 */
function decodeRow(state: DecodeState, my: number): void {
  const { view, lastBit, ends, markers, interval, slot, dx, dy, hOf, vOf, dcTables, acTables, fastAcs, dcOf, nonzeroOf, startOf, colOffsets, rowOffsets } = state;
  const { block, masks, preds, target, sign, mcusX } = state;
  const blocks = slot.length;
  let pos = state.pos;
  let run = state.run;
  let toGo = state.toGo;
  let nextRst = state.nextRst;
  let chunk = state.chunk;
  let at = state.at;
  for (let mx = 0; mx < mcusX; mx++) {
    if (interval !== 0) {
      if (toGo === 0) {
        if (pos > ends[run]! * 8) throw new MalformedJpegError("entropy-coded data ends early");
        if (markers[run] !== nextRst) throw new MalformedJpegError("restart marker missing or out of order");
        pos = ends[run++]! * 8;
        nextRst = (nextRst + 1) & 7;
        preds.fill(0);
        toGo = interval;
      }
      toGo--;
    }
    for (let j = 0; j < blocks; j++) {
      if (pos > lastBit) throw new MalformedJpegError("entropy-coded data ends early");
      const row = rowOffsets[j]![my * vOf[j]! + dy[j]!]!;
      const col = colOffsets[j]![mx * hOf[j]! + dx[j]!]!;
      pos = decodeBlock(view, pos, dcTables[j]!, acTables[j]!, fastAcs[j]!, block, masks, target, sign, preds, slot[j]!);
      if (row < 0 || col < 0) continue; // padding
      const b = row + col;
      if (at > CHUNK_MASK - 63) {
        chunk = state.values.chunk(++state.chunkIndex);
        at = 0;
      }
      dcOf[j]![b] = block[0]!;
      const low = masks[0]!;
      const high = masks[1]!;
      nonzeroOf[j]![2 * b] = low;
      nonzeroOf[j]![2 * b + 1] = high;
      startOf[j]![b] = (state.chunkIndex << CHUNK_BITS) | at;
      // The values in zig-zag order. Positions whose bit is clear are never read, so the block
      // needs no clearing between blocks.
      for (let mask = low; mask !== 0; mask &= mask - 1) chunk[at++] = block[31 - Math.clz32(mask & -mask)]!;
      for (let mask = high; mask !== 0; mask &= mask - 1) chunk[at++] = block[63 - Math.clz32(mask & -mask)]!;
    }
  }
  state.chunk = chunk;
  state.at = at;
  state.pos = pos;
  state.run = run;
  state.toGo = toGo;
  state.nextRst = nextRst;
}

/**
 * Decodes one block (JPEG F.2.2) from bit position `pos` into `block` (only the positions the masks
 * name are written; the others keep stale values), each coefficient at its moved index with its
 * moved sign, and writes the block's non-zero masks (DC left out); returns the new bit position.
 * `preds[c]` is the DC prediction of the block's component, updated.
 */
function decodeBlock(
  view: DataView,
  pos: number,
  dcTable: HuffmanDecodeTable,
  acTable: HuffmanDecodeTable,
  fastAc: Int32Array,
  block: Int16Array,
  masks: Int32Array,
  target: Uint8Array,
  sign: Int8Array,
  preds: Int32Array,
  c: number,
): number {
  // DC (F.2.2.1): the size category, then that many bits of difference.
  let word = view.getInt32(pos >>> 3) << (pos & 7);
  let entry = dcTable.lookup[word >>> PEEK_SHIFT]!;
  if (entry === 0) entry = decodeLong(dcTable, word);
  pos += entry >> 8;
  const s = entry & 0xff;
  if (s > 11) throw new MalformedJpegError("DC difference out of range");
  let dc = preds[c]!;
  if (s !== 0) {
    const raw = (view.getInt32(pos >>> 3) << (pos & 7)) >>> (32 - s);
    pos += s;
    // RECEIVE and EXTEND: a clear top bit means negative, subtract 2^s - 1 without a branch.
    dc += raw - (((1 << s) - 1) & ((raw >>> (s - 1)) - 1));
  }
  if (dc > MAX_DC || dc < -MAX_DC) throw new MalformedJpegError("DC coefficient out of range");
  preds[c] = dc;
  block[0] = dc;

  // AC (F.2.2.2), most coefficients in one lookup of code and value together.
  let low = 0; // non-zero masks of the moved block
  let high = 0;
  for (let k = 1; k < 64; k++) {
    word = view.getInt32(pos >>> 3) << (pos & 7);
    const fast = fastAc[word >>> PEEK_SHIFT]!;
    let value: number;
    if (fast !== 0) {
      pos += fast & 15;
      k += (fast >> 4) & 15;
      if (k > 63) throw new MalformedJpegError("AC coefficient out of range");
      value = fast >> 8;
    } else {
      entry = acTable.lookup[word >>> PEEK_SHIFT]!;
      if (entry === 0) entry = decodeLong(acTable, word);
      pos += entry >> 8;
      const size = entry & 15;
      const zeros = (entry >> 4) & 15;
      if (size === 0) {
        if (zeros !== 15) break; // end of block
        k += 15;
        continue;
      }
      k += zeros;
      if (k > 63 || size > 10) throw new MalformedJpegError("AC coefficient out of range");
      const raw = (view.getInt32(pos >>> 3) << (pos & 7)) >>> (32 - size);
      pos += size;
      value = raw - (((1 << size) - 1) & ((raw >>> (size - 1)) - 1));
    }
    const t = target[k]!;
    block[t] = value * sign[k]!;
    if (t < 32) low |= 1 << t;
    else high |= 1 << t; // shifts count modulo 32
  }
  masks[0] = low;
  masks[1] = high;
  return pos;
}
