import type * as ort from "onnxruntime-node";
import type { EsrganScale, EsrganSize } from "./esrgan-models.js";
import { esrganFiles } from "./esrgan-models.js";
import { withConvertedModel } from "./keras-onnx-thread.js";
import { createSession, runSession } from "./onnx.model.js";
import type { ModelHandler } from "./registry.js";

/** A picture or a tile of one as RGB bytes, row-major, 3 bytes a pixel. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** RGB bytes as the `[1, 3, H, W]` floats the graph takes, scaled to 0..`range`. */
export function rgbToPlanes(image: RgbImage, range: 1 | 255): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(plane * 3);
  const factor = range / 255;
  for (let i = 0; i < plane; i++) {
    out[i] = image.data[i * 3]! * factor;
    out[plane + i] = image.data[i * 3 + 1]! * factor;
    out[2 * plane + i] = image.data[i * 3 + 2]! * factor;
  }
  return out;
}

/** The graph's `[1, 3, H, W]` output in 0..`range` back to RGB bytes, rounded and clamped (as TensorFlow.js's upscalers give them). */
export function planesToRgb(planes: Float32Array, width: number, height: number, range: 1 | 255): Uint8Array {
  const plane = width * height;
  // Assigning to a Uint8ClampedArray clamps to 0..255 and rounds.
  const out = new Uint8ClampedArray(plane * 3);
  const factor = 255 / range;
  for (let i = 0; i < plane; i++) {
    out[i * 3] = planes[i]! * factor;
    out[i * 3 + 1] = planes[plane + i]! * factor;
    out[i * 3 + 2] = planes[2 * plane + i]! * factor;
  }
  return new Uint8Array(out.buffer);
}

/**
 * An ESRGAN model of one size and scale: an RGB tile in, the same tile `scale` times larger out.
 * The package's Keras model runs as an ONNX graph on ONNX Runtime (see esrgan-onnx.ts), converted
 * once per model thread.
 */
export function esrganHandler(size: EsrganSize, scale: EsrganScale): ModelHandler<RgbImage, RgbImage, ort.InferenceSession> {
  const { range } = esrganFiles(size, scale);
  return {
    // The memory arena stays on: tiles are all about the same size, so after two runs it holds one
    // tile's working set and each run reuses it. Without it every run maps and faults in its
    // activations afresh (with the server's 128 KiB mmap threshold), which made a slim 4x tile
    // take 0.32 s instead of 0.09 s. The memory goes back when the idle model thread exits.
    load: () => withConvertedModel({ model: "esrgan", size, scale }, (file) => createSession(file, { enableCpuMemArena: true })),
    async run(session, tile) {
      const { data, dims } = await runSession(session, rgbToPlanes(tile, range), [1, 3, tile.height, tile.width]);
      const width = tile.width * scale;
      const height = tile.height * scale;
      if (dims[1] !== 3 || dims[2] !== height || dims[3] !== width) throw new Error(`the upscaler gave ${dims.join("×")}, not 1×3×${height}×${width}`);
      const rgb = planesToRgb(data, width, height, range);
      return { value: { data: rgb, width, height }, transfer: [rgb.buffer as ArrayBuffer] };
    },
  };
}
