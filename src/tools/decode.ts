import sharp from "sharp";
import { AppError } from "../common/errors.js";

/**
 * The one place that opens untrusted images for sharp: every decode of a file a client sent goes
 * through `openUntrusted`, with the same pixel limit, time limit and strictness, and its memory is
 * estimated from the header (`decodeCost`) before any pixel is decoded.
 */

export interface DecodeLimits {
  maxPixels: number;
  maxAnimationPixels: number;
  decodeTimeoutMs: number;
}

export type DecodableFormat = "jpeg" | "png" | "webp" | "gif" | "avif" | "heic";

// libvips caches recent operations for repeated work on the same file; uploads never repeat, and
// the cache would hold memory the decode budget cannot see.
sharp.cache(false);

const MiB = 1024 * 1024;

/** What the header says, before decoding: enough to refuse, and to price, a decode. */
export interface ImageHeader {
  format: DecodableFormat;
  /** the size a browser shows (a GIF's logical screen when larger than its frames) */
  width: number;
  height: number;
  frames: number;
  orientation: number;
  /** progressive JPEG or interlaced PNG: decoded whole rather than streamed */
  progressive: boolean;
  hasAlpha: boolean;
  icc?: Buffer;
  chromaSubsampling?: string;
  delay?: number[];
  loop?: number;
  /** 16 bits a sample (PNG, AVIF): kept in lossless PNG outputs */
  sixteenBit?: true;
  /** one channel of grey, with or without alpha */
  greyscale?: true;
}

export async function readHeader(input: string, format: DecodableFormat, head: Uint8Array): Promise<ImageHeader> {
  const meta = await headerMetadata(input, format, head).catch(() => {
    throw new AppError("invalid_image", 422, "The image header could not be read; the file is corrupt or truncated.");
  });
  let width = meta.width ?? 0;
  let height = meta.pageHeight ?? meta.height ?? 0;
  if (format === "gif" && head.length >= 10) {
    // Browsers draw a GIF on its logical screen, whatever the size of its frames.
    width = Math.max(width, head[6]! | (head[7]! << 8));
    height = Math.max(height, head[8]! | (head[9]! << 8));
  }
  return {
    format,
    width,
    height,
    frames: meta.pages ?? 1,
    orientation: meta.orientation ?? 1,
    progressive: meta.isProgressive ?? false,
    hasAlpha: meta.hasAlpha ?? false,
    ...(meta.icc ? { icc: meta.icc } : {}),
    ...(meta.chromaSubsampling ? { chromaSubsampling: meta.chromaSubsampling } : {}),
    ...(meta.delay ? { delay: meta.delay } : {}),
    ...(meta.loop !== undefined ? { loop: meta.loop } : {}),
    ...(meta.depth === "ushort" ? { sixteenBit: true as const } : {}),
    ...(meta.channels !== undefined && meta.channels <= 2 ? { greyscale: true as const } : {}),
  };
}

/**
 * A JPEG's header (every marker before its first scan: size, orientation, colour profile) lies in
 * its first bytes, so it is read from the head already in memory: given a file, libvips opens it once
 * for every loader it tries before its own. A head that ends before the first scan fails to parse
 * (libjpeg finds no image), and the file is read instead. Other formats may keep what the header
 * needs further on (a PNG's profile after 64 KiB of text, a GIF's or WebP's frame count): always the file.
 */
async function headerMetadata(input: string, format: DecodableFormat, head: Uint8Array): Promise<sharp.Metadata> {
  if (format === "jpeg" && head.length > 0) {
    const fromHead = await sharp(head, { limitInputPixels: false })
      .metadata()
      .catch(() => undefined);
    if (fromHead) return fromHead;
  }
  return sharp(input, { limitInputPixels: false, animated: true }).metadata();
}

/** Refuses, from the header alone, an image larger than the configured limits. */
export function checkPixels(header: ImageHeader, limits: DecodeLimits): void {
  const { width, height, frames } = header;
  if (width <= 0 || height <= 0) throw new AppError("invalid_image", 422, "The image has no dimensions.");
  if (width * height > limits.maxPixels) {
    throw new AppError("too_many_pixels", 413, `The image is ${width}×${height} pixels; the limit is ${limits.maxPixels} pixels.`);
  }
  if (width * height * frames > limits.maxAnimationPixels) {
    throw new AppError("too_many_pixels", 413, `The animation has ${frames} frames of ${width}×${height}; the limit is ${limits.maxAnimationPixels} pixels in all.`);
  }
}

/**
 * Bytes a decoder holds per pixel, measured with sharp 0.34 / libvips 8.17 and libheif (WebAssembly)
 * on large inputs: libvips decodes JPEG to 3 bands and PNG/WebP to at most 4; its GIF decoder keeps
 * a canvas and a frame; AVIF goes through YUV planes, and HEIC through a WebAssembly heap, both far
 * heavier than their pixels.
 */
const DECODE_BYTES_PER_PIXEL: Record<DecodableFormat, number> = { jpeg: 3, png: 4, webp: 4, gif: 5, avif: 18, heic: 24 };
/** Thread buffers, codec state and the encoded output of a decode that streams. */
const DECODER_OVERHEAD = 16 * MiB;
/** A turned or re-encoded picture needs the decoded pixels and a turned RGBA copy at once. */
const TURNED_COPY_BYTES_PER_PIXEL = 4;

export type DecodeKind =
  /** a small preview of the first frame: JPEG and WebP decode at a fraction of their size */
  | { kind: "preview"; box: number }
  /** every frame, whole, and a turned or converted copy of them */
  | { kind: "reencode" }
  /** every frame, whole, handed on to an encoder that streams (HEIC decoded for JPEG) */
  | { kind: "decode" };

/** The memory a decode of this image will hold at its peak, decided from the header. */
export function decodeCost(header: ImageHeader, decode: DecodeKind): number {
  const pixels = header.width * header.height;
  const perPixel = DECODE_BYTES_PER_PIXEL[header.format];
  if (decode.kind === "reencode") return pixels * header.frames * (perPixel + TURNED_COPY_BYTES_PER_PIXEL) + DECODER_OVERHEAD;
  if (decode.kind === "decode") return pixels * header.frames * perPixel + DECODER_OVERHEAD;
  switch (header.format) {
    case "jpeg":
    case "webp": {
      // Shrink-on-load: the decoder scales by 2, 4 or 8 while decoding.
      const shrink = header.progressive && header.format === "jpeg" ? 1 : shrinkOnLoad(header, decode.box);
      return (pixels * perPixel) / (shrink * shrink) + DECODER_OVERHEAD;
    }
    case "png":
      // Non-interlaced PNG streams through the resize a few rows at a time.
      return header.progressive ? pixels * perPixel + DECODER_OVERHEAD : header.width * 4 * 64 + DECODER_OVERHEAD;
    default:
      return pixels * perPixel + DECODER_OVERHEAD;
  }
}

function shrinkOnLoad(header: ImageHeader, box: number): number {
  let shrink = 1;
  while (shrink < 8 && header.width / (shrink * 2) >= box && header.height / (shrink * 2) >= box) shrink *= 2;
  return shrink;
}

/**
 * A sharp pipeline over an untrusted file: the pixel limit, the time limit and strict decoding
 * (a truncated or corrupt file fails rather than decoding to grey) are set here and nowhere else.
 */
export function openUntrusted(input: string | Buffer, limits: DecodeLimits, options: { animated?: boolean; strict?: boolean } = {}): sharp.Sharp {
  const pixelLimit = options.animated ? limits.maxAnimationPixels : limits.maxPixels;
  return sharp(input, { limitInputPixels: pixelLimit, animated: options.animated ?? false, failOn: options.strict === false ? "error" : "warning" }).timeout({
    seconds: Math.max(1, Math.ceil(limits.decodeTimeoutMs / 1000)),
  });
}

/** Pixels already decoded (by a WebAssembly decoder, or turned frame by frame), ready to encode. */
export function openPixels(data: Uint8Array, shape: { width: number; height: number; channels: 3 | 4; pageHeight?: number }): sharp.Sharp {
  return sharp(data, { raw: shape });
}

/** A sharp failure on untrusted input, in Pixhaven's words. */
export function decodeFailure(err: Error): never {
  if (err instanceof AppError) throw err;
  if (/timeout/i.test(err.message)) throw new AppError("decode_timeout", 422, "The image took too long to decode.");
  // The output, not the input, is at fault: each format has a largest side (WebP 16383 pixels).
  const format = /too large for the (\w+) format/i.exec(err.message)?.[1];
  if (format) {
    const name = { WEBP: "WebP (at most 16383 pixels a side)", HEIF: "AVIF" }[format.toUpperCase()] ?? format.toUpperCase();
    throw new AppError("too_large_for_format", 422, `The result is too large for ${name}; choose PNG or a smaller size.`);
  }
  throw new AppError("invalid_image", 422, "The image is corrupt or truncated and could not be decoded.");
}

export function describeBytes(bytes: number): string {
  return `${Math.ceil(bytes / MiB)} MiB`;
}
