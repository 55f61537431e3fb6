import type * as tfjs from "@tensorflow/tfjs";

type Tf = typeof import("@tensorflow/tfjs");
type Tensor = tfjs.Tensor;

/** What NSFWJS (and anything else) calls to run a model. */
export interface Predictor {
  predict(input: Tensor): Tensor;
  /** Frees the original weights of the layers folded (the model itself no longer runs after). */
  releaseOriginal(): void;
}

interface LayerLike {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  getWeights(): Tensor[];
  weights: { dispose(): void }[];
  inboundNodes: { inboundLayers: LayerLike[] }[];
  apply(inputs: Tensor | Tensor[], kwargs?: Record<string, unknown>): Tensor | Tensor[];
}

/** One kernel (or unfolded layer): the layers whose outputs it takes, the layer whose output it gives. */
interface Step {
  sources: string[];
  out: string;
  run(inputs: Tensor[]): Tensor;
}

/**
 * A Keras layers model (MobileNet style: every convolution followed by BatchNormalization, then
 * ReLU6) run layer by layer with each BatchNormalization folded into the convolution before it,
 * and the ReLU into the same fused kernel: inference computes the same function (the batch
 * statistics are constants), with about a third of the kernels. In TensorFlow.js's WebAssembly
 * backend BatchNormalization is a separate pass over every activation, as slow as the convolutions.
 *
 * Returns null for a model this does not understand (shared layers, other data formats): run it
 * as it is. The caller should compare outputs once (see `checkFolded`).
 */
export function foldBatchNorm(tf: Tf, model: tfjs.LayersModel): Predictor | null {
  const layers = model.layers as unknown as LayerLike[];
  if (layers.some((l) => l.inboundNodes.length > 1)) return null;
  const consumers = new Map<string, LayerLike[]>();
  for (const layer of layers) for (const from of layer.inboundNodes[0]?.inboundLayers ?? []) consumers.set(from.name, [...(consumers.get(from.name) ?? []), layer]);
  const only = (layer: LayerLike): LayerLike | undefined => {
    const next = consumers.get(layer.name) ?? [];
    return next.length === 1 ? next[0] : undefined;
  };

  const steps: Step[] = [];
  const absorbed = new Set<string>();
  const inputLayer = layers.find((l) => l.getClassName() === "InputLayer");
  if (!inputLayer || model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const outputLayer = (model.outputs[0] as unknown as { sourceLayer: LayerLike }).sourceLayer;
  const weights: Tensor[] = [];
  const folded: LayerLike[] = [];

  for (const layer of layers) {
    if (absorbed.has(layer.name) || layer === inputLayer) continue;
    const kind = layer.getClassName();
    const config = layer.getConfig();
    const bn = only(layer);
    const foldable =
      (kind === "Conv2D" || kind === "DepthwiseConv2D") &&
      config.dataFormat === "channelsLast" &&
      config.activation === "linear" &&
      bn?.getClassName() === "BatchNormalization" &&
      [-1, 3].includes(bn.getConfig().axis as number);
    const sources = (layer.inboundNodes[0]?.inboundLayers ?? []).map((l) => l.name);
    if (!foldable) {
      steps.push({ sources, out: layer.name, run: (inputs) => layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: false }) as Tensor });
      continue;
    }
    absorbed.add(bn.name);
    let last = bn;
    let activation: "linear" | "relu" | "relu6" = "linear";
    const relu = only(bn);
    if (relu?.getClassName() === "ReLU") {
      const c = relu.getConfig();
      const plain = !c.negativeSlope && !c.threshold;
      if (plain && (c.maxValue === 6 || c.maxValue == null)) {
        activation = c.maxValue === 6 ? "relu6" : "relu";
        absorbed.add(relu.name);
        last = relu;
      }
    }
    const [filter, bias] = foldedWeights(tf, layer, bn);
    weights.push(filter, bias);
    folded.push(layer, bn);
    const strides = config.strides as [number, number];
    const pad = config.padding as "same" | "valid";
    const dilations = config.dilationRate as [number, number];
    const args = { filter: filter as tfjs.Tensor4D, bias, strides, pad, dilations, activation };
    const run =
      kind === "Conv2D"
        ? ([x]: Tensor[]) => tf.fused.conv2d({ x: x as tfjs.Tensor4D, ...args })
        : ([x]: Tensor[]) => tf.fused.depthwiseConv2d({ x: x as tfjs.Tensor4D, ...args });
    steps.push({ sources, out: last.name, run });
  }
  // How many steps read each output: an activation is freed after its last reader, as tfjs's own
  // executor does, rather than all of them kept to the end.
  const readers = new Map<string, number>();
  for (const step of steps) for (const s of step.sources) readers.set(s, (readers.get(s) ?? 0) + 1);

  return {
    predict(input: Tensor): Tensor {
      const values = new Map<string, Tensor>([[inputLayer.name, input]]);
      const left = new Map(readers);
      for (const step of steps) {
        values.set(step.out, step.run(step.sources.map((s) => values.get(s)!)));
        for (const s of step.sources) {
          const n = left.get(s)! - 1;
          left.set(s, n);
          const value = values.get(s)!;
          // The input belongs to the caller; an unfolded layer may hand its input back (Dropout).
          if (n === 0 && s !== inputLayer.name && s !== outputLayer.name && value !== values.get(step.out)) {
            value.dispose();
            values.delete(s);
          }
        }
      }
      return values.get(outputLayer.name)!;
    },
    releaseOriginal(): void {
      for (const layer of folded) for (const weight of layer.weights) weight.dispose();
    },
  };
}

/** The convolution's kernel and bias with the batch normalisation after it multiplied in. */
function foldedWeights(tf: Tf, conv: LayerLike, bn: LayerLike): [Tensor, Tensor] {
  return tf.tidy(() => {
    const [kernel, convBias] = conv.getWeights();
    const bnConfig = bn.getConfig();
    const bnWeights = [...bn.getWeights()];
    const gamma = bnConfig.scale === false ? null : bnWeights.shift()!;
    const beta = bnConfig.center === false ? null : bnWeights.shift()!;
    const [mean, variance] = bnWeights;
    // y = gamma (x - mean) / sqrt(variance + epsilon) + beta, per output channel.
    let scale = tf.rsqrt(tf.add(variance!, bnConfig.epsilon as number));
    if (gamma) scale = tf.mul(scale, gamma);
    const shape = kernel!.shape;
    const filter =
      conv.getClassName() === "DepthwiseConv2D"
        ? tf.mul(kernel!, tf.reshape(scale, [shape[2]!, shape[3]!])) // output channel = input channel × multiplier
        : tf.mul(kernel!, scale);
    let bias = tf.mul(tf.sub(convBias ?? tf.zerosLike(mean!), mean!), scale);
    if (beta) bias = tf.add(bias, beta);
    return [tf.keep(filter), tf.keep(bias)];
  });
}

/**
 * The largest difference between the folded predictor's and the model's outputs on `input`: the
 * same function, so only float rounding (about 1e-6 for probabilities).
 */
export async function foldedDifference(tf: Tf, model: tfjs.LayersModel, folded: Predictor, input: Tensor): Promise<number> {
  const a = model.predict(input) as Tensor;
  const b = folded.predict(input);
  try {
    const diff = tf.max(tf.abs(tf.sub(a, b)));
    const [value] = await diff.data();
    diff.dispose();
    return value!;
  } finally {
    a.dispose();
    b.dispose();
  }
}
