import fs from "node:fs/promises";
import type sharp from "sharp";
import { rgbaToThumbHash } from "thumbhash";
import { AppError } from "../common/errors.js";
import { type DecodeLimits, type ImageHeader, checkPixels, decodeCost, decodeFailure, describeBytes, openPixels, openUntrusted, readHeader } from "../tools/decode.js";
import type { MemoryBudget } from "../tools/memory-budget.js";
import { decodeUprightFrames, framesInput } from "../tools/orient.js";
import { EXTENSION, type InputFormat, STORED_MIME, sniffImageType } from "../common/formats.js";
import { contentTagOfFile } from "./etag.js";
import { addIccToJpeg, addIccToWebp } from "../tools/icc.js";
import type { ImageWorkers } from "./workers.js";
import type { Preview } from "../common/jpeg/index.js";

const THUMB_MAX = 400;
/**
 * From this longer side up, sharp makes a 400 px thumbnail of a JPEG by decoding it at 1/8 scale
 * (shrink-on-load; below it, at 1/4), so the 1/8-scale picture a lossless turn computes on the way
 * gives the same thumbnail (measured: sharp 0.34 switches between 8.8 and 9 times the box).
 */
const PREVIEW_MIN_SIDE = 9 * THUMB_MAX;
// file-type needs 4100 bytes; more lets the WebP check see past a large colour profile.
const HEAD_BYTES = 64 * 1024;

export type PipelineLimits = DecodeLimits;

export interface PipelineDeps {
  limits: DecodeLimits;
  workers: ImageWorkers;
  /** process-wide allowance of decoder memory, shared by every upload */
  budget: MemoryBudget;
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

/** How an upload becomes what is stored; decided from the header, before any pixel is decoded. */
type Plan = "strip" | "turn" | "heic";

/**
 * Turns an uploaded file into what Pixhaven stores: type decided from the bytes, size and memory
 * checked from the header before any decoding, every metadata block removed, the picture upright,
 * and a WebP thumbnail with a thumbhash placeholder. Pixels are re-encoded only when they must
 * change (orientation, HEIC); otherwise the metadata is cut out of the container losslessly.
 */
export async function processImage(input: string, workPrefix: string, deps: PipelineDeps): Promise<ProcessedImage> {
  const { limits, budget } = deps;
  const head = await readHead(input);
  if (head.length === 0) throw new AppError("empty_file", 400, "The file is empty.");
  const type = await sniffImageType(head);
  if (!type) throw new AppError("unsupported_type", 415, "Only JPEG, PNG, WebP, AVIF, GIF and HEIC/HEIF images are accepted.");
  const header = await readHeader(input, type.format, head);
  checkPixels(header, limits);
  const plan: Plan = type.format === "heic" ? "heic" : header.orientation === 1 ? "strip" : "turn";
  if (plan === "turn" && type.format === "png" && isAnimatedPng(head)) {
    throw new AppError("unsupported_image", 422, "An animated PNG with an orientation tag cannot be turned upright without losing its animation.");
  }
  const cost = peakMemory(plan, header, (await fs.stat(input)).size);
  if (!budget.fits(cost)) {
    const size = `${header.width}×${header.height}${header.frames > 1 ? `, ${header.frames} frames` : ""}`;
    throw new AppError(
      "too_many_pixels",
      413,
      `Processing this image (${size}) needs about ${describeBytes(cost)} of memory; the limit is ${describeBytes(budget.capacity)} (DECODE_MEMORY).`,
    );
  }
  return budget.run(cost, () => produce(input, workPrefix, type.format, plan, header, head, deps));
}

/** The most memory any step of the plan holds at once (steps run one after the other). */
function peakMemory(plan: Plan, header: ImageHeader, fileBytes: number): number {
  // The stored file is decoded again for the thumbnail; HEIC is stored as JPEG or WebP of the same size.
  const storedAs: ImageHeader = plan === "heic" ? { ...header, format: header.hasAlpha ? "webp" : "jpeg", progressive: false } : header;
  const preview = decodeCost(storedAs, { kind: "preview", box: THUMB_MAX });
  // Lossless removal holds the file and its copy in a worker thread.
  const strip = 2 * fileBytes;
  // HEIC's decoder hands its pixels (already upright) to a JPEG or WebP encoder: no turned copy.
  const change = plan === "strip" ? 0 : decodeCost(header, { kind: plan === "heic" ? "decode" : "reencode" });
  return Math.max(preview, strip, change);
}

async function produce(input: string, workPrefix: string, inputFormat: InputFormat, plan: Plan, header: ImageHeader, head: Uint8Array, deps: PipelineDeps): Promise<ProcessedImage> {
  const { limits, workers } = deps;
  const out = `${workPrefix}.out`;
  let format: StoredFormat;
  let stripped: { bytes: number; etag: string } | null = null;
  let preview: Preview | null = null;
  if (inputFormat === "heic") {
    format = await convertHeic(input, out, workers, limits, header);
  } else {
    format = inputFormat;
    if (plan === "strip") stripped = await workers.strip(input, out, format);
    // AVIF boxes that cannot be edited safely are re-encoded; other containers that cannot be walked are broken.
    if (plan === "strip" && !stripped && format !== "avif") throw new AppError("invalid_image", 422, "The image is corrupt or truncated.");
    // A JPEG whose MCU grid allows it turns by moving its DCT blocks: lossless, no metadata, and
    // several times faster than re-encoding; any other is re-encoded.
    if (plan === "turn" && format === "jpeg") {
      // The preview's pixels carry no colour profile: with one, the thumbnail is made from the file.
      const turned = await workers.rotateJpeg(input, out, header.orientation, limits.maxPixels, header.icc ? Infinity : PREVIEW_MIN_SIDE);
      if (turned) ({ preview, ...stripped } = turned);
    }
    if (!stripped) await turnUpright(input, out, format, limits, header, head);
  }

  const thumbPath = `${workPrefix}.thumb.webp`;
  const { thumbhash } = await makeThumbnail(preview ?? out, thumbPath, limits);
  const stored = await openUntrusted(out, limits, { animated: true }).metadata();
  // Defence in depth for P7: whatever path produced the file, a reader must find nothing in it.
  if (stored.exif || stored.xmp || stored.iptc || stored.comments?.length) throw new Error("metadata survived processing; refusing to store");
  // An animation is kept whole or not at all: frames out must equal frames in.
  if ((stored.pages ?? 1) !== header.frames) {
    throw new AppError("unsupported_image", 422, `This animation has ${header.frames} frames and could not be kept whole, so it was not stored.`);
  }
  const { bytes, etag } = stripped ?? { bytes: (await fs.stat(out)).size, etag: await contentTagOfFile(out) };
  return {
    path: out,
    thumbPath,
    mime: STORED_MIME[format],
    ext: EXTENSION[format],
    // What a browser shows: a GIF's logical screen (in the header) may be larger than its frames.
    width: format === "gif" ? header.width : (stored.width ?? header.width),
    height: format === "gif" ? header.height : (stored.pageHeight ?? stored.height ?? header.height),
    frames: stored.pages ?? 1,
    bytes,
    etag,
    thumbhash,
  };
}

/** An APNG announces its animation (acTL) before the first image data. */
function isAnimatedPng(head: Uint8Array): boolean {
  return Buffer.from(head.buffer, head.byteOffset, head.byteLength).includes("acTL", 8, "latin1");
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
 * Turns the pixels upright and writes them without any metadata but the colour profile, keeping
 * as much of the source's quality as the format allows: JPEG keeps its chroma subsampling, lossless
 * WebP stays lossless, PNG and GIF are lossless anyway. Every frame of an animation is turned and
 * kept, with its timing.
 */
async function turnUpright(input: string, out: string, format: StoredFormat, limits: DecodeLimits, header: ImageHeader, head: Uint8Array): Promise<void> {
  const lossless = format === "webp" && isLosslessWebp(head);
  if (header.frames > 1) {
    const frames = await decodeUprightFrames(input, header.orientation, limits);
    const timing = { ...(header.delay ? { delay: header.delay } : {}), ...(header.loop !== undefined ? { loop: header.loop } : {}) };
    const image = framesInput(frames);
    if (format === "webp") {
      const webp = await image.webp({ ...(lossless ? { lossless: true } : { quality: 92 }), ...timing }).toBuffer().catch(decodeFailure);
      await fs.writeFile(out, header.icc ? addIccToWebp(webp, header.icc) : webp);
    } else {
      await image.gif(timing).toFile(out).catch(decodeFailure);
    }
    return;
  }
  const image = openUntrusted(input, limits).rotate().keepIccProfile();
  const encoded = encoderFor(image, format, header, lossless);
  await encoded.toFile(out).catch(decodeFailure);
}

function encoderFor(image: sharp.Sharp, format: StoredFormat, header: ImageHeader, lossless: boolean): sharp.Sharp {
  switch (format) {
    case "jpeg":
      // Optimised Huffman tables need every coefficient of the picture in memory at once (3 bytes a
      // pixel more at 4:2:0, 6 at 4:4:4) and twice the time, for files about 5-15% smaller.
      return image.jpeg({ quality: 92, optimiseCoding: false, chromaSubsampling: header.chromaSubsampling === "4:4:4" ? "4:4:4" : "4:2:0" });
    case "png":
      return image.png({ compressionLevel: 6 });
    case "webp":
      return image.webp(lossless ? { lossless: true } : { quality: 92 });
    case "gif":
      return image.gif();
    case "avif":
      return image.avif({ quality: 70, effort: 3 });
  }
}

/** A lossless WebP carries its picture in a VP8L chunk (lossy ones in VP8), within the first bytes. */
function isLosslessWebp(head: Uint8Array): boolean {
  return Buffer.from(head.buffer, head.byteOffset, head.byteLength).includes("VP8L", 12, "latin1");
}

async function convertHeic(input: string, out: string, workers: ImageWorkers, limits: DecodeLimits, source: ImageHeader): Promise<StoredFormat> {
  const raw = await workers.decodeHeic(input);
  const pixels = openPixels(raw.data, { width: raw.width, height: raw.height, channels: 4 });
  // The decoded pixels are in the photo's own colour space (Display P3 on phones): the stored file
  // must carry that profile, or browsers would show them as sRGB, washed out.
  if (!source.hasAlpha) {
    // JPEG is what every browser shows; the profile is spliced in afterwards, costing no extra copy of the pixels.
    const jpeg = await pixels.removeAlpha().jpeg({ quality: 90 }).toBuffer().catch(decodeFailure);
    await fs.writeFile(out, source.icc ? addIccToJpeg(jpeg, source.icc) : jpeg);
    return "jpeg";
  }
  // Transparency is kept in lossless WebP, with the profile spliced into its container.
  const webp = await pixels.webp({ lossless: true }).toBuffer().catch(decodeFailure);
  await fs.writeFile(out, source.icc ? addIccToWebp(webp, source.icc) : webp);
  return "webp";
}

/**
 * From the stored file, or from the 1/8-scale picture a lossless JPEG turn computed on the way (the
 * same pixels sharp would decode for this thumbnail, without decoding the file again).
 */
async function makeThumbnail(stored: string | Preview, thumbPath: string, limits: DecodeLimits): Promise<{ thumbhash: string }> {
  // Decoding the whole stored image here is also the proof that it is not truncated or corrupt; a
  // turned JPEG was decoded whole by the turn, and written by it.
  const source = typeof stored === "string" ? openUntrusted(stored, limits) : openPixels(stored.data, { width: stored.width, height: stored.height, channels: 3 });
  const thumb = await source
    .resize(THUMB_MAX, THUMB_MAX, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 75 })
    .toBuffer()
    .catch(decodeFailure);
  await fs.writeFile(thumbPath, thumb);
  const { data, info } = await openUntrusted(thumb, limits).resize(100, 100, { fit: "inside" }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { thumbhash: Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString("base64") };
}
