import type { z } from "zod";

/**
 * The one definition of a tool, shared by every runtime that runs it (the job worker, the CLI, the
 * browser's web workers and the tests). Nothing here touches Node: the browser imports this file.
 *
 * A spec is typed by its params *schema* rather than by the parsed params (DESIGN sketches
 * `ToolSpec<P>` with `params: ZodType<P>`): with defaults, a schema's input and output types differ,
 * and keeping the schema type lets `ToolParams<typeof spec>` name the parsed shape while the
 * catalogue still sees the schema that documents the input.
 */
export type RunsOn = "browser" | "server" | "both";

/** What a tool refuses before decoding anything; the operator's own limits may be lower still. */
export interface ToolLimits {
  /** pixels in one input frame */
  maxInputPixels?: number;
  /** pixels in one output frame */
  maxOutputPixels?: number;
  /** pages rendered from one document */
  maxPages?: number;
  /** pixels a slow model mode takes at once (restore's ai mode) */
  maxModelPixels?: number;
}

/**
 * Limits written into a spec's texts (its description, its params' descriptions) as placeholders,
 * so every text shows the limit in force on the server that publishes it (`toolCatalogue`), not the
 * spec's default: `{maxModelPixels}` reads "250000 pixels (e.g. 500×500)", `{maxOutputPixels}`
 * "16 megapixels".
 */
export function withLimits(text: string, limits: ToolLimits): string {
  return text.replace(/\{(maxModelPixels|maxOutputPixels|maxInputPixels)\}/g, (token, name: keyof ToolLimits) => {
    const value = limits[name];
    if (value === undefined) return token;
    if (name !== "maxModelPixels") return `${megapixels(value)} megapixels`;
    const side = Math.floor(Math.sqrt(value));
    return `${value} pixels (e.g. ${side}×${side})`;
  });
}

/**
 * A tool's limits on a server: the operator's settings for it (RESTORE_MAX_PIXELS...) over the
 * spec's own, and the server's MAX_PIXELS where it is the lower. What a run applies and what the
 * catalogue shows are this one computation.
 */
export function effectiveLimits(own: ToolLimits, operator: ToolLimits | undefined, maxPixels: number): ToolLimits & { maxInputPixels: number } {
  const merged = { ...own, ...operator };
  return { ...merged, maxInputPixels: Math.min(merged.maxInputPixels ?? Infinity, maxPixels) };
}

/** 16 000 000 → "16", 50 000 → "0.05", 1 500 000 → "1.5": never rounded to nothing. */
export function megapixels(pixels: number): string {
  return String(Number((pixels / 1e6).toPrecision(pixels >= 1e6 ? 3 : 2)));
}

export interface ToolSpec<S extends z.ZodType = z.ZodType> {
  /** stable identifier: URL segment, CLI command, job name */
  name: string;
  title: string;
  description: string;
  runsOn: RunsOn;
  params: S;
  /** MIME types the tool takes, judged from the bytes, never from the name or Content-Type */
  accepts: readonly string[];
  limits: ToolLimits;
}

/** The params a tool's run receives: parsed, defaults filled in. */
export type ToolParams<T extends ToolSpec> = z.output<T["params"]>;

/** What a run may use besides its input and params, in every runtime. */
export interface ToolContext {
  /** fraction done, 0..1; the runner makes it monotonic and ends it at 1 */
  progress(fraction: number): void;
  /** aborted when the caller cancels: stop at the next step and throw */
  signal: AbortSignal;
}

/** One file a run produced, as the caller sees it (the server adds where it lies). */
export interface ToolOutputInfo {
  /** safe file name derived from the input's, e.g. `photo-1080x1350.jpg` */
  name: string;
  mime: string;
  bytes: number;
  width: number;
  height: number;
  /** present for animations: frames out equal frames in */
  frames?: number;
}

/** Declares a spec with its schema type kept, so `ToolParams<typeof spec>` is exact. */
export function defineToolSpec<S extends z.ZodType>(spec: ToolSpec<S>): ToolSpec<S> {
  return spec;
}
