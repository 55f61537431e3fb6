import type { Values } from "./param-form.js";

/**
 * What a JSON Schema cannot say about a good form: params that exclude each other (offered as a
 * choice of mode), starting values, and which settings only experts need. The fields themselves
 * always come from the server's schema.
 */
export interface ToolFormHints {
  /** Mutually exclusive ways to use the tool; a field named in no mode is always in use. */
  modes?: { id: string; label: string; fields: string[] }[];
  modeLegend?: string;
  suggested?: Values;
  /** Folded away under "More encoding options". */
  advanced?: string[];
}

const ENCODING_DETAILS = ["lossless", "effort", "chromaSubsampling", "mozjpeg", "background"];

export const TOOL_FORM_HINTS: Record<string, ToolFormHints> = {
  convert: { suggested: { format: "webp" }, advanced: ENCODING_DETAILS },
  compress: {
    modeLegend: "Compress by",
    modes: [
      { id: "quality", label: "Quality", fields: ["quality"] },
      { id: "target", label: "Target file size", fields: ["targetKB", "minQuality"] },
    ],
    advanced: ENCODING_DETAILS,
  },
  resize: {
    modeLegend: "Size by",
    modes: [
      { id: "preset", label: "Social media preset", fields: ["preset", "fit"] },
      { id: "size", label: "Width and height", fields: ["width", "height", "fit", "withoutEnlargement"] },
      { id: "percent", label: "Percentage", fields: ["percent", "withoutEnlargement"] },
    ],
    suggested: { preset: "instagram-square", percent: 50, width: 1920 },
    advanced: ["quality", ...ENCODING_DETAILS],
  },
  crop: {
    modeLegend: "Keep",
    modes: [
      { id: "aspect", label: "An aspect ratio", fields: ["aspect", "position"] },
      { id: "rect", label: "A rectangle", fields: ["rect"] },
      { id: "all", label: "The whole picture (turn or mirror only)", fields: [] },
    ],
    suggested: { aspect: "1:1" },
    advanced: ["quality", ...ENCODING_DETAILS],
  },
};

export function hintsFor(tool: string): ToolFormHints {
  return TOOL_FORM_HINTS[tool] ?? {};
}

/** Whether `field` is sent in `mode`. */
export function fieldInUse(hints: ToolFormHints, mode: string | undefined, field: string): boolean {
  const modes = hints.modes ?? [];
  if (!modes.some((m) => m.fields.includes(field))) return true;
  return modes.find((m) => m.id === mode)?.fields.includes(field) ?? false;
}
