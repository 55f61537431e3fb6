import { SOCIAL_PRESETS } from "$common/tools/presets.js";
import { paramHint, type ToolContext } from "./tool-texts.js";
import { i18n, t, messages } from "./i18n/index.svelte.js";
import type { JsonSchema } from "./tools-api.js";

/** One form control, read from a property of a tool's params JSON Schema. */
export type Field =
  | { kind: "select"; name: string; label: string; description?: string; options: Option[]; optional: boolean; initial?: string | number }
  | {
      kind: "number";
      name: string;
      label: string;
      description?: string;
      min?: number;
      max?: number;
      integer: boolean;
      slider: boolean;
      optional: boolean;
      initial?: number;
    }
  | { kind: "checkbox"; name: string; label: string; description?: string; initial: boolean }
  /** several of a list (an array of choices: OCR's languages) */
  | { kind: "multi"; name: string; label: string; description?: string; options: Option[]; initial: Array<string | number> }
  /** optional with no default (remove-background's `background`): unset until ticked, and then sent */
  | { kind: "color"; name: string; label: string; description?: string; initial?: string; optional: boolean }
  | { kind: "text"; name: string; label: string; description?: string; pattern?: string; maxLength?: number; optional: boolean; initial?: string }
  | { kind: "group"; name: string; label: string; description?: string; fields: Field[] };

export interface Option {
  value: string | number;
  label: string;
}

export type Values = Record<string, unknown>;

// A slider helps on short ranges (quality, effort, DPI); on sizes in pixels it only gets in the way.
const MAX_SLIDER_SPAN = 1000;
const COLOUR = /^\^#\[0-9a-fA-F\]\{6\}\$$/;

export function labelFor(name: string): string {
  return (messages().paramLabels as Record<string, string | undefined>)[name] ?? name.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase());
}

function optionLabel(name: string, value: string | number): string {
  if (name === "preset") {
    const preset = SOCIAL_PRESETS.find((p) => p.id === value);
    if (preset) return t("formText.preset", preset.label, preset.width, preset.height);
  }
  if (name === "rotate" && typeof value === "number") return t("formText.degrees", value);
  if (name === "format" && typeof value === "string") return value === "same" ? t("formText.sameAsOriginal") : value.toUpperCase();
  if (name === "languages" && typeof value === "string") return languageName(value);
  const named = (messages().paramOptions as Record<string, Record<string, string> | undefined>)[name]?.[String(value)];
  return named ?? String(value);
}

/** A language code (ISO 639: eng, fra, deu) in the page's own language: "French", "français". */
function languageName(code: string): string {
  try {
    return new Intl.DisplayNames([i18n.language], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** The values a schema allows, when it lists them (an enum, or a union of constants). */
function choicesOf(schema: JsonSchema): Array<string | number> | undefined {
  return schema.enum ?? (schema.anyOf?.every((s) => s.const !== undefined) ? schema.anyOf.map((s) => s.const!) : undefined);
}

/** A pattern the browser can use as-is (it compiles them with the `v` flag), or none. */
function usablePattern(pattern: string | undefined): string | undefined {
  if (!pattern) return undefined;
  try {
    new RegExp(pattern, "v");
    return pattern;
  } catch {
    return undefined;
  }
}

function fieldFor(name: string, schema: JsonSchema, required: boolean, context: ToolContext | undefined): Field | null {
  const description = paramHint(context, name, schema.description);
  const base = { name, label: labelFor(name), ...(description ? { description } : {}) };
  const optional = !required && schema.default === undefined;
  const choices = choicesOf(schema);
  if (choices) {
    const initial = (schema.default as string | number | undefined) ?? (required ? choices[0] : undefined);
    return {
      kind: "select",
      ...base,
      options: choices.map((value) => ({ value, label: optionLabel(name, value) })),
      optional,
      ...(initial !== undefined ? { initial } : {}),
    };
  }
  const itemChoices = schema.type === "array" && schema.items ? choicesOf(schema.items) : undefined;
  if (itemChoices) {
    return {
      kind: "multi",
      ...base,
      options: itemChoices.map((value) => ({ value, label: optionLabel(name, value) })),
      initial: Array.isArray(schema.default) ? (schema.default as Array<string | number>) : [],
    };
  }
  switch (schema.type) {
    case "boolean":
      return { kind: "checkbox", ...base, initial: schema.default === true };
    case "integer":
    case "number": {
      const min = schema.minimum ?? schema.exclusiveMinimum;
      const max = schema.maximum;
      const integer = schema.type === "integer";
      const slider = integer && min !== undefined && max !== undefined && max - min <= MAX_SLIDER_SPAN;
      const initial = typeof schema.default === "number" ? schema.default : undefined;
      return {
        kind: "number",
        ...base,
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined && max < Number.MAX_SAFE_INTEGER ? { max } : {}),
        integer,
        slider,
        optional,
        ...(initial !== undefined ? { initial } : {}),
      };
    }
    case "string": {
      if (schema.pattern && COLOUR.test(schema.pattern)) {
        // An optional colour starts unset: sending white would turn "no colour" (transparency) into white.
        if (optional) return { kind: "color", ...base, optional };
        return { kind: "color", ...base, optional, initial: typeof schema.default === "string" ? schema.default : "#ffffff" };
      }
      const pattern = usablePattern(schema.pattern);
      return {
        kind: "text",
        ...base,
        ...(pattern ? { pattern } : {}),
        ...(schema.maxLength !== undefined ? { maxLength: schema.maxLength } : {}),
        optional,
        ...(typeof schema.default === "string" ? { initial: schema.default } : {}),
      };
    }
    case "object":
      return { kind: "group", ...base, fields: fieldsFromSchema(schema, context) };
    default:
      return null;
  }
}

/**
 * The controls for an object schema, in the schema's order; unknown kinds are left to the server's
 * defaults. With the tool's context, hints come in the page's language.
 */
export function fieldsFromSchema(schema: JsonSchema, context?: ToolContext): Field[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .map(([name, prop]) => fieldFor(name, prop, required.has(name), context))
    .filter((f): f is Field => f !== null);
}

/** Starting values: the schema's defaults, then the page's own suggestions. */
export function initialValues(fields: Field[], suggested: Values = {}): Values {
  const values: Values = {};
  for (const field of fields) {
    if (field.kind === "group") values[field.name] = initialValues(field.fields, (suggested[field.name] as Values | undefined) ?? {});
    else if (field.name in suggested) values[field.name] = suggested[field.name];
    else if ("initial" in field && field.initial !== undefined) values[field.name] = field.initial;
  }
  return values;
}

function isBlank(value: unknown): boolean {
  // An empty list (no language ticked) leaves the server's default, as an empty field does.
  return value === undefined || value === null || value === "" || (typeof value === "number" && Number.isNaN(value)) || (Array.isArray(value) && value.length === 0);
}

/**
 * The params to send: only the fields in use, blanks left out so the server's defaults apply, and
 * a group left out when none of its fields is filled.
 */
export function paramsFrom(fields: Field[], values: Values, inUse: (name: string) => boolean = () => true): Values {
  const params: Values = {};
  for (const field of fields) {
    if (!inUse(field.name)) continue;
    const value = values[field.name];
    if (field.kind === "group") {
      const nested = paramsFrom(field.fields, (value as Values | undefined) ?? {});
      if (Object.keys(nested).length > 0) params[field.name] = nested;
    } else if (!isBlank(value)) {
      params[field.name] = value;
    }
  }
  return params;
}
