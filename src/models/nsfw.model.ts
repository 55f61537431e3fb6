import { createRequire } from "node:module";
import path from "node:path";
import type * as ort from "onnxruntime-node";
import { NSFW_CLASSES, type NsfwScores } from "../common/nsfw.js";
import { kerasToOnnx, type KerasTopology, readWeights, type WeightSpec } from "./keras-onnx.js";
import { NSFW_INPUT_SIZE, NSFW_MODEL_FILES } from "./nsfw.js";
import { createSession, runSession } from "./onnx.model.js";
import { packageDir } from "./packages.js";
import type { ModelHandler } from "./registry.js";

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
 * four times faster than on TensorFlow.js's WebAssembly backend), and TensorFlow.js is not loaded.
 */
export function nsfwOnnxModel(): Uint8Array {
  const { topology, specs, weights } = bundledNsfwModel();
  return kerasToOnnx(topology, readWeights(specs, weights), "nsfwjs-mobilenet-v2");
}

/** 224×224 RGB bytes as the model takes them: NCHW floats scaled to [0, 1], as NSFWJS scales them. */
export function nsfwInput(pixels: Uint8Array): Float32Array {
  const plane = NSFW_INPUT_SIZE * NSFW_INPUT_SIZE;
  const out = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    out[i] = pixels[i * 3]! / 255;
    out[plane + i] = pixels[i * 3 + 1]! / 255;
    out[2 * plane + i] = pixels[i * 3 + 2]! / 255;
  }
  return out;
}

export const handler: ModelHandler<{ pixels: ArrayBuffer }, { scores: NsfwScores }, ort.InferenceSession> = {
  load: () => createSession(nsfwOnnxModel()),
  async run(session, { pixels }) {
    const { data } = await runSession(session, nsfwInput(new Uint8Array(pixels)), [1, 3, NSFW_INPUT_SIZE, NSFW_INPUT_SIZE]);
    if (data.length !== NSFW_CLASSES.length) throw new Error(`the classifier gave ${data.length} scores, not ${NSFW_CLASSES.length}`);
    // The model's softmax answers in NSFWJS's class order.
    const scores = Object.fromEntries(NSFW_CLASSES.map((name, i) => [name, data[i]!])) as NsfwScores;
    return { value: { scores } };
  },
};
