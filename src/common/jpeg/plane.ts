import type { Layout } from "./geometry.js";

/**
 * One component's quantised DCT coefficients, kept sparse: per block its DC, two 32-bit masks of
 * which of its 64 zig-zag positions hold a non-zero coefficient (bit 0, the DC, left clear), and
 * where its non-zero AC values start in the shared value store, one after another in zig-zag order.
 * A 12 MP phone photo has about 15 non-zero AC coefficients per block of 64, so this holds it in
 * about 13 MB where a dense copy (64 coefficients a block) takes 39 MB (4:4:4: 22 MB against 78).
 * The encoder reads exactly the values it writes, in order, and skips the zeros by the masks.
 */
export interface Plane {
  dc: Int16Array;
  nonzero: Int32Array;
  /** per block, the index of its first AC value in the store (meaningless when it has none) */
  start: Int32Array;
}

/** Values live in chunks of 2^CHUNK_BITS; a block's values never straddle two (see ValueStore). */
export const CHUNK_BITS = 20;
export const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
const CHUNK_SIZE = 1 << CHUNK_BITS;

/**
 * The non-zero AC values of every block, appended as blocks are decoded. Value `g` is
 * `chunks[g >>> CHUNK_BITS][g & CHUNK_MASK]`. Chunks of 2 MB are added as needed, so the store
 * grows with the picture's detail without a copy, and a chunk starts afresh wherever the one before
 * has no room for a whole block (63 values).
 */
export class ValueStore {
  chunks: Int16Array[] = [];
  constructor(private readonly spare: Int16Array[]) {}

  /** The chunk `index`, made (or taken from the spare ones) when first asked for. */
  chunk(index: number): Int16Array {
    while (this.chunks.length <= index) this.chunks.push(this.spare.pop() ?? new Int16Array(CHUNK_SIZE));
    return this.chunks[index]!;
  }
}

export interface Coefficients {
  planes: Plane[];
  values: ValueStore;
}

/**
 * The largest block memory and the most value chunks kept for the next picture. A fresh
 * allocation per photo is garbage as soon as the photo is written, and the collector, which counts
 * such memory late, let two or three photos' worth pile up in each thread before freeing any;
 * reused, a thread holds one photo's (about 13 MB for 12 MP at 4:2:0, 22 MB at 4:4:4).
 */
const KEEP_BLOCKS = 1 << 20;
const KEEP_CHUNKS = 16;
let spareBlocks: { dc: Int16Array; nonzero: Int32Array; start: Int32Array } | undefined;
const spareChunks: Int16Array[] = [];

/** Empty coefficients for a layout; valid until the next call in this thread (a turn is synchronous). */
export function allocateCoefficients(layout: Layout): Coefficients {
  const blocks = layout.components.map((c) => c.strideW * c.strideH);
  const total = blocks.reduce((a, b) => a + b, 0);
  let memory = spareBlocks;
  if (memory && memory.dc.length >= total) {
    memory.dc.fill(0, 0, total);
    memory.nonzero.fill(0, 0, total * 2);
    memory.start.fill(0, 0, total);
  } else {
    spareBlocks = undefined; // the smaller one is garbage before the larger one is made
    memory = { dc: new Int16Array(total), nonzero: new Int32Array(total * 2), start: new Int32Array(total) };
    if (total <= KEEP_BLOCKS) spareBlocks = memory;
  }
  let at = 0;
  const planes = blocks.map((n) => {
    const plane = { dc: memory.dc.subarray(at, at + n), nonzero: memory.nonzero.subarray(at * 2, (at + n) * 2), start: memory.start.subarray(at, at + n) };
    at += n;
    return plane;
  });
  return { planes, values: new ValueStore(spareChunks) };
}

/** Hands a picture's value chunks back for the next one, up to KEEP_CHUNKS of them. */
export function releaseCoefficients(coefficients: Coefficients): void {
  for (const chunk of coefficients.values.chunks) if (spareChunks.length < KEEP_CHUNKS) spareChunks.push(chunk);
  coefficients.values.chunks = [];
}
