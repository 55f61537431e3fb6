import fs from "node:fs/promises";
import path from "node:path";
import type { Tensor, io } from "@tensorflow/tfjs";
import { packageDir } from "./packages.js";
import { tfjsWasm } from "./tfjs-wasm.js";

/**
 * tfjs models read from an installed package, and the conversions between RGB bytes and model
 * tensors. Imported only inside a model thread.
 */

export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: object;
  signature?: object;
  weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
}

/**
 * A TensorFlow.js model's model.json and its weight shards, joined in manifest order, read from an
 * installed package (nothing fetched).
 */
export async function readPackageModel(pkg: string, relativeModelJson: string): Promise<{ json: ModelJson; weights: Buffer }> {
  const dir = packageDir(pkg);
  if (!dir) throw new Error(`the package ${pkg} is not installed`);
  const file = path.join(dir, relativeModelJson);
  const json = JSON.parse(await fs.readFile(file, "utf8")) as ModelJson;
  const shardNames = json.weightsManifest.flatMap((group) => group.paths);
  const shards = await Promise.all(shardNames.map((shard) => fs.readFile(path.join(path.dirname(file), shard))));
  return { json, weights: Buffer.concat(shards) };
}

/**
 * An IOHandler over a model.json and its weight shards in an installed package. tfjs reads
 * `file://` URLs only with its native Node backend (whose install downloads libtensorflow); this
 * reads the files itself (readPackageModel).
 */
export async function diskModel(pkg: string, relativeModelJson: string): Promise<io.IOHandler> {
  const { json, weights: joined } = await readPackageModel(pkg, relativeModelJson);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer;
  return {
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData,
      ...(json.format ? { format: json.format } : {}),
      ...(json.generatedBy ? { generatedBy: json.generatedBy } : {}),
      ...(json.convertedBy ? { convertedBy: json.convertedBy } : {}),
      ...(json.signature ? { signature: json.signature } : {}),
    }),
  };
}

/** RGB bytes as the `[1, H, W, 3]` float tensor a model takes, scaled to 0..`range`. */
export async function rgbToTensor(data: Uint8Array, width: number, height: number, range: 1 | 255): Promise<Tensor> {
  const tf = await tfjsWasm();
  const values = new Float32Array(data.length);
  const factor = range / 255;
  for (let i = 0; i < data.length; i++) values[i] = data[i]! * factor;
  return tf.tensor4d(values, [1, height, width, 3]);
}

/** A model's `[1, H, W, 3]` output in 0..`range` back to RGB bytes, rounded and clamped. */
export async function tensorToRgb(tensor: Tensor, range: 1 | 255): Promise<Uint8Array> {
  const values = (await tensor.data()) as Float32Array;
  // Assigning to a Uint8ClampedArray clamps to 0..255 and rounds.
  const clamped = new Uint8ClampedArray(values.length);
  const factor = 255 / range;
  for (let i = 0; i < values.length; i++) clamped[i] = values[i]! * factor;
  return new Uint8Array(clamped.buffer);
}
