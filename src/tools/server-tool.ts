import type { OutputFormat } from "../common/tools/encoding.js";
import type { ToolContext, ToolParams, ToolSpec } from "../common/tools/tool.js";
import type { InputFormat } from "../common/formats.js";
import type { DecodeLimits, ImageHeader } from "./decode.js";
import type { ModelThreads } from "../models/pool.js";
import type { PdfThreads } from "./pdf-threads.js";

/**
 * The threads that run pure-CPU image work. Declared here by shape, so that tools depend on what
 * they call and not on the hosting domain that builds the pool (hosting's ImageWorkers fits it).
 */
export interface ImageThreads {
  strip(input: string, output: string, format: "jpeg" | "png" | "webp" | "gif" | "avif"): Promise<{ removed: string[]; bytes: number } | null>;
  rotateJpeg(input: string, output: string, orientation: number, maxPixels: number): Promise<{ bytes: number } | null>;
  decodeHeic(input: string): Promise<{ width: number; height: number; data: Uint8Array }>;
}

interface InputBase {
  /** where the bytes lie; never written to */
  path: string;
  /** the client's file name, untrusted: only ever used through `outputName` */
  name: string;
  bytes: number;
  /** judged from the bytes */
  mime: string;
}

export interface ImageInput extends InputBase {
  kind: "image";
  format: InputFormat;
  header: ImageHeader;
  /** the first bytes of the file, for container checks that need no decoding */
  head: Uint8Array;
}

export interface PdfInput extends InputBase {
  kind: "pdf";
}

export type ToolInput = ImageInput | PdfInput;

/** What a server run may use. */
export interface ServerToolContext extends ToolContext {
  /**
   * A path for a file named `name` in a folder of this run's own. The folder is made on the first
   * call (a run that writes no file makes none) and removed by the runner whatever happens.
   */
  scratch(name: string): Promise<string>;
  /** the effective limits: the operator's, narrowed by the tool's own */
  limits: DecodeLimits & { maxOutputPixels: number; maxPages: number; maxModelPixels: number };
  threads: ImageThreads;
  pdf: PdfThreads;
  /** the model threads (one per core, models kept warm): AI tools run their inference there */
  models: ModelThreads;
  /** reports progress, then throws the cancellation error if the run was aborted */
  checkpoint(fraction: number): void;
}

/** A file a tool wrote into its work folder; the runner checks, measures, names and places it. */
export interface ProducedFile {
  path: string;
  /** an image format, or "text": UTF-8 plain text (what OCR reads), delivered as .txt */
  format: OutputFormat | "text";
  /** added to the input's name, e.g. "1080x1350" or "p3" */
  suffix?: string;
}

export interface RunOutcome {
  files: ProducedFile[];
  /** facts about the run for the user (never personal data) */
  report?: Record<string, unknown>;
}

/** A run decided and priced, not yet started: `memory` is reserved from the decode budget around `run`. */
export interface PreparedRun {
  memory: number;
  run(): Promise<RunOutcome>;
}

/**
 * The server side of one tool. `prepare` checks the params against the input (a crop outside the
 * picture, an output over the limit) and prices the run before any pixel is decoded.
 */
export type ServerTool<S extends ToolSpec> = ServerToolBase<S> &
  (
    | { input: "image"; prepare(input: ImageInput, params: ToolParams<S>, ctx: ServerToolContext): Promise<PreparedRun> | PreparedRun }
    | { input: "pdf"; prepare(input: PdfInput, params: ToolParams<S>, ctx: ServerToolContext): Promise<PreparedRun> | PreparedRun }
  );

interface ServerToolBase<S extends ToolSpec> {
  spec: S;
  /**
   * The models (names in src/models/registry.ts) the tool runs; GET /api/v1/tools marks the tool
   * unavailable, with the reason, when one of them is not installed on this server.
   */
  models?: readonly string[];
}
