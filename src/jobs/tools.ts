import { AppError } from "../common/errors.js";
import { isToolName, type ToolName } from "../common/tools/index.js";
import type { DecodeLimits } from "../tools/decode.js";
import type { ToolInput } from "../tools/server-tool.js";
import { identifyInput } from "../tools/input.js";
import { serverTool } from "../tools/registry.js";
import { parseParams, type ToolRunner } from "../tools/runner.js";
import type { ToolGate } from "./service.js";
import type { RunTool } from "./worker.js";

function serverSide(tool: string) {
  const found = isToolName(tool) ? serverTool(tool as ToolName) : undefined;
  if (!found) throw new AppError("unknown_tool", 404, `There is no server tool named ${JSON.stringify(tool.slice(0, 64))}; GET /api/v1/tools lists them.`);
  return found;
}

/**
 * Inputs identified when their job was submitted, by blob key, so that a run in the same process
 * does not read and parse the header a second time (a blob is written once and never changed). A
 * run elsewhere, or after a restart, identifies its input itself. Bounded: the oldest are forgotten
 * (each holds up to 64 KiB of the file's head).
 */
export class IdentifiedInputs {
  private readonly byKey = new Map<string, ToolInput>();

  constructor(private readonly max = 64) {}

  remember(key: string, input: ToolInput): void {
    this.byKey.set(key, input);
    if (this.byKey.size > this.max) this.byKey.delete(this.byKey.keys().next().value!);
  }

  /** The identification of `key`, once: a later run (a retry) reads the file again. */
  take(key: string): ToolInput | undefined {
    const input = this.byKey.get(key);
    this.byKey.delete(key);
    return input;
  }
}

/** The checks a job passes before it is queued, by the same code the run itself uses. */
export function toolGate(limits: DecodeLimits, identified?: IdentifiedInputs): ToolGate {
  return {
    parseParams: (tool, params) => parseParams(serverSide(tool).spec.params, params),
    async checkInput(tool, file, key) {
      const found = serverSide(tool);
      const input = await identifyInput({ ...file, name: "" }, found.spec.accepts, limits);
      if (input.kind !== found.input) throw new AppError("unsupported_type", 415, `The tool ${tool} does not take ${input.mime}.`);
      if (key) identified?.remember(key, input);
    },
  };
}

/** Jobs run their tool through the one tool runner, like the CLI and the tests. */
export function runToolWith(runner: ToolRunner, identified?: IdentifiedInputs): RunTool {
  return async (tool, input, params, ctx) => {
    const known = input.key ? identified?.take(input.key) : undefined;
    const result = await runner.run({
      tool,
      input,
      params,
      outputDir: ctx.workDir,
      signal: ctx.signal,
      onProgress: ctx.progress,
      ...(known ? { identified: known } : {}),
    });
    const { width, height, frames = 1 } = result.input;
    return {
      outputs: result.outputs.map((o) => ({ path: o.path, name: o.name, mime: o.mime, bytes: o.bytes, width: o.width, height: o.height })),
      ...(result.report ? { report: result.report } : {}),
      // The decoded size of an image input: the tool's cost estimate divides its time by it.
      inputPixels: width && height ? width * height * frames : null,
    };
  };
}
