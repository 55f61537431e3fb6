import fs from "node:fs/promises";
import type sharp from "sharp";
import { addIccToPng } from "./icc.js";
import { decodeFailure, openPixels, openUntrusted } from "./decode.js";
import { type RawFrames, decodeUprightFrames, orientationSteps } from "./orient.js";
import type { ImageInput, ServerToolContext } from "./server-tool.js";

/** The upright size of the input, as the user sees it and as rectangles are given. */
export function uprightSize(input: ImageInput): { width: number; height: number } {
  const { width, height, orientation } = input.header;
  const { angle } = orientationSteps(orientation);
  return angle === 90 || angle === 270 ? { width: height, height: width } : { width, height };
}

/**
 * The first (or only) frame of the input as a sharp pipeline, turned upright, its colour profile
 * kept for the output. HEIC, which sharp cannot decode, goes through the HEIC thread into a fast
 * lossless PNG in the work folder tagged with the photo's profile (phones shoot Display P3).
 */
export async function openUpright(input: ImageInput, ctx: ServerToolContext): Promise<sharp.Sharp> {
  const source = input.format === "heic" ? await heicAsPng(input, ctx) : input.path;
  return openUntrusted(source, ctx.limits).autoOrient().keepIccProfile();
}

async function heicAsPng(input: ImageInput, ctx: ServerToolContext): Promise<string> {
  // Decoded once a run: compress encodes the same pixels several times.
  const out = await ctx.scratch("heic-decoded.png");
  try {
    await fs.access(out);
  } catch {
    const raw = await ctx.threads.decodeHeic(input.path);
    const png = await openPixels(raw.data, { width: raw.width, height: raw.height, channels: 4 })
      .png({ compressionLevel: 0 })
      .toBuffer()
      .catch(decodeFailure);
    await fs.writeFile(out, input.header.icc ? addIccToPng(png, input.header.icc) : png);
  }
  return out;
}

/** Whether the input is an animation the output should keep whole. */
export function isAnimation(input: ImageInput): boolean {
  return input.header.frames > 1 && input.format !== "heic";
}

/** Every frame, upright, as raw RGBA. */
export function uprightFrames(input: ImageInput, ctx: ServerToolContext): Promise<RawFrames> {
  return decodeUprightFrames(input.path, input.header.orientation, ctx.limits);
}

/**
 * Applies the same operations to each frame (libvips would treat a raw strip as one tall
 * picture), checking for cancellation between frames.
 */
export async function mapFrames(frames: RawFrames, ctx: ServerToolContext, op: (frame: sharp.Sharp) => sharp.Sharp): Promise<RawFrames> {
  const frameBytes = frames.width * frames.frameHeight * 4;
  let out: Buffer | undefined;
  let width = 0;
  let frameHeight = 0;
  for (let i = 0; i < frames.frames; i++) {
    ctx.checkpoint(0.1 + (0.5 * i) / frames.frames);
    const frame = openPixels(frames.data.subarray(i * frameBytes, (i + 1) * frameBytes), { width: frames.width, height: frames.frameHeight, channels: 4 });
    const { data, info } = await op(frame).ensureAlpha().raw().toBuffer({ resolveWithObject: true }).catch(decodeFailure);
    if (!out) {
      width = info.width;
      frameHeight = info.height;
      out = Buffer.allocUnsafe(width * frameHeight * 4 * frames.frames);
    }
    data.copy(out, i * width * frameHeight * 4);
  }
  return { data: out ?? Buffer.alloc(0), width, frameHeight, frames: frames.frames };
}
