/** ZIGZAG[k] is the natural (row * 8 + column) index of the k-th coefficient in JPEG's zig-zag order. */
export const ZIGZAG: Uint8Array = buildZigzag();

/** NATURAL_TO_ZIGZAG[n] is the zig-zag position of natural index n. */
export const NATURAL_TO_ZIGZAG: Uint8Array = invert(ZIGZAG);

function buildZigzag(): Uint8Array {
  const order = new Uint8Array(64);
  let k = 0;
  // Walk the 15 anti-diagonals, alternating direction: odd ones go down-left, even ones up-right.
  for (let s = 0; s < 15; s++) {
    const low = Math.max(0, s - 7);
    const high = Math.min(s, 7);
    for (let i = 0; i <= high - low; i++) {
      const row = s % 2 === 1 ? low + i : high - i;
      order[k++] = row * 8 + (s - row);
    }
  }
  return order;
}

function invert(order: Uint8Array): Uint8Array {
  const inverse = new Uint8Array(64);
  for (let k = 0; k < 64; k++) inverse[order[k]!] = k;
  return inverse;
}
