import { encodeOnnxModel, type OnnxInitializer, type OnnxNode } from "./onnx-writer.js";

/**
 * Keras layers models (the TensorFlow.js layers format NSFWJS ships) turned into ONNX graphs, so
 * that ONNX Runtime's native kernels run them: on one core about four times faster than
 * TensorFlow.js's WebAssembly backend, without loading TensorFlow.js at all. Covers the layers of
 * MobileNet-style classifiers and of the ESRGAN upscalers (concatenations, nearest upsampling, and
 * the thick models' own residual scaling and pixel shuffle); any other layer, option or weight
 * format is refused with its name, so a model this does not understand fails to load instead of
 * computing something else.
 *
 * The graph takes NCHW float input (`[1, C, H, W]`, the model's own scaling already applied) and
 * keeps Keras's channels-last order only where it shows: before a Flatten. An input of any height
 * and width (Keras's `null`) stays so in the graph, as long as no layer needs to know it.
 */

export interface KerasLayer {
  class_name: string;
  name?: string;
  config: Record<string, unknown>;
  inbound_nodes: Array<Array<[string, number, number, ...unknown[]]>>;
}

/** The `modelTopology` of a TensorFlow.js layers model. */
export interface KerasTopology {
  model_config?: { class_name: string; config: { layers: KerasLayer[]; output_layers: Array<[string, number, number]> } };
  config?: { layers: KerasLayer[]; output_layers: Array<[string, number, number]> };
}

/** One entry of a TensorFlow.js weights manifest. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

export type Weights = Map<string, { shape: number[]; data: Float32Array }>;

/** The weights of a TensorFlow.js manifest, read from its (concatenated) shards, as float32. */
export function readWeights(specs: readonly WeightSpec[], data: Uint8Array): Weights {
  const weights: Weights = new Map();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  for (const spec of specs) {
    if (spec.dtype !== "float32") throw new Error(`weight ${spec.name}: ${spec.dtype} is not supported`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size);
    const q = spec.quantization;
    const width = !q ? 4 : q.dtype === "uint8" ? 1 : 2;
    if (at + size * width > data.byteLength) throw new Error(`weight ${spec.name} runs past the end of the weights`);
    if (!q) {
      for (let i = 0; i < size; i++) out[i] = view.getFloat32(at + i * 4, true);
      at += size * 4;
    } else if ((q.dtype === "uint8" || q.dtype === "uint16") && q.min !== undefined && q.scale !== undefined) {
      // Affine quantization, as TensorFlow.js reads it: value = min + q × scale.
      for (let i = 0; i < size; i++) out[i] = q.min + (width === 1 ? view.getUint8(at + i) : view.getUint16(at + i * 2, true)) * q.scale;
      at += size * width;
    } else {
      throw new Error(`weight ${spec.name}: ${q.dtype} quantization is not supported`);
    }
    weights.set(spec.name, { shape: spec.shape, data: out });
  }
  if (at !== data.byteLength) throw new Error(`the weights hold ${data.byteLength - at} bytes the manifest does not describe`);
  return weights;
}

/** What flows out of a layer: a feature map (batch 1, NCHW; NaN for a size known only when run) or a flat vector. */
type Shape = { kind: "map"; c: number; h: number; w: number } | { kind: "flat"; n: number };

const pair = (v: unknown, what: string): [number, number] => {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "number") return [v[0], v[1]];
  throw new Error(`${what}: not a pair of numbers`);
};

/** TensorFlow's padding for one axis: "valid" none; "same" the output is ceil(in / stride), the odd pixel after. */
function axisPadding(padding: unknown, size: number, kernel: number, stride: number, dilation: number): [number, number] {
  if (padding === "valid") return [0, 0];
  if (padding !== "same") throw new Error(`padding ${String(padding)} is not supported`);
  // Unit stride pads the same whatever the size; a larger one needs the size.
  if (stride === 1) return [Math.floor(((kernel - 1) * dilation) / 2), (kernel - 1) * dilation - Math.floor(((kernel - 1) * dilation) / 2)];
  if (Number.isNaN(size)) throw new Error("a strided convolution of an input of any size is not supported");
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** The ONNX model computing what the Keras model computes (in inference: dropout is the identity). */
export function kerasToOnnx(topology: KerasTopology, weights: Weights, name = "keras"): Uint8Array {
  const model = topology.model_config?.config ?? topology.config;
  if (!model) throw new Error("the topology holds no model");
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  /** the ONNX value holding each layer's output, and its shape */
  const values = new Map<string, { value: string; shape: Shape }>();
  let inputShape: Shape | undefined;
  let inputName = "input";

  const constant = (id: string, dims: number[], data: Float32Array | BigInt64Array) => {
    initializers.push({ name: id, dims, data });
    return id;
  };
  const weight = (layer: string, part: string) => {
    const w = weights.get(`${layer}/${part}`);
    if (!w) throw new Error(`layer ${layer}: no weight ${part}`);
    return w;
  };
  const mapShape = (layer: string, s: Shape) => {
    if (s.kind !== "map") throw new Error(`layer ${layer} takes a feature map`);
    return s;
  };
  const activation = (layer: string, from: string, kind: unknown): string => {
    if (kind === "linear" || kind === undefined || kind === null) return from;
    const op = kind === "relu" ? "Relu" : kind === "softmax" ? "Softmax" : kind === "sigmoid" ? "Sigmoid" : undefined;
    if (!op) throw new Error(`layer ${layer}: activation ${String(kind)} is not supported`);
    nodes.push({ op, inputs: [from], outputs: [`${layer}/${op}`], ...(op === "Softmax" ? { attrs: { axis: { i: 1 } } } : {}) });
    return `${layer}/${op}`;
  };

  for (const layer of model.layers) {
    const id = layer.name ?? (layer.config.name as string);
    const c = layer.config;
    const inbound = (layer.inbound_nodes[0] ?? []).map(([from]) => {
      const found = values.get(from);
      if (!found) throw new Error(`layer ${id}: its input ${from} comes later or not at all`);
      return found;
    });
    if (layer.inbound_nodes.length > 1) throw new Error(`layer ${id} is shared, which is not supported`);
    const only = () => {
      if (inbound.length !== 1) throw new Error(`layer ${id} takes one input`);
      return inbound[0]!;
    };
    if (c.data_format !== undefined && c.data_format !== "channels_last") throw new Error(`layer ${id}: data format ${String(c.data_format)} is not supported`);
    let out: { value: string; shape: Shape };

    switch (layer.class_name) {
      case "InputLayer": {
        const shape = c.batch_input_shape as Array<number | null>;
        if (shape?.length !== 4 || typeof shape[3] !== "number" || shape.slice(1, 3).some((d) => d !== null && typeof d !== "number")) throw new Error(`input ${id}: only [batch, height, width, channels] is supported`);
        if (inputShape) throw new Error("only one input is supported");
        inputShape = { kind: "map", h: shape[1] ?? NaN, w: shape[2] ?? NaN, c: shape[3] };
        inputName = id;
        out = { value: id, shape: inputShape };
        break;
      }
      case "ZeroPadding2D": {
        const from = only();
        const s = mapShape(id, from.shape);
        const [[top, bottom], [left, right]] = c.padding as [[number, number], [number, number]];
        const pads = constant(`${id}/pads`, [8], BigInt64Array.from([0, 0, top, left, 0, 0, bottom, right].map(BigInt)));
        nodes.push({ op: "Pad", inputs: [from.value, pads], outputs: [id] });
        out = { value: id, shape: { ...s, h: s.h + top + bottom, w: s.w + left + right } };
        break;
      }
      case "Conv2D":
      case "DepthwiseConv2D": {
        const from = only();
        const s = mapShape(id, from.shape);
        const [kh, kw] = pair(c.kernel_size, id);
        const [sh, sw] = pair(c.strides ?? 1, id);
        const [dh, dw] = pair(c.dilation_rate ?? 1, id);
        const [top, bottom] = axisPadding(c.padding, s.h, kh, sh, dh);
        const [left, right] = axisPadding(c.padding, s.w, kw, sw, dw);
        const depthwise = layer.class_name === "DepthwiseConv2D";
        const kernel = weight(id, depthwise ? "depthwise_kernel" : "kernel");
        let outChannels: number;
        let w: Float32Array;
        if (depthwise) {
          // [kh, kw, in, multiplier] → [in × multiplier, 1, kh, kw]; output channel = in × multiplier + m.
          const mult = kernel.shape[3]!;
          outChannels = s.c * mult;
          w = new Float32Array(outChannels * kh * kw);
          for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < s.c; i++) for (let m = 0; m < mult; m++) w[((i * mult + m) * kh + y) * kw + x] = kernel.data[((y * kw + x) * s.c + i) * mult + m]!;
        } else {
          // [kh, kw, in, out] → [out, in, kh, kw]
          outChannels = kernel.shape[3]!;
          if (kernel.shape[2] !== s.c) throw new Error(`layer ${id}: the kernel takes ${kernel.shape[2]} channels, not ${s.c}`);
          w = new Float32Array(outChannels * s.c * kh * kw);
          for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < s.c; i++) for (let o = 0; o < outChannels; o++) w[((o * s.c + i) * kh + y) * kw + x] = kernel.data[((y * kw + x) * s.c + i) * outChannels + o]!;
        }
        const inputs = [from.value, constant(`${id}/W`, [outChannels, depthwise ? 1 : s.c, kh, kw], w)];
        if (c.use_bias) inputs.push(constant(`${id}/B`, [outChannels], weight(id, "bias").data));
        nodes.push({
          op: "Conv",
          inputs,
          outputs: [`${id}/conv`],
          attrs: { kernel_shape: { ints: [kh, kw] }, strides: { ints: [sh, sw] }, dilations: { ints: [dh, dw] }, pads: { ints: [top, left, bottom, right] }, group: { i: depthwise ? s.c : 1 } },
        });
        const h = Math.floor((s.h + top + bottom - dh * (kh - 1) - 1) / sh) + 1;
        const wd = Math.floor((s.w + left + right - dw * (kw - 1) - 1) / sw) + 1;
        out = { value: activation(id, `${id}/conv`, c.activation), shape: { kind: "map", c: outChannels, h, w: wd } };
        break;
      }
      case "BatchNormalization": {
        const from = only();
        const s = mapShape(id, from.shape);
        if (c.axis !== -1 && c.axis !== 3 && !(Array.isArray(c.axis) && c.axis.length === 1 && (c.axis[0] === -1 || c.axis[0] === 3))) throw new Error(`layer ${id}: only the channel axis is supported`);
        const ones = () => new Float32Array(s.c).fill(1);
        const scale = c.scale === false ? ones() : weight(id, "gamma").data;
        const bias = c.center === false ? new Float32Array(s.c) : weight(id, "beta").data;
        nodes.push({
          op: "BatchNormalization",
          inputs: [from.value, constant(`${id}/scale`, [s.c], scale), constant(`${id}/bias`, [s.c], bias), constant(`${id}/mean`, [s.c], weight(id, "moving_mean").data), constant(`${id}/var`, [s.c], weight(id, "moving_variance").data)],
          outputs: [id],
          attrs: { epsilon: { f: Number(c.epsilon ?? 0.001) } },
        });
        out = { value: id, shape: s };
        break;
      }
      case "ReLU": {
        const from = only();
        if (Number(c.negative_slope ?? 0) !== 0 || Number(c.threshold ?? 0) !== 0) throw new Error(`layer ${id}: a leaky or thresholded ReLU is not supported`);
        if (c.max_value === null || c.max_value === undefined) nodes.push({ op: "Relu", inputs: [from.value], outputs: [id] });
        else nodes.push({ op: "Clip", inputs: [from.value, constant(`${id}/min`, [], Float32Array.of(0)), constant(`${id}/max`, [], Float32Array.of(Number(c.max_value)))], outputs: [id] });
        out = { value: id, shape: from.shape };
        break;
      }
      case "Add": {
        if (inbound.length < 2) throw new Error(`layer ${id} adds fewer than two inputs`);
        let sum = inbound[0]!.value;
        inbound.slice(1).forEach((term, i) => {
          const to = i === inbound.length - 2 ? id : `${id}/${i}`;
          nodes.push({ op: "Add", inputs: [sum, term.value], outputs: [to] });
          sum = to;
        });
        out = { value: id, shape: inbound[0]!.shape };
        break;
      }
      case "AveragePooling2D": {
        const from = only();
        const s = mapShape(id, from.shape);
        const [kh, kw] = pair(c.pool_size, id);
        const [sh, sw] = pair(c.strides ?? c.pool_size, id);
        const [top, bottom] = axisPadding(c.padding, s.h, kh, sh, 1);
        const [left, right] = axisPadding(c.padding, s.w, kw, sw, 1);
        // Keras averages over the pixels inside the picture only, as ONNX does by default.
        nodes.push({ op: "AveragePool", inputs: [from.value], outputs: [id], attrs: { kernel_shape: { ints: [kh, kw] }, strides: { ints: [sh, sw] }, pads: { ints: [top, left, bottom, right] } } });
        out = { value: id, shape: { ...s, h: Math.floor((s.h + top + bottom - kh) / sh) + 1, w: Math.floor((s.w + left + right - kw) / sw) + 1 } };
        break;
      }
      case "GlobalAveragePooling2D": {
        const from = only();
        const s = mapShape(id, from.shape);
        if (c.keepdims) throw new Error(`layer ${id}: keepdims is not supported`);
        nodes.push({ op: "GlobalAveragePool", inputs: [from.value], outputs: [`${id}/pool`] }, { op: "Flatten", inputs: [`${id}/pool`], outputs: [id], attrs: { axis: { i: 1 } } });
        out = { value: id, shape: { kind: "flat", n: s.c } };
        break;
      }
      case "Flatten": {
        const from = only();
        if (from.shape.kind === "flat") {
          out = from;
          break;
        }
        // Keras flattens height, width, channels in that order.
        nodes.push({ op: "Transpose", inputs: [from.value], outputs: [`${id}/nhwc`], attrs: { perm: { ints: [0, 2, 3, 1] } } }, { op: "Flatten", inputs: [`${id}/nhwc`], outputs: [id], attrs: { axis: { i: 1 } } });
        out = { value: id, shape: { kind: "flat", n: from.shape.c * from.shape.h * from.shape.w } };
        break;
      }
      case "Dense": {
        const from = only();
        if (from.shape.kind !== "flat") throw new Error(`layer ${id} takes a flat input`);
        const kernel = weight(id, "kernel");
        const units = kernel.shape[1]!;
        if (kernel.shape[0] !== from.shape.n) throw new Error(`layer ${id}: the kernel takes ${kernel.shape[0]} values, not ${from.shape.n}`);
        const inputs = [from.value, constant(`${id}/W`, kernel.shape, kernel.data)];
        if (c.use_bias !== false) inputs.push(constant(`${id}/B`, [units], weight(id, "bias").data));
        nodes.push({ op: "Gemm", inputs, outputs: [`${id}/gemm`] });
        out = { value: activation(id, `${id}/gemm`, c.activation), shape: { kind: "flat", n: units } };
        break;
      }
      case "Dropout":
        out = only();
        break;
      case "Activation": {
        const from = only();
        out = { value: activation(id, from.value, c.activation), shape: from.shape };
        break;
      }
      case "Concatenate": {
        if (inbound.length < 2) throw new Error(`layer ${id} joins fewer than two inputs`);
        const shapes = inbound.map((input) => mapShape(id, input.shape));
        if (c.axis !== -1 && c.axis !== 3) throw new Error(`layer ${id}: only the channel axis is supported`);
        nodes.push({ op: "Concat", inputs: inbound.map((input) => input.value), outputs: [id], attrs: { axis: { i: 1 } } });
        out = { value: id, shape: { ...shapes[0]!, c: shapes.reduce((n, shape) => n + shape.c, 0) } };
        break;
      }
      case "UpSampling2D": {
        const from = only();
        const s = mapShape(id, from.shape);
        const [fh, fw] = pair(c.size, id);
        if (c.interpolation !== "nearest") throw new Error(`layer ${id}: ${String(c.interpolation)} interpolation is not supported`);
        // Whole factors with "asymmetric" coordinates and "floor" repeat each pixel, as Keras does.
        nodes.push({
          op: "Resize",
          inputs: [from.value, "", constant(`${id}/scales`, [4], Float32Array.of(1, 1, fh, fw))],
          outputs: [id],
          attrs: { mode: { s: "nearest" }, coordinate_transformation_mode: { s: "asymmetric" }, nearest_mode: { s: "floor" } },
        });
        out = { value: id, shape: { ...s, h: s.h * fh, w: s.w * fw } };
        break;
      }
      // The thick ESRGAN models' own layers (idealo's RRDN, as @upscalerjs saves it): each residual
      // branch scaled by a fixed beta, and depth-to-space upsampling in TensorFlow's channel order.
      case "MultiplyBeta": {
        const from = only();
        if (typeof c.beta !== "number") throw new Error(`layer ${id}: no beta`);
        nodes.push({ op: "Mul", inputs: [from.value, constant(`${id}/beta`, [], Float32Array.of(c.beta))], outputs: [id] });
        out = { value: id, shape: from.shape };
        break;
      }
      case "PixelShuffle2x":
      case "PixelShuffle4x": {
        const from = only();
        const s = mapShape(id, from.shape);
        const factor = layer.class_name === "PixelShuffle2x" ? 2 : 4;
        if (c.scale !== undefined && c.scale !== factor) throw new Error(`layer ${id}: scale ${String(c.scale)} does not match its class`);
        if (s.c % (factor * factor) !== 0) throw new Error(`layer ${id}: ${s.c} channels do not shuffle by ${factor}`);
        nodes.push({ op: "DepthToSpace", inputs: [from.value], outputs: [id], attrs: { blocksize: { i: factor }, mode: { s: "DCR" } } });
        out = { value: id, shape: { kind: "map", c: s.c / (factor * factor), h: s.h * factor, w: s.w * factor } };
        break;
      }
      default:
        throw new Error(`layer ${id}: ${layer.class_name} is not supported`);
    }
    values.set(id, out);
  }

  if (!inputShape || inputShape.kind !== "map") throw new Error("the model has no input layer");
  if (model.output_layers.length !== 1) throw new Error("only one output is supported");
  const last = values.get(model.output_layers[0]![0]);
  if (!last) throw new Error("the output layer is missing");
  nodes.push({ op: "Identity", inputs: [last.value], outputs: ["output"] });
  const size = (n: number, symbol: string): number | string => (Number.isNaN(n) ? symbol : n);
  const outDims = last.shape.kind === "flat" ? [1, last.shape.n] : [1, last.shape.c, size(last.shape.h, "output_height"), size(last.shape.w, "output_width")];
  return encodeOnnxModel({
    name,
    nodes,
    initializers,
    inputs: [{ name: inputName, dims: [1, inputShape.c, size(inputShape.h, "height"), size(inputShape.w, "width")] }],
    outputs: [{ name: "output", dims: outDims }],
    opset: 13,
  });
}
