import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { foldBatchNorm, foldedDifference } from "../../src/models/fold-batchnorm.js";

/** A small MobileNetV2-style model: every convolution followed by batch normalisation, ReLU6 after most. */
function mobileNetLike(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let x = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "valid", useBias: false }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  const shortcut = x;
  let y = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: "same", useBias: false }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ maxValue: 6 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: true }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ epsilon: 1e-3, scale: false }).apply(y) as tf.SymbolicTensor; // linear: no activation
  x = tf.layers.add().apply([shortcut, y]) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: 0.5 }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 5, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  // Batch statistics far from the identity, so that a wrong fold shows.
  let seed = 1;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    layer.setWeights(layer.getWeights().map((w, i, all) => tf.tensor(Array.from({ length: w.size }, () => (i === all.length - 1 ? 0.2 + random() : random() * 2 - 0.5)), w.shape)));
  }
  return model;
}

describe("foldBatchNorm", () => {
  it("computes what the model computes, with the normalisations folded into the convolutions", async () => {
    const model = mobileNetLike();
    const folded = foldBatchNorm(tf, model)!;
    expect(folded).not.toBeNull();
    const input = tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 7);
    expect(await foldedDifference(tf, model, folded, input)).toBeLessThan(1e-5);
    // And the kernels: no BatchNormalization or separate ReLU left to run.
    const { kernels } = await tf.profile(() => folded.predict(input));
    const names = kernels.map((k) => k.name);
    expect(names.filter((n) => /batchnorm/i.test(n))).toEqual([]);
    expect(names.filter((n) => /relu/i.test(n))).toEqual([]);
    // Every activation but the output is freed as it goes.
    const tensors = tf.memory().numTensors;
    folded.predict(input).dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    // Without the original weights of the folded layers it still runs.
    const before = folded.predict(input);
    folded.releaseOriginal();
    const after = folded.predict(input);
    expect(await tf.max(tf.abs(tf.sub(before, after))).data()).toEqual(new Float32Array([0]));
  });
});
