import { missingFiles } from "./packages.js";
import type { ModelEntry } from "./registry.js";

/**
 * The ESRGAN upscalers, one registry entry per package and scale. Weights ship in the packages
 * (@upscalerjs/esrgan-slim, -medium, -thick; MIT) as Keras models, which run on ONNX Runtime
 * (see esrgan-onnx.ts); nothing here imports ONNX Runtime.
 */
export const ESRGAN_SIZES = ["slim", "medium", "thick"] as const;
export type EsrganSize = (typeof ESRGAN_SIZES)[number];
export const ESRGAN_SCALES = [2, 4] as const;
export type EsrganScale = (typeof ESRGAN_SCALES)[number];

export function esrganModelName(size: EsrganSize, scale: EsrganScale): string {
  return `esrgan-${size}-x${scale}`;
}

export interface EsrganFiles {
  pkg: string;
  modelJson: string;
  /** model.json and its weight shards, as the package ships them */
  files: string[];
  /** the pixel range the model takes and gives: slim and medium (RDN) work in 0..255, thick (RRDN) in 0..1 */
  range: 1 | 255;
}

/** Weight shards per model.json; listed rather than read from model.json so a probe stays cheap. */
const SHARDS: Record<EsrganSize, number> = { slim: 1, medium: 1, thick: 7 };

export function esrganFiles(size: EsrganSize, scale: EsrganScale): EsrganFiles {
  const thick = size === "thick";
  const dir = `models/x${scale}`;
  const shards = Array.from({ length: SHARDS[size] }, (_, i) => `${dir}/group1-shard${i + 1}of${SHARDS[size]}.bin`);
  return { pkg: `@upscalerjs/esrgan-${size}`, modelJson: `${dir}/model.json`, files: [`${dir}/model.json`, ...shards], range: thick ? 1 : 255 };
}

export const ESRGAN_MODELS: Record<string, ModelEntry> = Object.fromEntries(
  ESRGAN_SIZES.flatMap((size) =>
    ESRGAN_SCALES.map((scale) => {
      const files = esrganFiles(size, scale);
      const entry: ModelEntry = {
        handler: () => import("./esrgan.js").then((m) => m.esrganHandler(size, scale)),
        probe: () => missingFiles(files.pkg, files.files),
        native: true,
      };
      return [esrganModelName(size, scale), entry];
    }),
  ),
);
