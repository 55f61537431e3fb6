import fs from "node:fs/promises";
import sharp from "sharp";
import { rgbaToThumbHash } from "thumbhash";
import { AppError } from "../common/errors.js";
import { EXTENSION, type InputFormat, STORED_MIME, sniffImageType } from "./formats.js";
import { contentTagOfFile } from "./etag.js";
import { addIccToJpeg, addIccToPng } from "./icc.js";
import type { ImageWorkers } from "./workers.js";

const THUMB_MAX = 400;
// file-type needs 4100 bytes; more lets the WebP check see past a large colour profile.
const HEAD_BYTES = 64 * 1024;

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
}

type StoredFormat = Exclude<InputFormat, "heic">;

/**
 * Turns an uploaded file into what Pixhaven stores: type decided from the bytes, size checked from
 * the header before any decoding, every metadata block removed, the picture upright, and a WebP
 * thumbnail with a thumbhash placeholder. Pixels are re-encoded only when they must change
 * (orientation, HEIC); otherwise the metadata is cut out of the container losslessly.
 */
export async function processImage(input: string, workPrefix: string, limits: PipelineLimits, workers: ImageWorkers): Promise<ProcessedImage> {
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
  let stripped: { bytes: number; etag: string } | null = null;
  if (type.format === "heic") {
    format = await convertHeic(input, out, workers, limits, meta);
  } else {
    format = type.format;
    const upright = (meta.orientation ?? 1) === 1;
    if (upright) stripped = await workers.strip(input, out, format);
    // AVIF boxes that cannot be edited safely are re-encoded; other containers that cannot be walked are broken.
    if (upright && !stripped && format !== "avif") throw new AppError("invalid_image", 422, "The image is corrupt or truncated.");
    if (!stripped) await reencode(input, out, format, limits, meta, head);
  }

  const thumbPath = `${workPrefix}.thumb.webp`;
  const { thumbhash } = await makeThumbnail(out, thumbPath, limits);
  const stored = await sharp(out, { limitInputPixels: false, animated: true }).metadata();
  // Defence in depth for P7: whatever path produced the file, a reader must find nothing in it.
  if (stored.exif || stored.xmp || stored.iptc || stored.comments?.length) throw new Error("metadata survived processing; refusing to store");
  const { bytes, etag } = stripped ?? { bytes: (await fs.stat(out)).size, etag: await contentTagOfFile(out) };
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
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Rotates the pixels upright and writes them without any metadata but the colour profile, keeping
 * as much of the source's quality as the format allows: JPEG keeps its chroma subsampling, lossless
 * WebP stays lossless, PNG and GIF are lossless anyway.
 */
async function reencode(input: string, out: string, format: StoredFormat, limits: PipelineLimits, source: sharp.Metadata, head: Uint8Array): Promise<void> {
  const image = sharp(input, { limitInputPixels: limits.maxAnimationPixels, animated: true })
    .rotate()
    .keepIccProfile()
    .timeout({ seconds: Math.ceil(limits.decodeTimeoutMs / 1000) });
  const encoded =
    format === "jpeg"
      ? image.jpeg({ quality: 92, chromaSubsampling: source.chromaSubsampling === "4:4:4" ? "4:4:4" : "4:2:0" })
      : format === "png"
        ? image.png({ compressionLevel: 6 })
        : format === "webp"
          ? image.webp(isLosslessWebp(head) ? { lossless: true } : { quality: 92 })
          : format === "gif"
            ? image.gif()
            : image.avif({ quality: 70, effort: 3 });
  await encoded.toFile(out).catch(decodeFailure);
}

/** A lossless WebP carries its picture in a VP8L chunk (lossy ones in VP8), within the first bytes. */
function isLosslessWebp(head: Uint8Array): boolean {
  return Buffer.from(head.buffer, head.byteOffset, head.byteLength).includes("VP8L", 12, "latin1");
}

async function convertHeic(input: string, out: string, workers: ImageWorkers, limits: PipelineLimits, source: sharp.Metadata): Promise<StoredFormat> {
  const raw = await workers.decodeHeic(input);
  const image = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 4 }, limitInputPixels: limits.maxPixels });
  // The decoded pixels are in the photo's own colour space (Display P3 on phones): the stored file
  // must carry that profile, or browsers would show them as sRGB, washed out.
  if (!source.hasAlpha) {
    // JPEG is what every browser shows; the profile is spliced in afterwards, costing no extra copy of the pixels.
    const jpeg = await image.removeAlpha().jpeg({ quality: 90 }).toBuffer().catch(decodeFailure);
    await fs.writeFile(out, source.icc ? addIccToJpeg(jpeg, source.icc) : jpeg);
    return "jpeg";
  }
  // Transparency is kept in lossless WebP; sharp attaches the profile when its input carries one.
  const tagged = source.icc ? sharp(addIccToPng(await image.png({ compressionLevel: 0 }).toBuffer(), source.icc)).keepIccProfile() : image;
  await tagged.webp({ lossless: true }).toFile(out).catch(decodeFailure);
  return "webp";
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
