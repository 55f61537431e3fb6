import type sharp from "sharp";
import { AppError } from "../common/errors.js";
import { DEFAULT_QUALITY, EFFORT_RANGE, type EncodingOptions, type OutputFormat, encodingProblem } from "../common/tools/encoding.js";
import type { ImageHeader } from "./decode.js";
import type { ImageInput } from "./server-tool.js";

/** A parameter that is valid on its own but not for this input: the same 400 as a schema failure. */
export function invalidParam(path: string, message: string): AppError {
  return new AppError("invalid_params", 400, `${path}: ${message}`);
}

/** The format a tool writes when asked to keep the input's: HEIC cannot be written, JPEG shows everywhere. */
export function targetFormat(requested: OutputFormat | "same", input: ImageInput): OutputFormat {
  if (requested !== "same") return requested;
  return input.format === "heic" ? "jpeg" : input.format;
}

export function canAnimate(format: OutputFormat): boolean {
  return format === "gif" || format === "webp";
}

/** Refuses settings the target format cannot honour, instead of silently ignoring them. */
export function checkEncoding(format: OutputFormat, options: EncodingOptions): void {
  const problem = encodingProblem(format, options);
  if (problem) throw invalidParam(...problem);
}

/**
 * The encoder for `format`. No call here keeps metadata (P7): sharp writes none unless asked, and
 * only the colour profile is asked for, by the caller's keepIccProfile.
 */
export function encode(image: sharp.Sharp, format: OutputFormat, options: EncodingOptions, header?: Pick<ImageHeader, "delay" | "loop" | "sixteenBit" | "greyscale">): sharp.Sharp {
  const quality = options.quality ?? DEFAULT_QUALITY[format];
  const effort = options.effort ?? EFFORT_RANGE[format]?.default;
  const timing = { ...(header?.delay ? { delay: header.delay } : {}), ...(header?.loop !== undefined ? { loop: header.loop } : {}) };
  switch (format) {
    case "jpeg":
      return image.flatten({ background: options.background }).jpeg({
        quality,
        chromaSubsampling: options.chromaSubsampling,
        mozjpeg: options.mozjpeg,
        // Optimised Huffman tables: a few percent smaller for little time at tool sizes.
        optimiseCoding: true,
      });
    case "png":
      // Lossless keeps 16 bits a sample when the input has them (sharp writes 8 unless told).
      return options.quality === undefined || options.lossless
        ? (header?.sixteenBit ? image.toColourspace(header.greyscale ? "grey16" : "rgb16") : image).png({ compressionLevel: effort, adaptiveFiltering: true })
        : image.png({ compressionLevel: effort, palette: true, quality: options.quality, effort: Math.max(1, Math.min(10, (effort ?? 6) + 1)) });
    case "webp":
      return image.webp({ ...(options.lossless ? { lossless: true } : { quality }), effort, ...timing });
    case "avif":
      return image.avif({ ...(options.lossless ? { lossless: true } : { quality }), effort, chromaSubsampling: options.chromaSubsampling });
    case "gif":
      return image.gif({ effort, ...(options.quality !== undefined && !options.lossless ? { colours: gifColours(options.quality) } : {}), ...timing });
  }
}

/** GIF has no quality: fewer palette colours is what makes it smaller. */
function gifColours(quality: number): number {
  return Math.max(2, Math.min(256, Math.round((quality / 100) * 256)));
}
