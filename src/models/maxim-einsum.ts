import type { Tensor } from "@tensorflow/tfjs";
import type { tfjsWasm } from "./tfjs-wasm.js";

type Tf = Awaited<ReturnType<typeof tfjsWasm>>;

/**
 * A two-operand einsum (`x,y->z`, each letter at most once per operand) from transpose, reshape and
 * one batched matMul: the tfjs WebAssembly backend has no Einsum kernel, and MAXIM's graph uses
 * three forms of it (`abcg,gf->abcf`, `gb,cgef->bcef`, `abgd,gf->abdf`).
 *
 * Letters shared by both operands and the output are batch dimensions, letters in both operands
 * only are contracted, the rest are kept from one side (or summed away first when the output lacks
 * them).
 */
export function einsum2(tf: Tf, equation: string, x: Tensor, y: Tensor): Tensor {
  const match = /^([a-z]+),([a-z]+)->([a-z]*)$/.exec(equation.replace(/\s+/g, ""));
  if (!match) throw new Error(`unsupported einsum equation ${equation}`);
  let [, xs, ys, zs] = match as unknown as [string, string, string, string];
  for (const s of [xs, ys, zs]) if (new Set(s).size !== s.length) throw new Error(`unsupported einsum equation ${equation}: a repeated letter`);
  if (xs.length !== x.rank || ys.length !== y.rank) throw new Error(`einsum ${equation} given ranks ${x.rank} and ${y.rank}`);

  // Letters in one operand only and not in the output are summed out first.
  const lonely = (own: string, other: string) => [...own].filter((c) => !other.includes(c) && !zs.includes(c));
  const xSum = lonely(xs, ys);
  if (xSum.length > 0) {
    x = tf.sum(x, xSum.map((c) => xs.indexOf(c)));
    xs = [...xs].filter((c) => !xSum.includes(c)).join("");
  }
  const ySum = lonely(ys, xs);
  if (ySum.length > 0) {
    y = tf.sum(y, ySum.map((c) => ys.indexOf(c)));
    ys = [...ys].filter((c) => !ySum.includes(c)).join("");
  }

  const batch = [...xs].filter((c) => ys.includes(c) && zs.includes(c));
  const contracted = [...xs].filter((c) => ys.includes(c) && !zs.includes(c));
  const xFree = [...xs].filter((c) => !ys.includes(c));
  const yFree = [...ys].filter((c) => !xs.includes(c));
  const size = (letters: string[], t: Tensor, own: string) => letters.reduce((n, c) => n * t.shape[own.indexOf(c)]!, 1);
  const dims = (letters: string[], t: Tensor, own: string) => letters.map((c) => t.shape[own.indexOf(c)]!);

  const b = size(batch, x, xs);
  const k = size(contracted, x, xs);
  const x3 = tf.reshape(tf.transpose(x, [...batch, ...xFree, ...contracted].map((c) => xs.indexOf(c))), [b, size(xFree, x, xs), k]);
  const y3 = tf.reshape(tf.transpose(y, [...batch, ...contracted, ...yFree].map((c) => ys.indexOf(c))), [b, k, size(yFree, y, ys)]);
  const product = tf.matMul(x3, y3);
  const order = [...batch, ...xFree, ...yFree];
  const full = tf.reshape(product, [...dims(batch, x, xs), ...dims(xFree, x, xs), ...dims(yFree, y, ys)]);
  return tf.transpose(full, [...zs].map((c) => order.indexOf(c)));
}

let registered = false;

/**
 * Registers the Einsum op for graph models. Everything it makes is inside `tf.tidy`: the graph
 * calls it hundreds of times per run, and the intermediate transposes and reshapes, if kept, grow
 * the WebAssembly heap past 4 GB.
 */
export function registerEinsum(tf: Tf): void {
  if (registered) return;
  registered = true;
  tf.registerOp("Einsum", (node) => {
    const equation = String(node.attrs["equation"]);
    const [x, y] = node.inputs as Tensor[];
    if (node.inputs.length !== 2 || !x || !y) throw new Error(`Einsum with ${node.inputs.length} operands is not supported`);
    return tf.tidy(() => einsum2(tf, equation, x, y));
  });
}
