import { createRequire } from "node:module";
import path from "node:path";
import { kerasToOnnx, type KerasTopology, readWeights, type WeightSpec } from "./keras-onnx.js";
import { NSFW_MODEL_FILES } from "./nsfw.js";
import { packageDir } from "./packages.js";

const require = createRequire(import.meta.url);

interface BundledModelJson {
  modelTopology: KerasTopology;
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
}

/**
 * NSFWJS ships its MobileNetV2 as CommonJS modules (the Keras model JSON, and the weights as
 * base64), made to be bundled for browsers: read here from the installed package, nothing fetched.
 */
export function bundledNsfwModel(): { topology: KerasTopology; specs: WeightSpec[]; weights: Uint8Array } {
  const dir = packageDir("nsfwjs");
  if (!dir) throw new Error("nsfwjs is not installed");
  const [modelFile, shardFile] = NSFW_MODEL_FILES.map((f) => path.join(dir, f));
  const json = require(modelFile!) as BundledModelJson;
  const shard = require(shardFile!) as string;
  // Read once: the modules (megabytes of base64 in a string) need not stay in require's cache.
  for (const file of [modelFile!, shardFile!]) delete require.cache[require.resolve(file)];
  return { topology: json.modelTopology, specs: json.weightsManifest.flatMap((group) => group.weights), weights: Buffer.from(shard, "base64") };
}

/**
 * The bundled model as an ONNX graph: it runs on ONNX Runtime's native kernels (on one core about
 * eight times faster than on TensorFlow.js's WebAssembly backend), and TensorFlow.js is not loaded.
 */
export function nsfwOnnxModel(): Uint8Array {
  const { topology, specs, weights } = bundledNsfwModel();
  return kerasToOnnx(topology, readWeights(specs, weights), "nsfwjs-mobilenet-v2");
}
