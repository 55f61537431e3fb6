import type { GraphModel, Tensor } from "@tensorflow/tfjs";
import type { RgbImage } from "./esrgan.js";
import { MAXIM_MODEL_JSON, MAXIM_MULTIPLE, MAXIM_PACKAGE } from "./maxim-models.js";
import { registerEinsum } from "./maxim-einsum.js";
import type { ModelHandler } from "./registry.js";
import { diskModel, rgbToTensor, tensorToRgb } from "./tf-disk.js";
import { tfjsWasm } from "./tfjs-wasm.js";

/**
 * Copies an RGB picture into a larger one, repeating its last column and row outwards: the model
 * takes sides in multiples of 64, and repeated edges disturb it less than black bars.
 */
export function padRgb(image: RgbImage, width: number, height: number): RgbImage {
  if (width === image.width && height === image.height) return image;
  const out = new Uint8Array(width * height * 3);
  const row = image.width * 3;
  for (let y = 0; y < height; y++) {
    const from = Math.min(y, image.height - 1) * row;
    const to = y * width * 3;
    out.set(image.data.subarray(from, from + row), to);
    const last = image.data.subarray(from + row - 3, from + row);
    for (let x = image.width; x < width; x++) out.set(last, to + x * 3);
  }
  return { data: out, width, height };
}

/** The top-left `width`×`height` of an RGB picture. */
export function cropRgb(image: RgbImage, width: number, height: number): RgbImage {
  if (width === image.width && height === image.height) return image;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(image.data.subarray(y * image.width * 3, (y * image.width + width) * 3), y * width * 3);
  return { data: out, width, height };
}

const roundUp = (n: number) => Math.ceil(n / MAXIM_MULTIPLE) * MAXIM_MULTIPLE;

/** MAXIM denoising: an RGB tile in, the same tile denoised out. */
export function maximHandler(): ModelHandler<RgbImage, RgbImage, GraphModel> {
  return {
    async load() {
      const tf = await tfjsWasm();
      registerEinsum(tf);
      return tf.loadGraphModel(await diskModel(MAXIM_PACKAGE, MAXIM_MODEL_JSON));
    },
    async run(model, tile) {
      const tf = await tfjsWasm();
      const padded = padRgb(tile, roundUp(tile.width), roundUp(tile.height));
      const input = await rgbToTensor(padded.data, padded.width, padded.height, 1);
      let output: Tensor | undefined;
      try {
        output = tf.tidy(() => model.predict(input) as Tensor);
        const data = await tensorToRgb(output, 1);
        const result = cropRgb({ data, width: padded.width, height: padded.height }, tile.width, tile.height);
        return { value: result, transfer: [result.data.buffer as ArrayBuffer] };
      } finally {
        input.dispose();
        output?.dispose();
      }
    },
  };
}
