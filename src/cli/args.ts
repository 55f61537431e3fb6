import { type CliParam, coerce, flagKey, setAt } from "./params.js";

/** A mistake in how a command was written: exit code 2, nothing touched. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface ToolArgs {
  files: string[];
  /** raw params, typed by the schema's kinds; the tool's schema still judges them */
  params: Record<string, unknown>;
  outputDir?: string;
  json: boolean;
  concurrency?: number;
  help: boolean;
}

/**
 * Reads `FILES... [--param value ...] [-o DIR] [--json] [--concurrency N]`, in any order. A boolean
 * param takes no value (`--lossless`, `--no-lossless`, or `--lossless=false`), so a file may
 * follow it; every other param takes the next word or `=value`. After `--`, all words are files.
 */
export function parseToolArgs(argv: readonly string[], params: readonly CliParam[], tool: string): ToolArgs {
  const byKey = new Map(params.map((p) => [p.path.map(flagKey).join("."), p]));
  const result: ToolArgs = { files: [], params: {}, json: false, help: false };
  const seen = new Set<string>();
  let filesOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (filesOnly || !word.startsWith("-") || word === "-") {
      result.files.push(word);
      continue;
    }
    if (word === "--") {
      filesOnly = true;
      continue;
    }
    const eq = word.indexOf("=");
    const name = eq > 0 ? word.slice(0, eq) : word;
    const inline = eq > 0 ? word.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) throw new UsageError(`${name} needs a value.`);
      i++;
      return next;
    };
    const once = (key: string) => {
      if (seen.has(key)) throw new UsageError(`${name} is given more than once.`);
      seen.add(key);
    };
    if (name === "-h" || name === "--help") {
      result.help = true;
    } else if (name === "--json") {
      result.json = true;
    } else if (name === "-o" || name === "--output") {
      once("output");
      result.outputDir = value();
      if (result.outputDir === "") throw new UsageError(`${name} needs a folder.`);
    } else if (name === "--concurrency") {
      once("concurrency");
      const text = value();
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < 1) throw new UsageError(`--concurrency takes a whole number of files at once (1 or more), not "${text}".`);
      result.concurrency = n;
    } else if (name.startsWith("--")) {
      readParam(name.slice(2), inline, value, byKey, result.params, once, tool);
    } else {
      throw new UsageError(`Unknown option ${name}; see pixhaven ${tool} --help.`);
    }
  }
  return result;
}

function readParam(
  written: string,
  inline: string | undefined,
  value: () => string,
  byKey: Map<string, CliParam>,
  params: Record<string, unknown>,
  once: (key: string) => void,
  tool: string,
): void {
  const key = written.split(".").map(flagKey).join(".");
  const negated = key.startsWith("no") && !byKey.has(key) ? byKey.get(key.slice(2)) : undefined;
  if (negated) {
    if (negated.kind !== "boolean") throw new UsageError(`--${written} is not an option: --${negated.flag} is not a yes/no parameter.`);
    if (inline !== undefined) throw new UsageError(`--${written} takes no value.`);
    once(negated.flag);
    setAt(params, negated.path, false);
    return;
  }
  const param = byKey.get(key);
  if (!param) {
    const fields = [...byKey.values()].filter((p) => p.path.length > 1 && p.path[0] && flagKey(p.path[0]) === key);
    if (fields.length > 0) throw new UsageError(`--${written} is given by its fields: ${fields.map((f) => `--${f.flag}`).join(", ")}.`);
    throw new UsageError(`${tool} has no parameter --${written}; see pixhaven ${tool} --help.`);
  }
  once(param.flag);
  const text = param.kind === "boolean" && inline === undefined ? "true" : value();
  const typed = coerce(param, text);
  if (Array.isArray(typed)) {
    const wrong = typed.find((v) => typeof v === "string" && param.itemKind !== undefined && param.itemKind !== "string");
    if (wrong !== undefined) throw new UsageError(`--${param.flag} takes ${param.itemKind === "integer" ? "whole numbers" : "numbers"} separated by commas, not ${JSON.stringify(text)}.`);
  } else if (typeof typed === "string" && param.kind !== "string") {
    const wanted = param.kind === "boolean" ? "true or false" : param.kind === "integer" ? "a whole number" : "a number";
    throw new UsageError(`--${param.flag} takes ${wanted}, not ${JSON.stringify(text)}.`);
  }
  setAt(params, param.path, typed);
}
