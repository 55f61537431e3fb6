import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import type { ModelThreadData } from "./pool.js";

/**
 * ONNX Runtime sessions for the model threads (imported only there). The CPU provider ships with
 * onnxruntime-node; the CUDA one is a separate download that the install skips (.npmrc), so CUDA is
 * used only where an operator installed it next to the binding.
 */

/** The folder holding onnxruntime-node's native binding and any provider libraries beside it. */
function bindingDir(): string {
  const entry = createRequire(import.meta.url).resolve("onnxruntime-node"); // …/onnxruntime-node/dist/index.js
  return path.join(path.dirname(path.dirname(entry)), "bin", "napi-v6", process.platform, process.arch);
}

let cuda: boolean | undefined;

/** Whether the CUDA provider library is installed (it still needs a GPU and its drivers to start). */
export function cudaInstalled(): boolean {
  cuda ??= process.platform === "linux" && existsSync(path.join(bindingDir(), "libonnxruntime_providers_cuda.so"));
  return cuda;
}

/**
 * One session, made once per thread and kept, from the model's bytes or its file (read by ONNX
 * Runtime itself, never held by this thread's heap). The memory arena is off: with it, a session keeps its
 * largest run's working set reserved for good (ISNet at 1024²: 2.4 GB resident after two runs,
 * against 0.65 GB idle and 1.5 GB at the peak of a run without it, for the same speed). It uses
 * this model thread's share of the cores: by default ONNX Runtime starts one thread per core in
 * each session, which with one model thread per core means cores² threads fighting for the cores.
 *
 * `spinning: false` is for models that run for milliseconds, now and then (NSFW on each upload):
 * where a model thread has more than one core, ONNX Runtime's helper threads otherwise spin on
 * their core after each run, waiting for the next, and take it from the rest of the server (a
 * classification cost 32 ms of CPU instead of 17).
 */
export async function createSession(
  model: Uint8Array | string,
  tuning: Pick<ort.InferenceSession.SessionOptions, "enableCpuMemArena" | "enableMemPattern"> & { spinning?: boolean } = {},
): Promise<ort.InferenceSession> {
  const computeThreads = (workerData as ModelThreadData | undefined)?.computeThreads ?? 1;
  const { spinning = true, ...sessionTuning } = tuning;
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    enableCpuMemArena: false,
    intraOpNumThreads: computeThreads,
    interOpNumThreads: 1,
    ...sessionTuning,
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: "0" } } } }),
  };
  const create = (providers: string[]) =>
    typeof model === "string" ? ort.InferenceSession.create(model, { ...options, executionProviders: providers }) : ort.InferenceSession.create(model, { ...options, executionProviders: providers });
  if (cudaInstalled()) {
    try {
      return await create(["cuda", "cpu"]);
    } catch {
      // No usable GPU (or drivers): the CPU provider below does the work.
    }
  }
  return create(["cpu"]);
}

/** Runs a session with one float input and returns one named output, computing nothing else it could skip. */
export async function runSession(session: ort.InferenceSession, input: Float32Array, dims: readonly number[], output?: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const inputName = session.inputNames[0]!;
  const outputName = output ?? session.outputNames[0]!;
  const result = await session.run({ [inputName]: new ort.Tensor("float32", input, dims) }, [outputName]);
  const tensor = result[outputName]!;
  if (tensor.type !== "float32") throw new Error(`the model gave ${tensor.type}, not float32`);
  return { data: tensor.data as Float32Array, dims: tensor.dims };
}
