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

export function allocatePlanes(layout: Layout): Plane[] {
  return layout.components.map((c) => ({ coefs: new Int16Array(c.strideW * c.strideH * 64), nonzero: new Int32Array(c.strideW * c.strideH * 2) }));
}
