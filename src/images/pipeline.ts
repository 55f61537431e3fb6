import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import sharp from "sharp";
import { rgbaToThumbHash } from "thumbhash";
import { AppError } from "../common/errors.js";
import { MalformedImageError, stripMetadata } from "../common/metadata/index.js";
import { EXTENSION, type InputFormat, STORED_MIME, sniffImageType } from "./formats.js";
import type { HeicDecoder } from "./heic.js";

export const THUMB_MAX = 400;
const SNIFF_BYTES = 4100;

export interface PipelineLimits {
  maxPixels: number;
  maxAnimationPixels: number;
  decodeTimeoutMs: number;
}

export interface ProcessedImage {
  path: string; // the bytes to store: metadata removed, upright
  thumbPath: string;
  mime: string;
  ext: string;
  width: number;
  height: number;
  frames: number;
  bytes: number;
  etag: string;
  thumbhash: string;
  /** false when the original pixels were kept bit for bit and only metadata was cut out */
  reencoded: boolean;
}

type StoredFormat = Exclude<InputFormat, "heic">;

/**
 * Turns an uploaded file into what Pixhaven stores: type decided from the bytes, size checked from
 * the header before any decoding, every metadata block removed, the picture upright, and a WebP
 * thumbnail with a thumbhash placeholder. Pixels are re-encoded only when they must change
 * (orientation, HEIC); otherwise the metadata is cut out of the container losslessly.
 */
export async function processImage(input: string, workPrefix: string, limits: PipelineLimits, heic: HeicDecoder): Promise<ProcessedImage> {
  const head = await readHead(input);
  if (head.length === 0) throw new AppError("empty_file", 400, "The file is empty.");
  const type = await sniffImageType(head);
  if (!type) throw new AppError("unsupported_type", 415, "Only JPEG, PNG, WebP, AVIF, GIF and HEIC/HEIF images are accepted.");

  const meta = await sharp(input, { limitInputPixels: false, animated: true })
    .metadata()
    .catch(() => {
      throw new AppError("invalid_image", 422, "The image header could not be read; the file is corrupt or truncated.");
    });
  const frames = meta.pages ?? 1;
  const width = meta.width ?? 0;
  const frameHeight = meta.pageHeight ?? meta.height ?? 0;
  checkPixels(width, frameHeight, frames, limits);

  const out = `${workPrefix}.out`;
  let format: StoredFormat;
  let reencoded = true;
  if (type.format === "heic") {
    format = await convertHeic(input, out, heic, limits, meta.hasAlpha === true);
  } else {
    format = type.format;
    const orientation = meta.orientation ?? 1;
    reencoded = orientation > 1 || !(await stripLosslessly(input, out, format));
    if (reencoded) await reencode(input, out, format, limits);
  }

  const thumbPath = `${workPrefix}.thumb.webp`;
  const { thumbhash } = await makeThumbnail(out, thumbPath, limits);
  const stored = await sharp(out, { limitInputPixels: false, animated: true }).metadata();
  const [bytes, etag] = await Promise.all([fs.stat(out).then((s) => s.size), sha256File(out)]);
  return {
    path: out,
    thumbPath,
    mime: STORED_MIME[format],
    ext: EXTENSION[format],
    width: stored.width ?? width,
    height: stored.pageHeight ?? stored.height ?? frameHeight,
    frames: stored.pages ?? 1,
    bytes,
    etag,
    thumbhash,
    reencoded,
  };
}

function checkPixels(width: number, height: number, frames: number, limits: PipelineLimits): void {
  if (width <= 0 || height <= 0) throw new AppError("invalid_image", 422, "The image has no dimensions.");
  if (width * height > limits.maxPixels) {
    throw new AppError("too_many_pixels", 413, `The image is ${width}×${height} pixels; the limit is ${limits.maxPixels} pixels.`);
  }
  if (width * height * frames > limits.maxAnimationPixels) {
    throw new AppError("too_many_pixels", 413, `The animation has ${frames} frames of ${width}×${height}; the limit is ${limits.maxAnimationPixels} pixels in all.`);
  }
}

async function readHead(file: string): Promise<Uint8Array> {
  const handle = await fs.open(file, "r");
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Returns false when the container cannot be rewritten safely, so the caller re-encodes. */
async function stripLosslessly(input: string, out: string, format: StoredFormat): Promise<boolean> {
  const original = await fs.readFile(input);
  try {
    const { bytes } = stripMetadata(original, format);
    await fs.writeFile(out, bytes);
    return true;
  } catch (err) {
    if (!(err instanceof MalformedImageError)) throw err;
    if (format === "avif") return false; // AVIF boxes we cannot edit safely: re-encode instead
    throw new AppError("invalid_image", 422, "The image is corrupt or truncated.");
  }
}

/** Rotates the pixels upright and writes them without any metadata but the colour profile. */
async function reencode(input: string, out: string, format: StoredFormat, limits: PipelineLimits): Promise<void> {
  const image = sharp(input, { limitInputPixels: limits.maxAnimationPixels, animated: true })
    .rotate()
    .keepIccProfile()
    .timeout({ seconds: Math.ceil(limits.decodeTimeoutMs / 1000) });
  const encoded =
    format === "jpeg"
      ? image.jpeg({ quality: 92 })
      : format === "png"
        ? image.png({ compressionLevel: 6 })
        : format === "webp"
          ? image.webp({ quality: 92 })
          : format === "gif"
            ? image.gif()
            : image.avif({ quality: 70, effort: 3 });
  await encoded.toFile(out).catch(decodeFailure);
}

async function convertHeic(input: string, out: string, heic: HeicDecoder, limits: PipelineLimits, hasAlpha: boolean): Promise<StoredFormat> {
  const raw = await heic.decode(await fs.readFile(input));
  const image = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 4 }, limitInputPixels: limits.maxPixels });
  // JPEG is what every browser shows; keep transparency in lossless WebP when the photo has any.
  const format: StoredFormat = hasAlpha ? "webp" : "jpeg";
  const encoded = hasAlpha ? image.webp({ lossless: true }) : image.removeAlpha().jpeg({ quality: 90 });
  await encoded.toFile(out).catch(decodeFailure);
  return format;
}

async function makeThumbnail(stored: string, thumbPath: string, limits: PipelineLimits): Promise<{ thumbhash: string }> {
  // Decoding the whole stored image here is also the proof that it is not truncated or corrupt.
  const thumb = await sharp(stored, { limitInputPixels: limits.maxPixels, failOn: "warning" })
    .resize(THUMB_MAX, THUMB_MAX, { fit: "inside", withoutEnlargement: true })
    .timeout({ seconds: Math.ceil(limits.decodeTimeoutMs / 1000) })
    .webp({ quality: 75 })
    .toBuffer()
    .catch(decodeFailure);
  await fs.writeFile(thumbPath, thumb);
  const { data, info } = await sharp(thumb).resize(100, 100, { fit: "inside" }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { thumbhash: Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString("base64") };
}

function decodeFailure(err: Error): never {
  if (/timeout/i.test(err.message)) throw new AppError("decode_timeout", 422, "The image took too long to decode.");
  throw new AppError("invalid_image", 422, "The image is corrupt or truncated and could not be decoded.");
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("base64url").slice(0, 32);
}
