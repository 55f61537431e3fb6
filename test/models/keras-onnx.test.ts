import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { NSFWJS } from "nsfwjs/core";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { type EsrganScale, type EsrganSize, esrganFiles } from "../../src/models/esrgan-models.js";
import { esrganHandler, planesToRgb, rgbToPlanes } from "../../src/models/esrgan.js";
import { kerasToOnnx, type KerasTopology, readWeights, type WeightSpec } from "../../src/models/keras-onnx.js";
import { diskModel } from "../../src/models/tf-disk.js";
import { NSFW_INPUT_SIZE } from "../../src/models/nsfw.js";
import { handler as nsfwHandler, nsfwInput } from "../../src/models/nsfw.model.js";
import { bundledNsfwModel, nsfwOnnxModel } from "../../src/models/nsfw-onnx.js";

/** A small MobileNetV2-style model with every layer kind the converter knows, with odd sizes so that padding shows. */
function mobileNetLike(): tf.LayersModel {
  const input = tf.input({ shape: [17, 15, 3] });
  let x = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "valid", useBias: false }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  const shortcut = x;
  let y = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: "same", useBias: false }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({}).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: true }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ epsilon: 1e-3, scale: false }).apply(y) as tf.SymbolicTensor;
  x = tf.layers.add().apply([shortcut, y]) as tf.SymbolicTensor;
  // Stride 2 with "same" padding pads the odd pixel after, as TensorFlow does.
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }).apply(x) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  // Flatten of a map larger than 1×1: Keras's channels-last order must survive.
  let flat = tf.layers.averagePooling2d({ poolSize: 2, strides: 1 }).apply(x) as tf.SymbolicTensor;
  flat = tf.layers.flatten().apply(flat) as tf.SymbolicTensor;
  flat = tf.layers.dense({ units: 6, activation: "relu" }).apply(flat) as tf.SymbolicTensor;
  x = tf.layers.add().apply([pooled, flat]) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: 0.5 }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 5, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  // Batch statistics far from the identity, so that a wrong normalisation shows.
  let seed = 1;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    layer.setWeights(layer.getWeights().map((w, i, all) => tf.tensor(Array.from({ length: w.size }, () => (i === all.length - 1 ? 0.2 + random() : random() * 2 - 0.5)), w.shape)));
  }
  return model;
}

/**
 * The thick ESRGAN models' own layers, as TensorFlow.js needs them to load and run those models
 * (the converter turns them into Mul and DepthToSpace).
 */
class MultiplyBeta extends tf.layers.Layer {
  static className = "MultiplyBeta";
  beta: number;
  constructor(config: { beta?: number; name?: string } = {}) {
    super(config);
    this.beta = config.beta ?? 0.2;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, this.beta);
  }
  override getConfig() {
    return { ...super.getConfig(), beta: this.beta };
  }
}
tf.serialization.registerClass(MultiplyBeta);
const shuffles = ([2, 4] as const).map((factor) => {
  class PixelShuffle extends tf.layers.Layer {
    static className = `PixelShuffle${factor}x`;
    override computeOutputShape(shape: number[]): number[] {
      return [shape[0]!, shape[1]! && shape[1]! * factor, shape[2]! && shape[2]! * factor, shape[3]! / (factor * factor)];
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.depthToSpace((Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D, factor, "NHWC");
    }
  }
  tf.serialization.registerClass(PixelShuffle);
  return PixelShuffle;
});

/** A small ESRGAN-style model of any input size with the layer kinds of the upscalers. */
function esrganLike(): tf.LayersModel {
  const input = tf.input({ shape: [null, null, 3] as unknown as number[] });
  const a = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same" }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.activation({ activation: "relu" }).apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same" }).apply(a) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate({ axis: -1 }).apply([a, b]) as tf.SymbolicTensor;
  const c = tf.layers.conv2d({ filters: 8, kernelSize: 1, padding: "same" }).apply(joined) as tf.SymbolicTensor;
  const scaled = new MultiplyBeta({ beta: 0.3 }).apply(c) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([a, scaled]) as tf.SymbolicTensor;
  const nearest = tf.layers.upSampling2d({ size: [2, 2] }).apply(tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same" }).apply(sum) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const shuffled = new shuffles[0]!({}).apply(tf.layers.conv2d({ filters: 12, kernelSize: 3, padding: "same" }).apply(sum) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const output = tf.layers.add().apply([nearest, shuffled]) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

async function artifacts(model: tf.LayersModel): Promise<{ topology: KerasTopology; specs: WeightSpec[]; data: Uint8Array }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
  const data = saved!.weightData as ArrayBuffer;
  return { topology: saved!.modelTopology as KerasTopology, specs: saved!.weightSpecs as WeightSpec[], data: new Uint8Array(data) };
}

/** NHWC float input → NCHW. */
function nchw(values: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(k * h + y) * w + x] = values[(y * w + x) * c + k]!;
  return out;
}

async function runOnnx(model: Uint8Array, input: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model);
  const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor("float32", input, dims) });
  return result[session.outputNames[0]!]!.data as Float32Array;
}

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

describe("Keras models on ONNX Runtime", () => {
  it("computes what TensorFlow.js computes, layer kind by layer kind", async () => {
    const model = mobileNetLike();
    const { topology, specs, data } = await artifacts(model);
    const onnx = kerasToOnnx(topology, readWeights(specs, data));
    const input = tf.randomUniform([1, 17, 15, 3], 0, 1, "float32", 7);
    const expected = (await (model.predict(input) as tf.Tensor).data()) as Float32Array;
    const got = await runOnnx(onnx, nchw((await input.data()) as Float32Array, 17, 15, 3), [1, 3, 17, 15]);
    expect(got.length).toBe(5);
    expect(maxDifference(got, expected)).toBeLessThan(1e-5);
  });

  it("computes what TensorFlow.js computes for the upscalers' layer kinds, at any input size", async () => {
    const model = esrganLike();
    const { topology, specs, data } = await artifacts(model);
    const onnx = kerasToOnnx(topology, readWeights(specs, data));
    const session = await ort.InferenceSession.create(onnx);
    // Two sizes through one graph: the sizes are symbolic.
    for (const [h, w] of [
      [9, 7],
      [4, 12],
    ] as const) {
      const input = tf.randomUniform([1, h, w, 3], 0, 1, "float32", h);
      const expected = (await (model.predict(input) as tf.Tensor).transpose([0, 3, 1, 2]).data()) as Float32Array;
      const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor("float32", nchw((await input.data()) as Float32Array, h, w, 3), [1, 3, h, w]) });
      const got = result[session.outputNames[0]!]!;
      expect(got.dims).toEqual([1, 3, 2 * h, 2 * w]);
      expect(maxDifference(got.data as Float32Array, expected)).toBeLessThan(1e-4);
    }
  });

  it("reads affine-quantized weights as TensorFlow.js does, and refuses what it does not know", () => {
    const specs: WeightSpec[] = [
      { name: "a/kernel", shape: [2, 2], dtype: "float32", quantization: { dtype: "uint8", min: -1, scale: 0.5 } },
      { name: "b/bias", shape: [1], dtype: "float32" },
    ];
    const data = new Uint8Array(8);
    data.set([0, 1, 2, 255]);
    new DataView(data.buffer).setFloat32(4, 1.25, true);
    const weights = readWeights(specs, data);
    expect(Array.from(weights.get("a/kernel")!.data)).toEqual([-1, -0.5, 0, 126.5]);
    expect(Array.from(weights.get("b/bias")!.data)).toEqual([1.25]);
    expect(() => readWeights(specs, data.subarray(0, 6))).toThrow(/past the end/);
    expect(() => readWeights([{ name: "c", shape: [1], dtype: "float32", quantization: { dtype: "float16" } }], new Uint8Array(2))).toThrow(/float16/);
    const unknown = { config: { layers: [{ class_name: "LSTM", name: "l", config: {}, inbound_nodes: [] }], output_layers: [["l", 0, 0]] } } as unknown as KerasTopology;
    expect(() => kerasToOnnx(unknown, new Map())).toThrow(/LSTM is not supported/);
  });

  it("NSFWJS's MobileNetV2 gives NSFWJS's own scores", async () => {
    // The same model as NSFWJS runs it with TensorFlow.js, from the same package files.
    const nsfwjs = new NSFWJS(
      {
        async load() {
          const { topology, specs, weights } = bundledNsfwModel();
          return { modelTopology: topology, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData: weights.slice().buffer };
        },
      },
      { size: NSFW_INPUT_SIZE },
    );
    await nsfwjs.load();
    const session = await nsfwHandler.load();
    const pictures = [
      // a picture with some detail, and a flat skin-toned one
      await sharp({ create: { width: NSFW_INPUT_SIZE, height: NSFW_INPUT_SIZE, channels: 3, background: "#808080" } }).composite([{ input: Buffer.from(`<svg width="224" height="224"><circle cx="112" cy="100" r="70" fill="#d4a07a"/><rect x="20" y="150" width="180" height="50" fill="#203060"/></svg>`) }]).removeAlpha().raw().toBuffer(),
      await sharp({ create: { width: NSFW_INPUT_SIZE, height: NSFW_INPUT_SIZE, channels: 3, background: "#e0b090" } }).raw().toBuffer(),
    ];
    for (const pixels of pictures) {
      const image = tf.tensor3d(new Uint8Array(pixels), [NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, 3], "int32");
      const expected = await nsfwjs.classify(image, 5);
      image.dispose();
      const { value } = await nsfwHandler.run(session, { pixels: new Uint8Array(pixels).buffer });
      for (const { className, probability } of expected) expect(Math.abs(value.scores[className as keyof typeof value.scores] - probability)).toBeLessThan(1e-4);
    }
    expect(nsfwInput(new Uint8Array(NSFW_INPUT_SIZE * NSFW_INPUT_SIZE * 3).fill(255)).every((v) => v === 1)).toBe(true);
    expect(nsfwOnnxModel().length).toBeGreaterThan(10_000_000);
  }, 120_000);

  // One model of each package and each upsampling kind (nearest 4x, nearest 2x, pixel shuffle 4x),
  // against the same package files run by TensorFlow.js, on a small tile.
  for (const [size, scale] of [
    ["slim", 4],
    ["medium", 2],
    ["thick", 4],
  ] as Array<[EsrganSize, EsrganScale]>) {
    it(`ESRGAN ${size} x${scale} upscales as TensorFlow.js runs it`, async () => {
      const files = esrganFiles(size, scale);
      const model = await tf.loadLayersModel(await diskModel(files.pkg, files.modelJson));
      const tile = { width: 10, height: 7, data: new Uint8Array(10 * 7 * 3) };
      for (let i = 0; i < tile.data.length; i++) tile.data[i] = (i * 37 + ((i * i) % 23) * 5) & 0xff;
      const input = tf.tensor4d(Float32Array.from(tile.data, (v) => (v * files.range) / 255), [1, 7, 10, 3]);
      const planes = (await (model.predict(input) as tf.Tensor).transpose([0, 3, 1, 2]).data()) as Float32Array;
      const expected = planesToRgb(planes, 10 * scale, 7 * scale, files.range);
      const handler = esrganHandler(size, scale);
      const session = await handler.load();
      const { value } = await handler.run(session, tile);
      expect([value.width, value.height]).toEqual([10 * scale, 7 * scale]);
      // Float sums in another order: a level at most, in a few pixels.
      expect(maxDifference(value.data, expected)).toBeLessThanOrEqual(1);
      expect(value.data.filter((v, i) => v !== expected[i]).length).toBeLessThan(value.data.length / 50);
      expect(rgbToPlanes(tile, 1)[0]).toBeCloseTo(tile.data[0]! / 255);
    }, 180_000);
  }
});
