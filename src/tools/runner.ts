import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { AppError } from "../common/errors.js";
import { effectiveLimits, isToolName, type ToolLimits } from "../common/tools/index.js";
import { type DecodeLimits, describeBytes } from "./decode.js";
import { admitInput, identifyInput } from "./input.js";
import type { ModelThreads } from "../models/pool.js";
import type { MemoryBudget } from "./memory-budget.js";
import { type ToolOutput, deliverOutputs } from "./outputs.js";
import { PdfThreads } from "./pdf-threads.js";
import { serverTool } from "./registry.js";
import { isAnimation } from "./source.js";
import type { ImageThreads, PreparedRun, ServerToolContext, ToolInput } from "./server-tool.js";

export type { ToolOutput } from "./outputs.js";

export interface ToolRunnerDeps {
  /** the operator's decode limits (pixels, animation pixels, decode time) */
  limits: DecodeLimits;
  /** the process-wide decoder memory allowance, shared with hosting */
  budget: MemoryBudget;
  /** hosting's ImageWorkers fits */
  threads: ImageThreads;
  /** the operator's limits for particular tools, over the specs' own */
  toolLimits?: Partial<Record<string, ToolLimits>>;
  /** the model threads AI tools run on */
  models: ModelThreads;
  /** each run gets its own folder under this one */
  tempDir: string;
  /** threads rendering PDF pages at once (default 1: each holds a page's pixels) */
  pdfThreads?: number;
}

export interface ToolRunRequest {
  tool: string;
  input: { path: string; name: string };
  /** untrusted: parsed and defaulted by the tool's schema */
  params: unknown;
  /**
   * The input as identified before from the same bytes (`identifyInput`), when the caller has it: a
   * job's, from its submission. Only the checks that need no reading are made again.
   */
  identified?: ToolInput;
  /** where outputs are placed (created if missing); existing files are never replaced */
  outputDir: string;
  signal?: AbortSignal;
  /** fractions 0..1, increasing, ending with 1 on success */
  onProgress?: (fraction: number) => void;
}

export interface ToolRunResult {
  tool: string;
  /** what the input turned out to be, from its bytes (a cost estimate divides time by its pixels) */
  input: { mime: string; bytes: number; width?: number; height?: number; frames?: number };
  outputs: ToolOutput[];
  report?: Record<string, unknown>;
}

export const CANCELLED = "cancelled";

/** The error a cancelled run ends with (499: the client closed the request, as proxies say). */
export function cancelledError(): AppError {
  return new AppError(CANCELLED, 499, "The tool run was cancelled.");
}

/**
 * The one way to run a tool, for the job worker, the CLI and the tests: params parsed (400
 * invalid_params naming the parameter), the input judged by its bytes (415), its size checked from
 * the header (413), its decoder memory reserved from the budget, a work folder of its own that is
 * always removed, progress made monotonic, and the AbortSignal honoured between steps.
 */
export class ToolRunner {
  private readonly pdf: PdfThreads;

  constructor(private readonly deps: ToolRunnerDeps) {
    this.pdf = new PdfThreads(deps.pdfThreads ?? 1, deps.limits.decodeTimeoutMs);
  }

  async run(request: ToolRunRequest): Promise<ToolRunResult> {
    if (!isToolName(request.tool)) throw new AppError("unknown_tool", 404, `There is no tool named ${JSON.stringify(request.tool)}.`);
    const tool = serverTool(request.tool);
    if (!tool) throw new AppError("unknown_tool", 404, `The tool ${request.tool} runs only in the browser.`);
    const signal = request.signal ?? new AbortController().signal;
    const progress = monotonicProgress(request.onProgress);
    const checkpoint = (fraction: number) => {
      if (signal.aborted) throw cancelledError();
      progress.report(fraction);
    };
    checkpoint(0);
    const params = parseParams(tool.spec.params, request.params);
    // The operator's settings (RESTORE_MAX_PIXELS, UPSCALE_MAX_OUTPUT_PIXELS) replace the spec's own, as the catalogue shows them.
    const specLimits = effectiveLimits(tool.spec.limits, this.deps.toolLimits?.[request.tool], this.deps.limits.maxPixels);
    const limits = {
      ...this.deps.limits,
      maxPixels: specLimits.maxInputPixels,
      maxOutputPixels: specLimits.maxOutputPixels ?? this.deps.limits.maxPixels,
      maxPages: specLimits.maxPages ?? 1,
      maxModelPixels: specLimits.maxModelPixels ?? Infinity,
    };
    const input = request.identified
      ? admitInput({ ...request.identified, path: request.input.path, name: request.input.name }, tool.spec.accepts, limits)
      : await identifyInput(request.input, tool.spec.accepts, limits);
    if (input.kind !== tool.input) throw new AppError("unsupported_type", 415, `This tool does not take ${input.mime}.`);

    const workDir = path.join(this.deps.tempDir, `run-${randomBytes(8).toString("hex")}`);
    let made: Promise<unknown> | undefined;
    const scratch = async (name: string) => {
      await (made ??= fs.mkdir(workDir, { recursive: true }));
      return path.join(workDir, name);
    };
    try {
      const ctx: ServerToolContext = { scratch, limits, threads: this.deps.threads, pdf: this.pdf, models: this.deps.models, signal, checkpoint, progress: progress.report };
      // The union of tools narrows by `input`: each tool's prepare gets the kind it declared.
      const prepared: PreparedRun = await (tool.prepare as (input: unknown, params: unknown, ctx: ServerToolContext) => Promise<PreparedRun> | PreparedRun)(input, params, ctx);
      if (!this.deps.budget.fits(prepared.memory)) {
        throw new AppError(
          "too_many_pixels",
          413,
          `This run needs about ${describeBytes(prepared.memory)} of memory; the limit is ${describeBytes(this.deps.budget.capacity)} (DECODE_MEMORY).`,
        );
      }
      const outcome = await this.deps.budget.run(prepared.memory, () => {
        checkpoint(0.05); // it may have waited for memory: a run cancelled meanwhile stops here
        return prepared.run();
      });
      checkpoint(0.99);
      const outputs = await deliverOutputs(outcome.files, input.name, request.outputDir);
      progress.done();
      const about = input.kind === "image" ? { width: input.header.width, height: input.header.height, frames: input.header.frames } : {};
      // Said of every tool alike: an animation whose pictures came out as single frames.
      const images = outputs.filter((o) => o.mime.startsWith("image/"));
      const firstFrameOnly = input.kind === "image" && isAnimation(input) && images.length > 0 && images.every((o) => (o.frames ?? 1) === 1);
      const report = firstFrameOnly ? { ...outcome.report, firstFrameOnly: true, framesIn: input.header.frames } : outcome.report;
      return { tool: request.tool, input: { mime: input.mime, bytes: input.bytes, ...about }, outputs, ...(report ? { report } : {}) };
    } catch (err) {
      // Whatever a step threw after the caller gave up, the caller asked for a cancellation.
      if (signal.aborted) throw cancelledError();
      throw err;
    } finally {
      if (made) await fs.rm(workDir, { recursive: true, force: true });
    }
  }

  close(): Promise<void> {
    return this.pdf.close();
  }
}

/** Parses untrusted params; the first problem is named by its path (`rect.width: ...`). */
export function parseParams<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.map(String).join(".") : issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "params";
  const what = issue.code === "unrecognized_keys" ? "is not a parameter of this tool" : issue.message;
  throw new AppError("invalid_params", 400, `${where}: ${what}`);
}

function monotonicProgress(sink?: (fraction: number) => void) {
  let last = -1;
  const emit = (fraction: number) => {
    last = fraction;
    sink?.(fraction);
  };
  return {
    // 1 is kept for `done`: a run is not finished until its outputs are in place.
    report(fraction: number) {
      if (!Number.isFinite(fraction)) return;
      const clamped = Math.min(0.99, Math.max(0, fraction));
      if (clamped > last) emit(clamped);
    },
    done() {
      if (last < 1) emit(1);
    },
  };
}
