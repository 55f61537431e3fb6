import path from "node:path";
import { packageDir } from "./packages.js";

/**
 * TensorFlow.js on its WebAssembly backend, set up once per model thread. Imported only inside a
 * model thread. The backend's .wasm files are read from the installed package (never fetched);
 * WebAssembly gets one thread in Node, so the model threads are the parallelism.
 */
type Tf = typeof import("@tensorflow/tfjs");
let ready: Promise<Tf> | undefined;

export const TFJS_WASM_FILES = ["dist/tfjs-backend-wasm.wasm", "dist/tfjs-backend-wasm-simd.wasm"] as const;

export function tfjsWasm(): Promise<Tf> {
  ready ??= (async () => {
    const tf = await import("@tensorflow/tfjs");
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // Another model in this thread may have started the backend already: the paths are set once.
    if (tf.getBackend() !== "wasm") {
      const dir = packageDir("@tensorflow/tfjs-backend-wasm");
      if (!dir) throw new Error("@tensorflow/tfjs-backend-wasm is not installed");
      // A path ending in "/" is a folder: the backend picks its SIMD or plain build from it.
      wasm.setWasmPaths(path.join(dir, "dist") + path.sep);
      if (!(await tf.setBackend("wasm"))) throw new Error("the TensorFlow.js WebAssembly backend did not start");
    }
    await tf.ready();
    return tf;
  })();
  ready.catch(() => (ready = undefined));
  return ready;
}
