/**
 * CIE L*a*b* (D65) from and to 8-bit sRGB, for colourisation: the model's colours (a, b) go over
 * the photo's own lightness (L). Tables stand in for the sRGB curve both ways: a 12 MP photo is
 * turned in well under a second in a model thread.
 */
const Xn = 0.95047;
const Zn = 1.08883;
const EPSILON = (6 / 29) ** 3;
const KAPPA = 3 * (6 / 29) ** 2;

/** sRGB 8-bit to linear light. */
const TO_LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

const STEPS = 65535;
/** Linear light (quantised to 1/65535) to sRGB 8-bit. */
const TO_SRGB = Uint8Array.from({ length: STEPS + 1 }, (_, i) => {
  const c = i / STEPS;
  return Math.round(255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055));
});

const f = (t: number) => (t > EPSILON ? Math.cbrt(t) : t / KAPPA + 4 / 29);
const fInverse = (t: number) => (t > 6 / 29 ? t * t * t : KAPPA * (t - 4 / 29));

/** L* (0..100) of an sRGB colour. */
export function lightness(r: number, g: number, b: number): number {
  const y = 0.2126729 * TO_LINEAR[r]! + 0.7151522 * TO_LINEAR[g]! + 0.072175 * TO_LINEAR[b]!;
  return 116 * f(y) - 16;
}

/** L*a*b* of an sRGB colour. */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  const R = TO_LINEAR[r]!, G = TO_LINEAR[g]!, B = TO_LINEAR[b]!;
  const fx = f((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / Xn);
  const fy = f(0.2126729 * R + 0.7151522 * G + 0.072175 * B);
  const fz = f((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / Zn);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const encode = (c: number) => TO_SRGB[Math.round(Math.min(1, Math.max(0, c)) * STEPS)]!;

/** Writes the sRGB colour of (L, a, b) at `out[at..at+2]`, clipped to the sRGB gamut. */
export function labToSrgb(L: number, a: number, b: number, out: Uint8Array, at: number): void {
  const fy = (L + 16) / 116;
  const X = Xn * fInverse(fy + a / 500);
  const Y = fInverse(fy);
  const Z = Zn * fInverse(fy - b / 200);
  out[at] = encode(3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z);
  out[at + 1] = encode(-0.969266 * X + 1.8760108 * Y + 0.041556 * Z);
  out[at + 2] = encode(0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z);
}
