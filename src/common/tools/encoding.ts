import { z } from "zod";

/** Formats the image tools write. HEIC is read, never written (no HEVC encoder ships with sharp). */
export const OUTPUT_FORMATS = ["jpeg", "png", "webp", "avif", "gif"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Every type the hosting upload accepts, so a hosted image can go through any tool. */
export const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif", "image/heic", "image/heif"] as const;

export const OUTPUT_MIME: Record<OutputFormat, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  gif: "image/gif",
};

export const OUTPUT_EXTENSION: Record<OutputFormat, string> = { jpeg: "jpg", png: "png", webp: "webp", avif: "avif", gif: "gif" };

/**
 * Defaults chosen by measurement on a 12 MP picture: quality where each codec stops showing
 * artefacts at normal viewing size, effort where more stops paying off. JPEG uses libjpeg-turbo
 * with optimised Huffman tables (0.18 s); mozjpeg saves a quarter of the bytes for six times the
 * time (1.04 s), so it is an option, not the default.
 */
export const DEFAULT_QUALITY: Record<OutputFormat, number | undefined> = { jpeg: 82, webp: 80, avif: 55, png: undefined, gif: undefined };
export const EFFORT_RANGE: Record<OutputFormat, { min: number; max: number; default: number } | undefined> = {
  jpeg: undefined,
  png: { min: 0, max: 9, default: 6 },
  webp: { min: 0, max: 6, default: 4 },
  // Effort 4 took 19.6 s on a 12 MP photo, effort 2 took 2.1 s for a file no larger.
  avif: { min: 0, max: 9, default: 2 },
  gif: { min: 1, max: 10, default: 7 },
};

/** Encoder settings shared by every tool that writes an image; each is optional with a per-format default. */
export const encodingFields = {
  quality: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .describe(
      "Quality 1-100; defaults: JPEG 82, WebP 80, AVIF 55. For PNG it turns on palette quantisation (lossy, much smaller); for GIF it scales the number of colours. Ignored when lossless is true.",
    ),
  lossless: z.boolean().default(false).describe("Lossless WebP or AVIF. PNG and GIF are always lossless unless quality is given; JPEG cannot be lossless."),
  effort: z
    .number()
    .int()
    .min(0)
    .max(10)
    .optional()
    .describe("Encoder effort, slower for smaller files: PNG 0-9 (default 6), WebP 0-6 (default 4), AVIF 0-9 (default 2), GIF 1-10 (default 7). JPEG has none."),
  chromaSubsampling: z
    .enum(["4:2:0", "4:4:4"])
    .default("4:2:0")
    .describe("JPEG and AVIF colour resolution: 4:2:0 halves it (smaller, fine for photos), 4:4:4 keeps it (sharp red text, graphics)."),
  mozjpeg: z.boolean().default(false).describe("JPEG only: mozjpeg's trellis quantisation, about 10% smaller files for about five times the time."),
  background: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/)
    .default("#ffffff")
    .describe("Colour (#rrggbb) behind transparent areas when the output format has no transparency (JPEG)."),
};

/** The encoding option `format` cannot honour, as [param, message]; null when it honours them all. */
export function encodingProblem(format: OutputFormat, options: { effort?: number | undefined; lossless?: boolean | undefined }): [string, string] | null {
  const range = EFFORT_RANGE[format];
  if (options.effort !== undefined) {
    if (!range) return ["effort", `${format} has no effort setting.`];
    if (options.effort < range.min || options.effort > range.max) return ["effort", `${format} effort is ${range.min} to ${range.max}.`];
  }
  if (options.lossless && format === "jpeg") return ["lossless", "JPEG cannot be lossless."];
  return null;
}

/**
 * A tool's params refinement: settings its chosen format cannot honour are refused with the params
 * themselves (a 400 before any file is sent, and in the browser's form). A kept format ("same") is
 * checked once the input is known.
 */
export function refuseUnfitEncoding(params: { format?: string; effort?: number | undefined; lossless?: boolean | undefined }, ctx: z.RefinementCtx): void {
  if (!params.format || !(OUTPUT_FORMATS as readonly string[]).includes(params.format)) return;
  const problem = encodingProblem(params.format as OutputFormat, params);
  if (problem) ctx.addIssue({ code: "custom", path: [problem[0]], message: problem[1] });
}

/** `same` keeps the input's format (HEIC becomes JPEG, which every browser shows). */
export const keepOrConvertFormat = z
  .enum(["same", ...OUTPUT_FORMATS])
  .default("same")
  .describe("Output format: same keeps the input's (HEIC is written as JPEG), or jpeg, png, webp, avif, gif.");

export type EncodingOptions = {
  quality?: number | undefined;
  lossless: boolean;
  effort?: number | undefined;
  chromaSubsampling: "4:2:0" | "4:4:4";
  mozjpeg: boolean;
  background: string;
};
