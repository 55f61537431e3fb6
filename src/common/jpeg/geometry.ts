import type { Frame, FrameComponent } from "./parse.js";
import { NATURAL_TO_ZIGZAG, ZIGZAG } from "./zigzag.js";

/** EXIF orientations other than 1 (upright). */
export type Orientation = 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** What turns a picture with that orientation upright: a transpose first, then mirrors of the result. */
export interface Motion {
  transpose: boolean;
  flipH: boolean;
  flipV: boolean;
}

export const MOTIONS: Record<Orientation, Motion> = {
  2: { transpose: false, flipH: true, flipV: false }, // mirror
  3: { transpose: false, flipH: true, flipV: true }, // rotate 180
  4: { transpose: false, flipH: false, flipV: true }, // flip
  5: { transpose: true, flipH: false, flipV: false }, // transpose
  6: { transpose: true, flipH: true, flipV: false }, // rotate 90 clockwise
  7: { transpose: true, flipH: true, flipV: true }, // transverse
  8: { transpose: true, flipH: false, flipV: true }, // rotate 270 clockwise
};

export interface ComponentLayout {
  blocksW: number; // blocks that hold picture
  blocksH: number;
  strideW: number; // blocks stored: whole MCUs when the scan is interleaved
  strideH: number;
}

export interface Layout {
  mcusX: number;
  mcusY: number;
  mcuWidth: number; // pixels
  mcuHeight: number;
  components: ComponentLayout[];
}

export function layoutOf(frame: Frame): Layout {
  const comps = frame.components;
  const maxH = Math.max(...comps.map((c) => c.h));
  const maxV = Math.max(...comps.map((c) => c.v));
  // A single component is never interleaved: its MCU is one block whatever its sampling factors say.
  const single = comps.length === 1;
  const mcuWidth = single ? 8 : 8 * maxH;
  const mcuHeight = single ? 8 : 8 * maxV;
  const mcusX = Math.ceil(frame.width / mcuWidth);
  const mcusY = Math.ceil(frame.height / mcuHeight);
  return {
    mcusX,
    mcusY,
    mcuWidth,
    mcuHeight,
    components: comps.map((c) => {
      const blocksW = Math.ceil((frame.width * c.h) / (8 * maxH));
      const blocksH = Math.ceil((frame.height * c.v) / (8 * maxV));
      return single ? { blocksW, blocksH, strideW: blocksW, strideH: blocksH } : { blocksW, blocksH, strideW: mcusX * c.h, strideH: mcusY * c.v };
    }),
  };
}

/** The frame after the motion: a transpose swaps the dimensions and each component's sampling factors. */
export function movedFrame(frame: Frame, motion: Motion): Frame {
  if (!motion.transpose) return frame;
  return {
    width: frame.height,
    height: frame.width,
    components: frame.components.map((c): FrameComponent => ({ ...c, h: c.v, v: c.h })),
  };
}

/**
 * A mirror moves the partial MCU at the right or bottom edge to the other side, where it cannot be
 * represented, so it is only lossless when that edge has whole MCUs (checked on the result).
 */
export function isPerfect(result: Layout, width: number, height: number, motion: Motion): boolean {
  if (motion.flipH && width % result.mcuWidth !== 0) return false;
  if (motion.flipV && height % result.mcuHeight !== 0) return false;
  return true;
}

/**
 * Where each decoded coefficient goes: for source zig-zag index k, its zig-zag index in the moved
 * block and the sign it takes. Mirroring a block's 8 samples negates its odd frequencies.
 */
export function coefficientMap(motion: Motion): { target: Uint8Array; sign: Int8Array } {
  const target = new Uint8Array(64);
  const sign = new Int8Array(64);
  for (let k = 0; k < 64; k++) {
    let row = ZIGZAG[k]! >> 3;
    let col = ZIGZAG[k]! & 7;
    if (motion.transpose) [row, col] = [col, row];
    const negate = (motion.flipH && col % 2 === 1) !== (motion.flipV && row % 2 === 1);
    target[k] = NATURAL_TO_ZIGZAG[row * 8 + col]!;
    sign[k] = negate ? -1 : 1;
  }
  return { target, sign };
}

/** A transposed block was quantised with the transposed table, so the table travels with it. */
export function movedQuantTable(table: Uint16Array, motion: Motion): Uint16Array {
  if (!motion.transpose) return table;
  const out = new Uint16Array(64);
  for (let n = 0; n < 64; n++) out[(n & 7) * 8 + (n >> 3)] = table[n]!;
  return out;
}

/**
 * For each source component, the index of source block (x, y) in the moved plane is
 * colOffset[x] + rowOffset[y]; -1 entries mark padding blocks that hold no picture.
 */
export function blockOffsets(source: ComponentLayout, result: ComponentLayout, motion: Motion): { colOffset: Int32Array; rowOffset: Int32Array } {
  const place = (i: number, limit: number, flip: boolean, scale: number): number => (flip ? limit - 1 - i : i) * scale;
  const colOffset = new Int32Array(source.strideW).fill(-1);
  const rowOffset = new Int32Array(source.strideH).fill(-1);
  const rowScale = result.strideW;
  for (let x = 0; x < source.blocksW; x++) {
    colOffset[x] = motion.transpose ? place(x, result.blocksH, motion.flipV, rowScale) : place(x, result.blocksW, motion.flipH, 1);
  }
  for (let y = 0; y < source.blocksH; y++) {
    rowOffset[y] = motion.transpose ? place(y, result.blocksW, motion.flipH, 1) : place(y, result.blocksH, motion.flipV, rowScale);
  }
  return { colOffset, rowOffset };
}
