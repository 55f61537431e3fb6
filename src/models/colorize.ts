import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { z } from "zod";
import type { ModelThreads } from "./pool.js";
import type { ModelEntry, ModelSettings } from "./registry.js";

/**
 * Colourisation, main-thread side. No colourisation model ships on npm, so the operator supplies
 * an ONNX file and a small JSON manifest saying how to feed it (COLORIZE_MODEL is the manifest's
 * path). The session is made in a model thread (colorize.model.ts).
 */
export const COLORIZE_MODEL = "colorize";

const side = z.number().int().min(8).max(4096);
/** `value × scale + offset`, with one offset for all channels or one per channel. */
const linear = { scale: z.number().default(1), offset: z.union([z.number(), z.array(z.number()).min(1).max(3)]).default(0) };

export const colorizeManifestSchema = z.strictObject({
  /** the .onnx file, relative to the manifest's folder */
  file: z.string().min(1),
  /**
   * lab: the model takes lightness L (0..100, one channel) and answers a and b (two channels);
   * rgb: it takes the grey photo as sRGB (0..255, three channels) and answers sRGB (0..255), of
   * which only the colour is kept.
   */
  colorSpace: z.enum(["lab", "rgb"]),
  layout: z.enum(["NCHW", "NHWC"]).default("NCHW"),
  input: z.strictObject({
    /** [width, height] the model was exported for (the photo is squashed to it), or dynamic */
    size: z.union([z.tuple([side, side]), z.literal("dynamic")]),
    /** dynamic models: the photo is shrunk (never enlarged) to fit this box… */
    maxSide: side.default(512),
    /** …with each side a multiple of this (models that downsample often need 8, 16 or 32) */
    multipleOf: z.number().int().min(1).max(256).default(1),
    /** what the model takes: input value × scale + offset */
    ...linear,
    name: z.string().optional(),
  }),
  /** what the model answers, brought back to a/b or 0..255: output × scale + offset */
  output: z.strictObject({ ...linear, name: z.string().optional() }).default({ scale: 1, offset: 0 }),
});
export type ColorizeManifest = z.output<typeof colorizeManifestSchema>;

/** Reads and checks a manifest; the model file it names must exist. */
export async function readColorizeManifest(manifestPath: string): Promise<ColorizeManifest & { modelPath: string }> {
  const text = await fs.readFile(manifestPath, "utf8").catch(() => {
    throw new Error(`COLORIZE_MODEL points to ${manifestPath}, which cannot be read`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the colourisation manifest ${manifestPath} is not JSON`);
  }
  const parsed = colorizeManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`the colourisation manifest ${manifestPath} is invalid: ${issue.path.join(".") || "manifest"}: ${issue.message}`);
  }
  const modelPath = path.resolve(path.dirname(manifestPath), parsed.data.file);
  await fs.access(modelPath).catch(() => {
    throw new Error(`the colourisation model ${modelPath} named by ${manifestPath} is missing`);
  });
  return { ...parsed.data, modelPath };
}

/** The model's input size for a photo of this size (upright). */
export function colorizeInputSize(manifest: ColorizeManifest, width: number, height: number): { width: number; height: number } {
  const { size, maxSide, multipleOf } = manifest.input;
  if (size !== "dynamic") return { width: size[0], height: size[1] };
  const shrink = Math.min(1, maxSide / Math.max(width, height));
  const fit = (v: number) => Math.max(multipleOf, Math.round((v * shrink) / multipleOf) * multipleOf);
  return { width: fit(width), height: fit(height) };
}

export async function probeColorize(settings: ModelSettings): Promise<string | null> {
  if (!settings.colorizeManifest) return "no colourisation model is configured (COLORIZE_MODEL)";
  try {
    createRequire(import.meta.url).resolve("onnxruntime-node");
  } catch {
    return "the package onnxruntime-node is not installed";
  }
  try {
    await readColorizeManifest(settings.colorizeManifest);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export const COLORIZE_MODELS: Record<string, ModelEntry> = {
  [COLORIZE_MODEL]: { handler: () => import("./colorize.model.js").then((m) => m.colorizeHandler), probe: probeColorize, native: true },
};

export interface ColorizeTask {
  manifest: string;
  /** the photo, upright, 8-bit sRGB, 3 channels: coloured in place and given back */
  photo: ArrayBuffer;
  width: number;
  height: number;
  /** the photo squashed to the model's input size, same format */
  small: ArrayBuffer;
  smallWidth: number;
  smallHeight: number;
}

/** Colours a photo in a model thread; both buffers are transferred there and the photo back. */
export async function colorize(models: ModelThreads, task: ColorizeTask, timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array> {
  const { photo } = await models.run<{ photo: ArrayBuffer }>(COLORIZE_MODEL, task, { timeoutMs, transfer: [task.photo, task.small], ...(signal ? { signal } : {}) });
  return new Uint8Array(photo);
}
