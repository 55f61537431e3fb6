import type { Layout } from "./geometry.js";

/**
 * One component's quantised DCT coefficients: blocks of 64 in zig-zag order, row by row, and for each
 * block two 32-bit masks of which coefficients are non-zero, so that encoding skips the zeros (most
 * of them) without looking at them.
 */
export interface Plane {
  coefs: Int16Array;
  nonzero: Int32Array;
}

/**
 * The largest coefficient memory kept for the next picture: 36 MB for a 12 MP 4:2:0 photo, 72 MB
 * for a 4:4:4 one. A fresh allocation per photo is garbage as soon as the photo is written, and
 * the collector, which counts such memory late, let two or three photos' worth pile up in each
 * thread before freeing any; reused, a thread holds one.
 */
const KEEP_BYTES = 96 * 1024 * 1024;
let spare: { coefs: Int16Array; nonzero: Int32Array } | undefined;

/** Zeroed planes for a layout; valid until the next call in this thread (a turn is synchronous). */
export function allocatePlanes(layout: Layout): Plane[] {
  const blocks = layout.components.map((c) => c.strideW * c.strideH);
  const total = blocks.reduce((a, b) => a + b, 0);
  let memory = spare;
  if (memory && memory.nonzero.length >= total * 2) {
    memory.coefs.fill(0, 0, total * 64);
    memory.nonzero.fill(0, 0, total * 2);
  } else {
    spare = undefined; // the smaller one is garbage before the larger one is made
    memory = { coefs: new Int16Array(total * 64), nonzero: new Int32Array(total * 2) };
    if (total * 64 * 2 <= KEEP_BYTES) spare = memory;
  }
  let at = 0;
  return blocks.map((n) => {
    const plane = { coefs: memory.coefs.subarray(at * 64, (at + n) * 64), nonzero: memory.nonzero.subarray(at * 2, (at + n) * 2) };
    at += n;
    return plane;
  });
}
