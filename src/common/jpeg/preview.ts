import type { Layout } from "./geometry.js";
import type { Frame, ParsedJpeg } from "./parse.js";
import { CHUNK_BITS, CHUNK_MASK, type Coefficients, type Plane } from "./plane.js";
import { ZIGZAG } from "./zigzag.js";

/** An RGB picture, 3 bytes a pixel, rows top to bottom. */
export interface Preview {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * The picture at 1/8 scale, computed as libjpeg's scaled decode does it (what sharp's shrink-on-load
 * uses): each luma block becomes one pixel, its mean (DC × quant[0] / 8 + 128); chroma at half
 * resolution both ways (4:2:0) is scaled up inside the inverse DCT instead, each block becoming the
 * means of its four quadrants (2×2), so it needs no upsampling. Then YCbCr becomes RGB with libjpeg's
 * fixed-point arithmetic. Up to rounding (a level or two in a few pixels) the result is libjpeg's.
 *
 * Only for 3-component YCbCr at 4:2:0 (phone cameras) or 4:4:4: null for anything else (greyscale,
 * RGB, CMYK, 4:2:2 and other sampling, which libjpeg scales differently).
 */
export function dcPreview(jpeg: ParsedJpeg, frame: Frame, layout: Layout, coefficients: Coefficients, quantTables: (Uint16Array | undefined)[]): Preview | null {
  const comps = frame.components;
  if (comps.length !== 3 || !isYcc(jpeg, frame)) return null;
  const maxH = Math.max(...comps.map((c) => c.h));
  const maxV = Math.max(...comps.map((c) => c.v));
  const luma = comps[0]!;
  if (luma.h !== maxH || luma.v !== maxV) return null;
  for (const c of comps.slice(1)) {
    if (!(maxH === c.h && maxV === c.v) && !(maxH === 2 * c.h && maxV === 2 * c.v)) return null;
  }
  const width = layout.components[0]!.blocksW;
  const height = layout.components[0]!.blocksH;
  // Each component at 1/8 scale, then chroma brought to the luma grid.
  const planes = coefficients.planes;
  const full = comps.map((c, i) => {
    const quant = quantTables[c.quantSlot]!;
    if (maxH === 2 * c.h && maxV === 2 * c.v) return quadrantPlane(layout.components[i]!, planes[i]!, coefficients.values.chunks, quant, width, height);
    return dcPlane(layout.components[i]!, planes[i]!, quant[0]!);
  });
  return { width, height, data: yccToRgb(full[0]!, full[1]!, full[2]!, width * height) };
}

/** As libjpeg decides it: JFIF or an Adobe transform of 1 says YCbCr, Adobe 0 or ids R, G, B say RGB. */
function isYcc(jpeg: ParsedJpeg, frame: Frame): boolean {
  if (jpeg.sawJfif) return true;
  if (jpeg.adobeTransform !== undefined) return jpeg.adobeTransform === 1;
  const ids = frame.components.map((c) => c.id);
  return !(ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42);
}

function dcPlane(c: Layout["components"][number], plane: Plane, quant: number): Uint8Array {
  const out = new Uint8Array(c.blocksW * c.blocksH);
  const dc = plane.dc;
  for (let y = 0; y < c.blocksH; y++) {
    for (let x = 0; x < c.blocksW; x++) {
      const v = ((dc[y * c.strideW + x]! * quant + 4) >> 3) + 128;
      out[y * c.blocksW + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/**
 * For frequency u of an 8-point DCT, √2 × the mean of its cosine over the first four samples (the
 * second four have the opposite sign for odd u; for even u > 0 both are 0): the weight of that
 * coefficient in the mean of a half block, relative to the DC's weight of 1.
 */
const HALF_WEIGHT = Float64Array.from({ length: 8 }, (_, u) => {
  if (u === 0) return 1;
  if (u % 2 === 0) return 0;
  let sum = 0;
  for (let n = 0; n < 4; n++) sum += Math.cos(((2 * n + 1) * u * Math.PI) / 16);
  return (Math.SQRT2 * sum) / 4;
});
/**
 * For each zig-zag position: its natural index, its weight in a quadrant's mean relative to the DC
 * (0 for coefficients that do not move the quadrant means), and its sign in the right half and in
 * the bottom half.
 */
const QUADRANT_NATURAL = Uint8Array.from({ length: 64 }, (_, k) => ZIGZAG[k]!);
const QUADRANT_WEIGHT = Float64Array.from({ length: 64 }, (_, k) => HALF_WEIGHT[ZIGZAG[k]! >> 3]! * HALF_WEIGHT[ZIGZAG[k]! & 7]!);
const QUADRANT_RIGHT = Float64Array.from({ length: 64 }, (_, k) => ((ZIGZAG[k]! & 7) % 2 === 1 ? -1 : 1));
const QUADRANT_BOTTOM = Float64Array.from({ length: 64 }, (_, k) => ((ZIGZAG[k]! >> 3) % 2 === 1 ? -1 : 1));
/** The zig-zag positions whose weight is not 0, as the two 32-bit halves of a block's non-zero masks (the DC left out). */
const QUADRANT_MASKS = [0, 1].map((half) => {
  let mask = 0;
  for (let k = 32 * half; k < 32 * half + 32; k++) if (k > 0 && QUADRANT_WEIGHT[k] !== 0) mask |= 1 << (k & 31);
  return mask;
});

/** The number of set bits. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** A component at twice its block count both ways, each block as the means of its four quadrants; cut to width × height. */
function quadrantPlane(c: Layout["components"][number], plane: Plane, chunks: Int16Array[], quant: Uint16Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  // Per zig-zag position, the weight with the quantisation step in it.
  const weight = Float64Array.from(QUADRANT_WEIGHT, (w, k) => w * quant[QUADRANT_NATURAL[k]!]!);
  const { dc, nonzero, start } = plane;
  for (let by = 0; by < c.blocksH; by++) {
    for (let bx = 0; bx < c.blocksW; bx++) {
      const index = by * c.strideW + bx;
      // Quadrants: top-left, top-right, bottom-left, bottom-right; odd frequencies flip sign in the second half.
      let topLeft = dc[index]! * weight[0]!;
      let topRight = topLeft;
      let bottomLeft = topLeft;
      let bottomRight = topLeft;
      // Only the non-zero coefficients that count (the masks say which, and where each value is
      // stored: after as many values as there are set bits before it).
      const values = chunks[start[index]! >>> CHUNK_BITS]!;
      const first = start[index]! & CHUNK_MASK;
      for (let half = 0; half < 2; half++) {
        const all = nonzero[2 * index + half]!;
        const before = half === 0 ? first : first + popcount(nonzero[2 * index]!);
        let mask = all & QUADRANT_MASKS[half]!;
        while (mask !== 0) {
          const bit = mask & -mask;
          mask ^= bit;
          const k = 31 - Math.clz32(bit) + 32 * half;
          const f = values[before + popcount(all & (bit - 1))]! * weight[k]!;
          const right = f * QUADRANT_RIGHT[k]!;
          topLeft += f;
          topRight += right;
          bottomLeft += f * QUADRANT_BOTTOM[k]!;
          bottomRight += right * QUADRANT_BOTTOM[k]!;
        }
      }
      const x = 2 * bx;
      const y = 2 * by;
      put(out, width, height, x, y, topLeft);
      put(out, width, height, x + 1, y, topRight);
      put(out, width, height, x, y + 1, bottomLeft);
      put(out, width, height, x + 1, y + 1, bottomRight);
    }
  }
  return out;
}

/** One pixel of a quadrant plane from its dequantised sum (8 × its mean), unless it falls outside. */
function put(out: Uint8Array, width: number, height: number, x: number, y: number, sum: number): void {
  if (x >= width || y >= height) return;
  const v = Math.round(sum / 8) + 128;
  out[y * width + x] = v < 0 ? 0 : v > 255 ? 255 : v;
}

const SCALE_BITS = 16;
const ONE_HALF = 1 << (SCALE_BITS - 1);
const fix = (x: number): number => Math.floor(x * (1 << SCALE_BITS) + 0.5);
const CR_R = fix(1.402);
const CB_G = fix(0.34414);
const CR_G = fix(0.71414);
const CB_B = fix(1.772);

/** libjpeg's YCbCr → RGB (jdcolor.c), the same fixed-point arithmetic without its tables. */
function yccToRgb(y: Uint8Array, cb: Uint8Array, cr: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const luma = y[i]!;
    const b = cb[i]! - 128;
    const r = cr[i]! - 128;
    const red = luma + ((CR_R * r + ONE_HALF) >> SCALE_BITS);
    const green = luma + ((-CB_G * b + ONE_HALF - CR_G * r) >> SCALE_BITS);
    const blue = luma + ((CB_B * b + ONE_HALF) >> SCALE_BITS);
    out[3 * i] = red < 0 ? 0 : red > 255 ? 255 : red;
    out[3 * i + 1] = green < 0 ? 0 : green > 255 ? 255 : green;
    out[3 * i + 2] = blue < 0 ? 0 : blue > 255 ? 255 : blue;
  }
  return out;
}
