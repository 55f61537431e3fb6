/**
 * Background removal in this browser (P2): @imgly/background-removal runs ISNet on ONNX Runtime
 * Web, with its model and runtime files served by Pixhaven itself under MODEL_PATH (copied from
 * @imgly/background-removal-data at build time). The photo never leaves the page.
 */
export type BackgroundModel = "small" | "medium";

export const MODEL_PATH = "/models/background-removal/";

/** Above this the decoded photo and its copies outgrow what a browser tab can be trusted with. */
export const MAX_LOCAL_PIXELS = 24_000_000;
/** navigator.deviceMemory under this many GiB: the model and its buffers may not fit. */
const MIN_DEVICE_MEMORY_GIB = 4;

export type WeakDevice = "no-simd" | "low-memory" | null;

// A tiny module that only validates where WebAssembly SIMD exists: () -> () { i32.const 0; i8x16.splat; drop }
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one () -> ()
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x09, 0x01, 0x07, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x1a, 0x0b, // code: i32.const 0, i8x16.splat, drop, end
]);

export function weakDevice(): WeakDevice {
  if (typeof WebAssembly !== "object" || !WebAssembly.validate(SIMD_PROBE)) return "no-simd";
  const memory = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  if (memory !== undefined && memory < MIN_DEVICE_MEMORY_GIB) return "low-memory";
  return null;
}

export interface LoadProgress {
  /** Bytes of model and runtime fetched so far, and in all (0 until the sizes are known). */
  loaded: number;
  total: number;
  phase: "loading" | "inference";
}

/** The photo's alpha: one byte per pixel, 255 for the subject. */
export interface Mask {
  width: number;
  height: number;
  alpha: Uint8Array;
}

/** Runs the model on `image` and returns its mask; the library caches the model between calls. */
export async function segment(image: Blob, model: BackgroundModel, onprogress: (p: LoadProgress) => void): Promise<Mask> {
  const { segmentForeground } = await import("@imgly/background-removal");
  const files = new Map<string, { current: number; total: number }>();
  const blob = await segmentForeground(image, {
    publicPath: new URL(MODEL_PATH, location.href).href,
    model,
    // proxyToWorker stays on (the default): inference runs in ONNX Runtime's web worker, the page stays responsive.
    output: { format: "image/x-alpha8", quality: 1 },
    progress(key, current, total) {
      if (key.startsWith("compute:")) {
        onprogress({ loaded: 0, total: 0, phase: "inference" });
        return;
      }
      files.set(key, { current, total });
      let loaded = 0;
      let all = 0;
      for (const f of files.values()) {
        loaded += f.current;
        all += f.total;
      }
      onprogress({ loaded, total: all, phase: "loading" });
    },
  });
  // "image/x-alpha8;width=W;height=H": the raw mask, one byte per pixel.
  const params = new Map(blob.type.split(";").slice(1).map((p) => p.trim().split("=") as [string, string]));
  return { width: Number(params.get("width")), height: Number(params.get("height")), alpha: new Uint8Array(await blob.arrayBuffer()) };
}

export type CutoutFormat = "image/png" | "image/webp" | "mask";

/** The photo with the mask as its alpha (PNG or WebP), or the mask alone as a greyscale PNG. */
export async function cutout(photo: ImageBitmap, mask: Mask, format: CutoutFormat): Promise<Blob> {
  const canvas = new OffscreenCanvas(mask.width, mask.height);
  const ctx = canvas.getContext("2d")!;
  let pixels: ImageData;
  if (format === "mask") {
    pixels = ctx.createImageData(mask.width, mask.height);
  } else {
    ctx.drawImage(photo, 0, 0, mask.width, mask.height);
    pixels = ctx.getImageData(0, 0, mask.width, mask.height);
  }
  const data = pixels.data;
  for (let i = 0; i < mask.alpha.length; i++) {
    const a = mask.alpha[i]!;
    if (format === "mask") {
      data[4 * i] = data[4 * i + 1] = data[4 * i + 2] = a;
      data[4 * i + 3] = 255;
    } else {
      data[4 * i + 3] = a;
    }
  }
  ctx.putImageData(pixels, 0, 0);
  return canvas.convertToBlob(format === "image/webp" ? { type: "image/webp", quality: 0.9 } : { type: "image/png" });
}
