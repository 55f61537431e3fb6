import { t } from "./i18n/index.svelte.js";
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

/** A mode whose name is read in the current language each time the form shows it. */
function mode(id: "quality" | "target" | "preset" | "size" | "percent" | "aspect" | "rect" | "all", fields: string[]) {
  return {
    id,
    fields,
    get label() {
      return t(`formModes.${id}`);
    },
  };
}

const ENCODING_DETAILS = ["lossless", "effort", "chromaSubsampling", "mozjpeg", "background"];

export const TOOL_FORM_HINTS: Record<string, ToolFormHints> = {
  convert: { suggested: { format: "webp" }, advanced: ENCODING_DETAILS },
  compress: {
    get modeLegend() {
      return t("formModes.compressBy");
    },
    modes: [
      mode("quality", ["quality"]),
      mode("target", ["targetKB", "minQuality"]),
    ],
    advanced: ENCODING_DETAILS,
  },
  resize: {
    get modeLegend() {
      return t("formModes.sizeBy");
    },
    modes: [
      mode("preset", ["preset", "fit"]),
      mode("size", ["width", "height", "fit", "withoutEnlargement"]),
      mode("percent", ["percent", "withoutEnlargement"]),
    ],
    suggested: { preset: "instagram-square", percent: 50, width: 1920 },
    advanced: ["quality", ...ENCODING_DETAILS],
  },
  crop: {
    get modeLegend() {
      return t("formModes.keep");
    },
    modes: [
      mode("aspect", ["aspect", "position"]),
      mode("rect", ["rect"]),
      mode("all", []),
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
