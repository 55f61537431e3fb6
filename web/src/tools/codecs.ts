/**
 * The encoders, loaded on first use inside a web worker (each is a WebAssembly module of its own).
 * AVIF and OxiPNG pick their multi-threaded builds by themselves when the page is cross-origin
 * isolated (SharedArrayBuffer available); MozJPEG and WebP have none.
 */
import type { EncodeFormat, EncodeSettings } from "./protocol.js";

export const MIME: Record<EncodeFormat, string> = { jpeg: "image/jpeg", png: "image/png", webp: "image/webp", avif: "image/avif" };
export const EXTENSION: Record<EncodeFormat, string> = { jpeg: "jpg", png: "png", webp: "webp", avif: "avif" };

const loaders = {
  jpeg: () => import("@jsquash/jpeg/encode.js").then(async (m) => (await m.init(), m.default)),
  webp: () => import("@jsquash/webp/encode.js").then(async (m) => (await m.init(), m.default)),
  avif: () => import("@jsquash/avif/encode.js").then(async (m) => (await m.init(), m.default)),
  png: () => import("@jsquash/oxipng/optimise.js").then(async (m) => (await m.init(), m.default)),
};
type Loaded = { [F in EncodeFormat]: Awaited<ReturnType<(typeof loaders)[F]>> };
const loaded: Partial<{ [F in EncodeFormat]: Promise<Loaded[F]> }> = {};

function load<F extends EncodeFormat>(format: F): Promise<Loaded[F]> {
  return ((loaded[format] as Promise<Loaded[F]> | undefined) ??= loaders[format]() as Promise<Loaded[F]>);
}

export async function warmEncoders(formats: EncodeFormat[]): Promise<void> {
  await Promise.all(formats.map((f) => load(f)));
}

export async function encodePixels(image: ImageData, s: EncodeSettings): Promise<ArrayBuffer> {
  switch (s.format) {
    case "jpeg":
      // MozJPEG with its own defaults (progressive, optimised Huffman, trellis); subsampling as asked.
      return (await load("jpeg"))(image, { quality: s.quality, auto_subsample: false, chroma_subsample: s.chroma === "4:4:4" ? 1 : 2 });
    case "webp":
      return (await load("webp"))(image, { quality: s.quality, method: clamp(s.effort, 0, 6), lossless: s.lossless ? 1 : 0, exact: s.lossless ? 1 : 0 });
    case "avif":
      // libavif's speed runs the other way from effort (sharp's convention: effort 0-9 is speed 9-0).
      return (await load("avif"))(image, { quality: s.lossless ? 100 : s.quality, lossless: s.lossless, speed: 9 - clamp(s.effort, 0, 9), subsample: s.chroma === "4:4:4" ? 3 : 1 });
    case "png":
      return (await load("png"))(image, { level: clamp(s.effort, 0, 6), interlace: false, optimiseAlpha: true });
  }
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(n)));
}
