import fs from "node:fs/promises";
import path from "node:path";
import { type EsrganScale, type EsrganSize, esrganFiles } from "./esrgan-models.js";
import { kerasToOnnx, type KerasTopology, readWeights, type WeightSpec } from "./keras-onnx.js";
import { packageDir } from "./packages.js";

interface ModelJson {
  modelTopology: KerasTopology;
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
}

/**
 * An ESRGAN upscaler as the ONNX graph of its Keras model, read from the installed package (its
 * model.json and weight shards, nothing fetched): it runs on ONNX Runtime's native kernels rather
 * than TensorFlow.js's WebAssembly backend. The graph takes a tile of any size.
 */
export async function esrganOnnxModel(size: EsrganSize, scale: EsrganScale): Promise<Uint8Array> {
  const files = esrganFiles(size, scale);
  const dir = packageDir(files.pkg);
  if (!dir) throw new Error(`${files.pkg} is not installed`);
  const modelJson = path.join(dir, files.modelJson);
  const json = JSON.parse(await fs.readFile(modelJson, "utf8")) as ModelJson;
  const shards = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((p) => fs.readFile(path.join(path.dirname(modelJson), p))));
  const weights = readWeights(
    json.weightsManifest.flatMap((group) => group.weights),
    new Uint8Array(Buffer.concat(shards)),
  );
  return kerasToOnnx(json.modelTopology, weights, `esrgan-${size}-x${scale}`);
}
