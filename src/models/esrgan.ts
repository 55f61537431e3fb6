import type { LayersModel, Tensor } from "@tensorflow/tfjs";
import { type EsrganScale, type EsrganSize, esrganFiles } from "./esrgan-models.js";
import type { ModelHandler } from "./registry.js";
import { diskModel, rgbToTensor, tensorToRgb } from "./tf-disk.js";
import { tfjsWasm } from "./tfjs-wasm.js";

/** A picture or a tile of one as RGB bytes, row-major, 3 bytes a pixel. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

type Tf = Awaited<ReturnType<typeof tfjsWasm>>;

/**
 * The thick models are the residual-in-residual variant, saved with two layers of their own: a
 * fixed scaling of each residual branch and a pixel shuffle that turns channels into a larger
 * picture. They are defined here so the saved models deserialise; slim and medium use stock layers.
 */
let customLayersRegistered = false;
function registerCustomLayers(tf: Tf): void {
  if (customLayersRegistered) return;
  customLayersRegistered = true;
  const first = (inputs: Tensor | Tensor[]): Tensor => (Array.isArray(inputs) ? inputs[0]! : inputs);

  class MultiplyBeta extends tf.layers.Layer {
    static className = "MultiplyBeta";
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.mul(first(inputs), 0.2);
    }
  }
  tf.serialization.registerClass(MultiplyBeta);

  for (const factor of [2, 4] as const) {
    class PixelShuffle extends tf.layers.Layer {
      static className = `PixelShuffle${factor}x`;
      override computeOutputShape(shape: number[]): number[] {
        return [shape[0]!, shape[1]! * factor, shape[2]! * factor, 3];
      }
      override call(inputs: Tensor | Tensor[]): Tensor {
        return tf.depthToSpace(first(inputs) as Parameters<Tf["depthToSpace"]>[0], factor, "NHWC");
      }
    }
    tf.serialization.registerClass(PixelShuffle);
  }
}

/** An ESRGAN model of one size and scale: an RGB tile in, the same tile `scale` times larger out. */
export function esrganHandler(size: EsrganSize, scale: EsrganScale): ModelHandler<RgbImage, RgbImage, LayersModel> {
  const files = esrganFiles(size, scale);
  return {
    async load() {
      const tf = await tfjsWasm();
      if (files.customLayers) registerCustomLayers(tf);
      return tf.loadLayersModel(await diskModel(files.pkg, files.modelJson));
    },
    async run(model, tile) {
      const tf = await tfjsWasm();
      const input = await rgbToTensor(tile.data, tile.width, tile.height, files.range);
      let output: Tensor | undefined;
      try {
        output = tf.tidy(() => model.predict(input) as Tensor);
        const data = await tensorToRgb(output, files.range);
        return { value: { data, width: tile.width * scale, height: tile.height * scale }, transfer: [data.buffer as ArrayBuffer] };
      } finally {
        input.dispose();
        output?.dispose();
      }
    },
  };
}
