/**
 * A tool's parameters as the command line sees them, read from the same JSON Schema the API
 * publishes (`toolCatalogue()`), so the CLI never keeps a second list of what a tool takes.
 */

type JsonSchema = Record<string, unknown>;

/** `list`: one or more values, comma-separated on the command line (`--languages fra,deu`). */
export type ParamKind = "boolean" | "integer" | "number" | "string" | "list";

export interface CliParam {
  /** where the value goes in the params object: ["rect", "x"] */
  path: string[];
  /** how it is written on the command line, without dashes: `rect.x`, `without-enlargement` */
  flag: string;
  kind: ParamKind;
  /** allowed values, when the schema lists them */
  choices?: ReadonlyArray<string | number>;
  min?: number;
  max?: number;
  /** true when `min` itself is not allowed */
  minExclusive?: boolean;
  pattern?: string;
  default?: unknown;
  description?: string;
  /** needed on every run (nested fields: needed once their object is given) */
  required: boolean;
  /** the description of the object a nested field belongs to */
  group?: string;
  /** a list's elements */
  itemKind?: Exclude<ParamKind, "list">;
}

/** The flattened, command-line view of a params schema: one entry per leaf value. */
export function cliParams(schema: JsonSchema): CliParam[] {
  return flatten(schema, []);
}

function flatten(schema: JsonSchema, prefix: string[], group?: string): CliParam[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const params: CliParam[] = [];
  for (const [name, node] of Object.entries(properties)) {
    const path = [...prefix, name];
    if (node.type === "object") {
      params.push(...flatten(node, path, describe(node) ?? name));
      continue;
    }
    params.push({ path, flag: path.map(kebab).join("."), required: required.has(name), ...leaf(node), ...(group ? { group } : {}) });
  }
  return params;
}

function leaf(node: JsonSchema): Omit<CliParam, "path" | "flag" | "required" | "group"> {
  if (node.type === "array" && typeof node.items === "object" && node.items !== null) {
    // The element's choices and limits; the list's own default and description.
    const { kind, ...item } = leaf(node.items as JsonSchema);
    return {
      ...item,
      kind: "list",
      ...("default" in node ? { default: node.default } : {}),
      ...(describe(node) ? { description: describe(node)! } : {}),
      itemKind: kind === "list" ? "string" : kind,
    };
  }
  const options = Array.isArray(node.anyOf) ? (node.anyOf as JsonSchema[]) : undefined;
  const consts = options?.every((o) => "const" in o) ? options.map((o) => o.const as string | number) : undefined;
  const choices = (node.enum as Array<string | number> | undefined) ?? consts;
  const type = node.type ?? options?.[0]?.type;
  const kind: ParamKind = type === "boolean" || type === "integer" || type === "number" ? type : "string";
  const min = num(node.minimum) ?? num(node.exclusiveMinimum);
  const max = num(node.maximum) ?? num(node.exclusiveMaximum);
  return {
    kind: choices?.every((c) => typeof c === "number") ? "number" : kind,
    ...(choices ? { choices } : {}),
    ...(min !== undefined ? { min } : {}),
    // zod writes "no maximum" on integers as the largest safe integer: not a limit worth showing.
    ...(max !== undefined && max < Number.MAX_SAFE_INTEGER ? { max } : {}),
    ...(node.exclusiveMinimum !== undefined ? { minExclusive: true } : {}),
    ...(typeof node.pattern === "string" ? { pattern: node.pattern } : {}),
    ...("default" in node ? { default: node.default } : {}),
    ...(describe(node) ? { description: describe(node)! } : {}),
  };
}

const num = (value: unknown) => (typeof value === "number" ? value : undefined);
const describe = (node: JsonSchema) => (typeof node.description === "string" ? node.description : undefined);

/** `withoutEnlargement` → `without-enlargement`, `targetKB` → `target-kb`. */
export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();
}

/** Spellings that name the same flag: `--targetKB`, `--target-kb` and `--targetkb` all match. */
export function flagKey(flag: string): string {
  return flag.replace(/-/g, "").toLowerCase();
}

/**
 * The typed value of a flag's text. What does not convert is passed on as text, so the schema
 * reports it (`expected number, received string`) with the parameter's name.
 */
export function coerce(param: CliParam, text: string): unknown {
  if (param.kind === "list") {
    const item = { ...param, kind: param.itemKind ?? "string" };
    return text.split(",").map((part) => coerce(item, part.trim()));
  }
  if (param.kind === "boolean") {
    const lower = text.toLowerCase();
    if (["true", "yes", "1"].includes(lower)) return true;
    if (["false", "no", "0"].includes(lower)) return false;
    return text;
  }
  if (param.kind === "integer" || param.kind === "number") {
    const value = text.trim() === "" ? NaN : Number(text);
    return Number.isFinite(value) ? value : text;
  }
  return text;
}

/** Sets `value` at `path`, creating the objects on the way. */
export function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === "object" && next !== null ? next : (node[key] = {})) as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
