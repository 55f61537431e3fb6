/**
 * The pixel pipeline of the compress, convert, resize and crop tools, run inside a web worker:
 * decode once (the browser's own decoder, which also turns the picture upright; libheif for HEIC),
 * cut, turn and mirror on a canvas (exact quarter turns, no resampling), resize with Lanczos3,
 * encode. The picture is never decoded twice and never crosses back to the page.
 */
import resize from "@jsquash/resize";
import { EXTENSION, MIME, encodePixels } from "./codecs.js";
import { decodeHeic } from "./heic.js";
import { DeviceFailure, TooLargeError } from "./problems.js";
import type { FractionRect, ImageJob, ImageOutcome, ResizeRequest } from "./protocol.js";

export { EXTENSION, MIME };

type Size = { width: number; height: number };

/** Where the crop, turn and resize of a job land for a picture of `source` size (upright). */
export interface Plan {
  /** pixels of the upright picture to keep */
  crop: { x: number; y: number; width: number; height: number };
  /** size after the quarter turn */
  turned: Size;
  /** final size */
  output: Size;
}

export function planFor(source: Size, job: Pick<ImageJob, "crop" | "rotate" | "resize">): Plan {
  let crop = job.crop ? pixelRect(job.crop, source) : { x: 0, y: 0, width: source.width, height: source.height };
  const quarter = job.rotate === 90 || job.rotate === 270;
  const turnedOf = (c: Size) => (quarter ? { width: c.height, height: c.width } : { width: c.width, height: c.height });
  let turned = turnedOf(crop);
  const target = job.resize ? resizeTarget(turned, job.resize) : turned;
  if (job.resize?.by === "size" && job.resize.fit === "cover" && job.resize.width && job.resize.height) {
    // Fill the box exactly: keep the centred part of the picture that has the box's shape.
    const aspect = quarter ? target.height / target.width : target.width / target.height;
    const width = Math.min(crop.width, Math.round(crop.height * aspect));
    const height = Math.min(crop.height, Math.round(crop.width / aspect));
    crop = { x: crop.x + Math.floor((crop.width - width) / 2), y: crop.y + Math.floor((crop.height - height) / 2), width, height };
    turned = turnedOf(crop);
  }
  return { crop, turned, output: target };
}

function pixelRect(r: FractionRect, size: Size) {
  const x = clampInt(r.x * size.width, 0, size.width - 1);
  const y = clampInt(r.y * size.height, 0, size.height - 1);
  return { x, y, width: clampInt(r.width * size.width, 1, size.width - x), height: clampInt(r.height * size.height, 1, size.height - y) };
}

export function resizeTarget(from: Size, r: ResizeRequest): Size {
  let size: Size;
  if (r.by === "percent") size = { width: from.width * (r.percent / 100), height: from.height * (r.percent / 100) };
  else if (r.width && r.height) {
    if (r.fit === "inside") {
      const scale = Math.min(r.width / from.width, r.height / from.height);
      size = { width: from.width * scale, height: from.height * scale };
    } else size = { width: r.width, height: r.height };
  } else if (r.width) size = { width: r.width, height: (from.height * r.width) / from.width };
  else if (r.height) size = { width: (from.width * r.height) / from.height, height: r.height };
  else size = from;
  const rounded = { width: Math.max(1, Math.round(size.width)), height: Math.max(1, Math.round(size.height)) };
  if (r.withoutEnlargement && rounded.width * rounded.height > from.width * from.height) return from;
  return rounded;
}

export async function runImageJob(job: ImageJob, progress: (f: number) => void): Promise<{ outcome: ImageOutcome; transfer: ArrayBuffer[] }> {
  const { bitmap, decodedSmaller } = await decode(job);
  progress(0.35);
  const preview = job.format === "heic" ? await previewOf(bitmap) : undefined;
  const plan = planFor({ width: bitmap.width, height: bitmap.height }, job);
  // A picture decoded smaller still gets the size asked of the whole one (a percentage of it, say).
  if (decodedSmaller) plan.output = planFor(job.source, job).output;
  let pixels = render(bitmap, plan, job, job.encode.format === "jpeg" ? job.encode.background : undefined);
  bitmap.close();
  progress(0.5);
  if (pixels.width !== plan.output.width || pixels.height !== plan.output.height) {
    pixels = await resize(pixels, { width: plan.output.width, height: plan.output.height, method: "lanczos3", fitMethod: "stretch", premultiply: true, linearRGB: true });
  }
  progress(0.6);
  const bytes = await encodePixels(pixels, job.encode);
  const outcome: ImageOutcome = { bytes, mime: MIME[job.encode.format], width: pixels.width, height: pixels.height, decodedSmaller, ...(preview ? { preview } : {}) };
  return { outcome, transfer: preview ? [bytes, preview] : [bytes] };
}

/** Decodes upright; above the pixel budget only a resize to something smaller goes on, decoded smaller. */
async function decode(job: ImageJob): Promise<{ bitmap: ImageBitmap; decodedSmaller: boolean }> {
  if (job.format === "heic") {
    const pixels = await decodeHeic(new Uint8Array(await job.file.arrayBuffer()), job.maxPixels);
    return { bitmap: await createImageBitmap(pixels), decodedSmaller: false };
  }
  const { width, height } = job.source;
  let shrink: Size | undefined;
  if (width * height > job.maxPixels) {
    const output = job.resize ? planFor(job.source, job).output : job.source;
    if (output.width * output.height > job.maxPixels) throw new TooLargeError(width, height, job.maxPixels);
    const scale = Math.sqrt(job.maxPixels / (width * height));
    shrink = { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
  }
  const options: ImageBitmapOptions = shrink
    ? { imageOrientation: "from-image", resizeWidth: shrink.width, resizeHeight: shrink.height, resizeQuality: "high" }
    : { imageOrientation: "from-image" };
  const bitmap = await createImageBitmap(job.file, options).catch(() => {
    throw new DeviceFailure({ code: "undecodable" });
  });
  return { bitmap, decodedSmaller: shrink !== undefined };
}

function render(bitmap: ImageBitmap, plan: Plan, job: ImageJob, background: string | undefined): ImageData {
  const { crop, turned } = plan;
  const canvas = new OffscreenCanvas(turned.width, turned.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new DeviceFailure({ code: "noCanvas" });
  ctx.imageSmoothingEnabled = false;
  if (background) {
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, turned.width, turned.height);
  }
  // Turn first, then mirror (the order the crop tool's spec gives), about the centre.
  ctx.translate(turned.width / 2, turned.height / 2);
  ctx.scale(job.flipH ? -1 : 1, job.flipV ? -1 : 1);
  ctx.rotate((job.rotate * Math.PI) / 180);
  ctx.drawImage(bitmap, crop.x, crop.y, crop.width, crop.height, -crop.width / 2, -crop.height / 2, crop.width, crop.height);
  return ctx.getImageData(0, 0, turned.width, turned.height);
}

async function previewOf(bitmap: ImageBitmap): Promise<ArrayBuffer> {
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
  canvas.getContext("2d")!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return (await canvas.convertToBlob({ type: "image/jpeg", quality: 0.85 })).arrayBuffer();
}

function clampInt(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(n)));
}

export { TooLargeError };
