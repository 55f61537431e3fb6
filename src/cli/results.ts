import path from "node:path";
import { AppError } from "../common/errors.js";
import type { ToolRunResult } from "../tools/runner.js";
import { typeNames } from "./help.js";

/** One input's outcome, as `--json` prints it. */
export interface FileResult {
  /** the path as it was given */
  input: string;
  ok: boolean;
  outputs: Array<{ path: string; name: string; mime: string; bytes: number; width: number; height: number; frames?: number }>;
  report?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export function succeeded(input: string, result: ToolRunResult): FileResult {
  const outputs = result.outputs.map(({ path, name, mime, bytes, width, height, frames }) => ({ path, name, mime, bytes, width, height, ...(frames ? { frames } : {}) }));
  return { input, ok: true, outputs, ...(result.report ? { report: result.report } : {}) };
}

export function failed(input: string, err: unknown): FileResult {
  // AppErrors are written for users; anything else is a fault, still worth its message locally.
  const error = err instanceof AppError ? { code: err.code, message: err.message } : { code: "internal", message: err instanceof Error ? err.message : String(err) };
  return { input, ok: false, outputs: [], error };
}

/** Lines for a person: each output with its size, then the report in one line. */
export function describeResult(result: FileResult): string[] {
  const lines = result.outputs.map(
    (o) => `${result.input} -> ${shortPath(o.path)}  (${o.width > 0 ? `${o.width}x${o.height}, ` : ""}${o.frames ? `${o.frames} frames, ` : ""}${typeNames([o.mime])}, ${formatBytes(o.bytes)})`,
  );
  if (result.report) {
    const facts = Object.entries(result.report)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") || "none" : typeof v === "object" ? JSON.stringify(v) : String(v)}`);
    if (facts.length) lines.push(`  ${facts.join("; ")}`);
  }
  return lines;
}

/** Relative to the current folder when inside it: shorter, and what the user typed. */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(2)} MB`;
}
