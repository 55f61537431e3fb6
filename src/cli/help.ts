import { type ToolDescription, type ToolName, toolCatalogue } from "../common/tools/index.js";
import { runsOnServer } from "../tools/registry.js";
import { CLI_OPTIONS_HELP } from "./options.js";
import { type CliParam, cliParams } from "./params.js";

const TYPE_NAMES: Record<string, string> = {
  "image/jpeg": "JPEG",
  "image/png": "PNG",
  "image/webp": "WebP",
  "image/avif": "AVIF",
  "image/gif": "GIF",
  "image/heic": "HEIC",
  "image/heif": "HEIF",
  "application/pdf": "PDF",
  "text/plain": "text",
};

/** Examples by tool; a tool without any gets one made from its required params. */
const EXAMPLES: Partial<Record<ToolName, string[]>> = {
  convert: ["pixhaven convert photo.heic --format jpeg", "pixhaven convert *.png --format webp --quality 75 -o web/", "pixhaven convert logo.png --format webp --lossless"],
  compress: ["pixhaven compress photo.jpg --quality 70", "pixhaven compress photo.jpg --target-kb 200 -o small/", "pixhaven compress scan.png --format webp"],
  resize: ["pixhaven resize photo.jpg --width 800", "pixhaven resize *.jpg --preset instagram-portrait -o insta/", "pixhaven resize photo.jpg --percent 50 --format webp"],
  crop: ["pixhaven crop photo.jpg --rect.x 10 --rect.y 20 --rect.width 400 --rect.height 300", "pixhaven crop photo.jpg --aspect 16:9 --position attention", "pixhaven crop photo.jpg --rotate 90 --flop"],
  strip: ["pixhaven strip IMG_1234.jpg -o clean/", "pixhaven strip *.jpg --json"],
  "pdf-to-images": ["pixhaven pdf-to-images report.pdf", "pixhaven pdf-to-images report.pdf --pages 1-3,5 --dpi 300 --format jpeg -o pages/"],
};

export function typeNames(accepts: readonly string[]): string {
  return accepts.map((mime) => TYPE_NAMES[mime.split(";")[0]!] ?? mime).join(", ");
}

export function whereItRuns(tool: ToolDescription): string {
  if (!runsOnServer(tool.name)) return "browser only";
  return tool.runsOn === "both" ? "cli, server, browser" : "cli, server";
}

/** `pixhaven tools`: one row per tool. */
export function toolsTable(): string {
  const rows = toolCatalogue().map((t) => [t.name, t.title, whereItRuns(t), typeNames(t.accepts)]);
  const header = ["TOOL", "WHAT IT DOES", "RUNS", "TAKES"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]!) : c)).join("  ");
  return [
    line(header),
    ...rows.map(line),
    "",
    "Run one with: pixhaven <tool> FILES... [--param value ...] [-o DIR] [--json]",
    "Its parameters: pixhaven tools <tool>, or pixhaven <tool> --help",
  ].join("\n");
}

/** `pixhaven <tool> --help`: what it does, its parameters with types, ranges and defaults, examples. */
export function toolHelp(tool: ToolDescription): string {
  const params = cliParams(tool.params);
  const required = params.filter((p) => p.required && !p.group).map((p) => ` --${p.flag} ${valueHint(p)}`).join("");
  const lines = [
    `pixhaven ${tool.name}: ${tool.title}`,
    "",
    ...wrap(tool.description, 78, ""),
    "",
    `Usage:  pixhaven ${tool.name} FILES...${required} [options]`,
    `Takes:  ${typeNames(tool.accepts)}`,
    `Runs:   ${whereItRuns(tool)}`,
    "",
  ];
  if (params.length > 0) {
    lines.push("Parameters:");
    let group: string | undefined;
    for (const p of params) {
      if (p.group && p.group !== group) {
        const fields = params.filter((f) => f.group === p.group).map((f) => `--${f.flag}`);
        lines.push(...wrap(`${fields.join(" ")} (all together): ${p.group}`, 78, "  "));
      }
      group = p.group;
      lines.push(`  --${p.flag} ${valueHint(p)}${facts(p)}`);
      if (p.description) lines.push(...wrap(p.description, 72, "      "));
    }
  } else {
    lines.push("Parameters: none.");
  }
  lines.push("", "Options:", CLI_OPTIONS_HELP, "", "Examples:", ...examples(tool, params).map((e) => `  ${e}`));
  return lines.join("\n");
}

function valueHint(p: CliParam): string {
  if (p.kind === "boolean") return `(or --no-${p.flag})`;
  if (p.kind === "list") return `${p.choices ? p.choices.join("|") : p.itemKind === "string" ? "TEXT" : "NUMBER"}[,...]`;
  if (p.choices) return p.choices.join("|");
  if (p.kind === "string") return "TEXT";
  const range = p.min !== undefined && p.max !== undefined && !p.minExclusive ? ` ${p.min}-${p.max}` : [p.min !== undefined ? ` ${p.minExclusive ? ">" : "≥"}${p.min}` : "", p.max !== undefined ? ` ≤${p.max}` : ""].join("");
  return `<${p.kind === "integer" ? "whole number" : "number"}${range}>`;
}

function facts(p: CliParam): string {
  const parts: string[] = [];
  if (p.required && !p.group) parts.push("required");
  if (p.default !== undefined) parts.push(`default ${String(p.default)}`);
  return parts.length ? `  (${parts.join(", ")})` : "";
}

function examples(tool: ToolDescription, params: CliParam[]): string[] {
  const given = EXAMPLES[tool.name];
  if (given) return given;
  const required = params.filter((p) => p.required && !p.group).map((p) => ` --${p.flag} ${p.choices?.[0] ?? p.min ?? "VALUE"}`);
  return [`pixhaven ${tool.name} FILE${required.join("")}`];
}

/** Breaks text at spaces so help reads well in an 80-column terminal. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines;
}
