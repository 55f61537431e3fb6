import { z } from "zod";
import { colorizeSpec } from "./colorize.js";
import { compressSpec } from "./compress.js";
import { convertSpec } from "./convert.js";
import { cropSpec } from "./crop.js";
import { nsfwSpec } from "./nsfw.js";
import { ocrSpec } from "./ocr.js";
import { pdfToImagesSpec } from "./pdf-to-images.js";
import { removeBackgroundSpec } from "./remove-background.js";
import { resizeSpec } from "./resize.js";
import { restoreSpec } from "./restore.js";
import { stripSpec } from "./strip.js";
import { upscaleSpec } from "./upscale.js";
import { type RunsOn, type ToolLimits, withLimits } from "./tool.js";

export * from "./tool.js";
export { SOCIAL_PRESETS, type SocialPreset, type SocialPresetId, socialPreset } from "./presets.js";

/** Every tool, by name. Adding one here is what makes the server registry demand its implementation. */
export const TOOL_SPECS = {
  convert: convertSpec,
  compress: compressSpec,
  resize: resizeSpec,
  crop: cropSpec,
  strip: stripSpec,
  "pdf-to-images": pdfToImagesSpec,
  nsfw: nsfwSpec,
  ocr: ocrSpec,
  "remove-background": removeBackgroundSpec,
  colorize: colorizeSpec,
  upscale: upscaleSpec,
  restore: restoreSpec,
} as const;

export type ToolName = keyof typeof TOOL_SPECS;
export type ToolSpecOf<N extends ToolName> = (typeof TOOL_SPECS)[N];

/** The names of tools that must have a server implementation (runsOn server or both). */
export type ServerToolName = { [N in ToolName]: ToolSpecOf<N>["runsOn"] extends "browser" ? never : N }[ToolName];

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOL_SPECS, name);
}

/** How a tool describes itself to clients: `GET /api/v1/tools`, the CLI's `tools`, the pages. */
export interface ToolDescription {
  name: ToolName;
  title: string;
  description: string;
  runsOn: RunsOn;
  /** JSON Schema (draft 2020-12) of the params a client sends; defaults are filled in by the server */
  params: Record<string, unknown>;
  accepts: readonly string[];
  limits: ToolLimits;
}

/**
 * Every tool as clients see it. `limitsOf` gives the limits in force here (the operator's settings
 * over the spec's own); the texts name those, not the spec's defaults (`withLimits`).
 */
export function toolCatalogue(limitsOf: (name: ToolName, own: ToolLimits) => ToolLimits = (_name, own) => own): ToolDescription[] {
  return (Object.keys(TOOL_SPECS) as ToolName[]).map((name) => {
    const spec = TOOL_SPECS[name];
    const limits = limitsOf(name, spec.limits);
    // "input": what a client may send (fields with defaults are optional), not the parsed shape.
    const params = z.toJSONSchema(spec.params, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    return {
      name,
      title: spec.title,
      description: withLimits(spec.description, limits),
      runsOn: spec.runsOn,
      params: JSON.parse(withLimits(JSON.stringify(params), limits)) as Record<string, unknown>,
      accepts: spec.accepts,
      limits,
    };
  });
}
