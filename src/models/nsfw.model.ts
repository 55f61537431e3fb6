import { createRequire } from "node:module";
import path from "node:path";
import type { io, LayersModel } from "@tensorflow/tfjs";
import { NSFWJS } from "nsfwjs/core";
import { NSFW_CLASSES, type NsfwScores } from "../common/nsfw.js";
import { NSFW_INPUT_SIZE, NSFW_MODEL_FILES } from "./nsfw.js";
import { packageDir } from "./packages.js";
import type { ModelHandler } from "./registry.js";
import { foldBatchNorm, foldedDifference } from "./fold-batchnorm.js";
import { tfjsWasm } from "./tfjs-wasm.js";

const require = createRequire(import.meta.url);

interface BundledModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: Array<{ paths: string[]; weights: io.WeightsManifestEntry[] }>;
}

/**
 * NSFWJS ships its models as CommonJS modules (the model JSON, and the weights as base64), made to
 * be bundled for browsers. Read from the installed package, they become the model artifacts tfjs
 * asks an IOHandler for: nothing is fetched.
 */
function bundledModel(): io.IOHandler {
  const dir = packageDir("nsfwjs");
  if (!dir) throw new Error("nsfwjs is not installed");
  return {
    async load() {
      const [modelFile, shardFile] = NSFW_MODEL_FILES.map((f) => path.join(dir, f));
      const json = require(modelFile!) as BundledModelJson;
      const shard = require(shardFile!) as string;
      // Loaded once: the modules (megabytes of base64 in a string) need not stay in require's cache.
      for (const file of [modelFile!, shardFile!]) delete require.cache[require.resolve(file)];
      const weights = Buffer.from(shard, "base64");
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        ...(json.format ? { format: json.format } : {}),
      };
    },
  };
}

export const handler: ModelHandler<{ pixels: ArrayBuffer }, { scores: NsfwScores }, NSFWJS> = {
  async load() {
    const tf = await tfjsWasm();
    const model = new NSFWJS(bundledModel(), { size: NSFW_INPUT_SIZE });
    await model.load(); // also runs one prediction on zeros: the first real one is not slower
    // MobileNetV2 with its batch normalisations folded into the convolutions: the same function in
    // about half the time. Checked once against the model as it is, on a picture with some detail.
    const layers = (model as unknown as { model: LayersModel }).model;
    const folded = foldBatchNorm(tf, layers);
    if (folded) {
      const probe = tf.tidy(() => tf.sin(tf.linspace(0, 2000, NSFW_INPUT_SIZE * NSFW_INPUT_SIZE * 3)).add(1).div(2).reshape([1, NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, 3]));
      const difference = await foldedDifference(tf, layers, folded, probe);
      probe.dispose();
      if (difference < 1e-4) {
        (model as unknown as { model: unknown }).model = folded;
        folded.releaseOriginal();
      }
    }
    return model;
  },
  async run(model, { pixels }) {
    const tf = await tfjsWasm();
    const image = tf.tensor3d(new Uint8Array(pixels), [NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, 3], "int32");
    try {
      const top = await model.classify(image, NSFW_CLASSES.length);
      const scores = Object.fromEntries(NSFW_CLASSES.map((name) => [name, top.find((c) => c.className === name)?.probability ?? 0])) as NsfwScores;
      return { value: { scores } };
    } finally {
      image.dispose();
    }
  },
};
