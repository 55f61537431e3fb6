/**
 * The tools that also run on the person's own device. Their pages open in that mode, with a switch
 * to the server version; everything else about them (title, params, presets) comes from the shared
 * specs in src/common/tools, so both versions describe the same tool.
 */
import type { DeviceFormat } from "./header.js";

export const DEVICE_TOOLS = ["compress", "convert", "resize", "crop", "strip"] as const;
export type DeviceToolName = (typeof DEVICE_TOOLS)[number];

export function isDeviceTool(name: string): name is DeviceToolName {
  return (DEVICE_TOOLS as readonly string[]).includes(name);
}

/** What each reads (strip cannot rewrite HEIC losslessly: convert it first). */
export const DEVICE_INPUTS: Record<DeviceToolName, readonly DeviceFormat[]> = {
  compress: ["jpeg", "png", "webp", "avif", "gif", "heic"],
  convert: ["jpeg", "png", "webp", "avif", "gif", "heic"],
  resize: ["jpeg", "png", "webp", "avif", "gif", "heic"],
  crop: ["jpeg", "png", "webp", "avif", "gif", "heic"],
  strip: ["jpeg", "png", "webp", "avif", "gif"],
};

/**
 * Pixels one picture may decode to in this browser, from the memory it reports (Chromium rounds it
 * down to 0.25-8 GB): a decoded picture costs 4 bytes a pixel, about three times over while it is
 * drawn, cut and encoded.
 */
export function devicePixelLimit(): number {
  const memory = (navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? 4;
  return memory >= 8 ? 100_000_000 : memory >= 4 ? 64_000_000 : 24_000_000;
}

/** The formats' names as people know them: "JPEG, PNG, HEIC…". */
export const formatNames = (formats: readonly string[]) => formats.map((f) => (f === "jpeg" ? "JPEG" : f === "heic" ? "HEIC" : f.toUpperCase())).join(", ");
