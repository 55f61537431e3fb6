import { type EsrganScale, type EsrganSize, esrganFiles } from "./esrgan-models.js";
import { kerasToOnnx, type KerasTopology, readWeights, type WeightSpec } from "./keras-onnx.js";
import { readPackageModel } from "./tf-disk.js";

/**
 * An ESRGAN upscaler as the ONNX graph of its Keras model, read from the installed package (its
 * model.json and weight shards, nothing fetched): it runs on ONNX Runtime's native kernels rather
 * than TensorFlow.js's WebAssembly backend. The graph takes a tile of any size.
 */
export async function esrganOnnxModel(size: EsrganSize, scale: EsrganScale): Promise<Uint8Array> {
  const files = esrganFiles(size, scale);
  const { json, weights } = await readPackageModel(files.pkg, files.modelJson);
  const specs = json.weightsManifest.flatMap((group) => group.weights) as WeightSpec[];
  return kerasToOnnx(json.modelTopology as KerasTopology, readWeights(specs, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength)), `esrgan-${size}-x${scale}`);
}
