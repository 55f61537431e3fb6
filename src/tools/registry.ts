import { type ServerToolName, TOOL_SPECS, type ToolName, type ToolSpecOf } from "../common/tools/index.js";
import { colorizeTool } from "./colorize.js";
import { compressTool } from "./compress.js";
import { convertTool } from "./convert.js";
import { cropTool } from "./crop.js";
import { nsfwTool } from "./nsfw.js";
import { ocrTool } from "./ocr.js";
import { pdfToImagesTool } from "./pdf-to-images.js";
import { removeBackgroundTool } from "./remove-background.js";
import { resizeTool } from "./resize.js";
import { restoreTool } from "./restore.js";
import type { ServerTool } from "./server-tool.js";
import { stripTool } from "./strip.js";
import { upscaleTool } from "./upscale.js";

/**
 * The server implementation of every tool that runs on the server. Typed against the specs: a
 * spec with runsOn "server" or "both" and no entry here, or an entry for the wrong spec, does not
 * compile.
 */
const SERVER_TOOLS = {
  convert: convertTool,
  compress: compressTool,
  resize: resizeTool,
  crop: cropTool,
  strip: stripTool,
  "pdf-to-images": pdfToImagesTool,
  nsfw: nsfwTool,
  ocr: ocrTool,
  "remove-background": removeBackgroundTool,
  colorize: colorizeTool,
  upscale: upscaleTool,
  restore: restoreTool,
} satisfies { [N in ServerToolName]: ServerTool<ToolSpecOf<N>> };

export type AnyServerTool = (typeof SERVER_TOOLS)[keyof typeof SERVER_TOOLS];

/** The server side of a tool; undefined for a browser-only one. */
export function serverTool(name: ToolName): AnyServerTool | undefined {
  const tools: Partial<Record<ToolName, AnyServerTool>> = SERVER_TOOLS;
  return tools[name];
}

/** The models a server tool needs (none for most). */
export function toolModels(name: ToolName): readonly string[] {
  const tool: { models?: readonly string[] } | undefined = serverTool(name);
  return tool?.models ?? [];
}

/** Whether a tool can run here (the catalogue marks the others browser-only). */
export function runsOnServer(name: ToolName): boolean {
  return TOOL_SPECS[name].runsOn !== "browser" && serverTool(name) !== undefined;
}
