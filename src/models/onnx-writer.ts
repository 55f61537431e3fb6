/**
 * Writes ONNX models: the few messages of onnx.proto a plain inference graph needs (field numbers
 * as in the ONNX specification), encoded as protocol buffers by hand. Used to hand ONNX Runtime
 * models that ship in another format (see keras-onnx.ts), and by the tests to build tiny models.
 */

export type OnnxAttribute = { i: number } | { f: number } | { ints: readonly number[] } | { s: string };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attrs?: Record<string, OnnxAttribute>;
}

export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: float32, each dimension a size or a symbolic name. */
export interface OnnxValue {
  name: string;
  dims: ReadonlyArray<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
  /** the default domain's operator set */
  opset: number;
}

const FLOAT = 1;
const INT64 = 7;
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
const ATTRIBUTE_TYPE = { f: 1, i: 2, s: 3, ints: 7 } as const;

const text = new TextEncoder();

function varint(value: number | bigint): number[] {
  // int64 fields: a negative value is its 64-bit two's complement (ten bytes).
  let n = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(n & 0x7fn);
    n >>= 7n;
    out.push(n > 0n ? low | 0x80 : low);
  } while (n > 0n);
  return out;
}

/** Encoded bytes as a list of pieces, joined once at the end: a tensor's megabytes are copied once. */
type Bytes = Uint8Array[];

const size = (parts: Bytes) => parts.reduce((sum, p) => sum + p.length, 0);
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, value: number | bigint): Bytes => [Uint8Array.from([...key(field, VARINT), ...varint(value)])];
const bytes = (field: number, payload: Bytes): Bytes => [Uint8Array.from([...key(field, LENGTH_DELIMITED), ...varint(size(payload))]), ...payload];
const string = (field: number, value: string) => bytes(field, [text.encode(value)]);
const message = (field: number, parts: Bytes[]) => bytes(field, parts.flat());

function float(field: number, value: number): Bytes {
  const out = new Uint8Array(5);
  out[0] = key(field, FIXED32)[0]!;
  new DataView(out.buffer).setFloat32(1, value, true);
  return [out];
}

function attribute(name: string, value: OnnxAttribute): Bytes[] {
  const parts = [string(1, name)];
  if ("f" in value) parts.push(float(2, value.f), int(20, ATTRIBUTE_TYPE.f));
  else if ("i" in value) parts.push(int(3, value.i), int(20, ATTRIBUTE_TYPE.i));
  else if ("s" in value) parts.push(string(4, value.s), int(20, ATTRIBUTE_TYPE.s));
  else parts.push(...value.ints.map((v) => int(8, v)), int(20, ATTRIBUTE_TYPE.ints));
  return parts;
}

function node(n: OnnxNode): Bytes[] {
  return [
    ...n.inputs.map((i) => string(1, i)),
    ...n.outputs.map((o) => string(2, o)),
    ...(n.name ? [string(3, n.name)] : []),
    string(4, n.op),
    ...Object.entries(n.attrs ?? {}).map(([name, value]) => message(5, attribute(name, value))),
  ];
}

function tensor(t: OnnxInitializer): Bytes[] {
  // raw_data is little-endian, as typed arrays are on every platform Node runs on.
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return [...t.dims.map((d) => int(1, d)), int(2, t.data instanceof Float32Array ? FLOAT : INT64), string(8, t.name), bytes(9, [raw])];
}

function valueInfo(v: OnnxValue): Bytes[] {
  const dims = v.dims.map((d) => message(1, [typeof d === "number" ? int(1, d) : string(2, d)]));
  const tensorType = message(1, [int(1, FLOAT), message(2, dims)]);
  return [string(1, v.name), message(2, [tensorType])];
}

/** The model's bytes, ready for `InferenceSession.create`. */
export function encodeOnnxModel(graph: OnnxGraph, producer = "pixhaven"): Uint8Array {
  const body = [
    ...graph.nodes.map((n) => message(1, node(n))),
    string(2, graph.name),
    ...graph.initializers.map((t) => message(5, tensor(t))),
    ...graph.inputs.map((v) => message(11, valueInfo(v))),
    ...graph.outputs.map((v) => message(12, valueInfo(v))),
  ];
  const parts = [int(1, 8), string(2, producer), message(7, body), message(8, [string(1, ""), int(2, graph.opset)])].flat();
  const out = new Uint8Array(size(parts));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
