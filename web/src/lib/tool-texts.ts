import type { ToolName } from "$common/tools/index.js";
import type { ToolLimits } from "$common/tools/tool.js";
import { messages } from "./i18n/index.svelte.js";
import type { LimitedText } from "./i18n/types.js";

/** Where a form's fields come from: the tool (for its params' hints) and its limits on this server. */
export interface ToolContext {
  tool: string;
  limits: ToolLimits;
}

const filled = (text: LimitedText, limits: ToolLimits) => (typeof text === "function" ? text(limits) : text);

const translated = (name: string) => messages().toolTexts[name as ToolName];

/** A tool's title in the page's language: the catalogue's, else the spec's own (English). */
export function toolTitle(tool: { name: string; title: string }): string {
  return translated(tool.name)?.title ?? tool.title;
}

/** A tool's description in the page's language, naming the limits in force on this server. */
export function toolDescription(tool: { name: string; description: string; limits?: ToolLimits }): string {
  const text = translated(tool.name)?.description;
  return text === undefined ? tool.description : filled(text, tool.limits ?? {});
}

/** A param's hint in the page's language (the tool's own, else the param's), where the spec gives one. */
export function paramHint(context: ToolContext | undefined, param: string, own: string | undefined): string | undefined {
  if (own === undefined) return undefined;
  const hints = messages().paramHints;
  const text = (context ? hints[`${context.tool}.${param}`] : undefined) ?? hints[param];
  return text === undefined ? own : filled(text, context?.limits ?? {});
}
