import { missingFiles } from "./packages.js";
import type { ModelEntry } from "./registry.js";
import { TFJS_WASM_FILES } from "./tfjs-wasm.js";

/**
 * MAXIM denoising (@upscalerjs/maxim-denoising, MIT; trained on SIDD phone photos): a graph model
 * taking `[1, H, W, 3]` in 0..1 with H and W multiples of 64. Nothing here imports TensorFlow.
 */
export const MAXIM_DENOISE_MODEL = "maxim-denoising";
export const MAXIM_PACKAGE = "@upscalerjs/maxim-denoising";
export const MAXIM_MODEL_JSON = "models/model.json";
/** The model's sides must be multiples of this. */
export const MAXIM_MULTIPLE = 64;

/** Listed rather than read from model.json (27 MB) so a probe stays cheap. */
const SHARDS = 22;
const FILES = [MAXIM_MODEL_JSON, ...Array.from({ length: SHARDS }, (_, i) => `models/group1-shard${i + 1}of${SHARDS}.bin`)];

export const MAXIM_MODELS: Record<string, ModelEntry> = {
  [MAXIM_DENOISE_MODEL]: {
    handler: () => import("./maxim.js").then((m) => m.maximHandler()),
    probe: async () => (await missingFiles(MAXIM_PACKAGE, FILES)) ?? (await missingFiles("@tensorflow/tfjs-backend-wasm", TFJS_WASM_FILES)),
  },
};
