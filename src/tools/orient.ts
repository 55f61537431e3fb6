import type sharp from "sharp";
import { type DecodeLimits, decodeFailure, openPixels, openUntrusted } from "./decode.js";

/** An EXIF orientation (1-8) as the mirror and turn that make it upright (sharp mirrors before it turns). */
export function orientationSteps(orientation: number): { angle: 0 | 90 | 180 | 270; flop: boolean } {
  switch (orientation) {
    case 2:
      return { angle: 0, flop: true };
    case 3:
      return { angle: 180, flop: false };
    case 4:
      return { angle: 180, flop: true };
    case 5:
      return { angle: 270, flop: true };
    case 6:
      return { angle: 90, flop: false };
    case 7:
      return { angle: 90, flop: true };
    case 8:
      return { angle: 270, flop: false };
    default:
      return { angle: 0, flop: false };
  }
}

export interface RawFrames {
  data: Buffer; // RGBA, frames stacked top to bottom
  width: number;
  frameHeight: number;
  frames: number;
}

/**
 * Decodes every frame of an animation and turns each one upright. libvips can only turn a
 * multi-frame image as one tall strip (which would shuffle the frames), so each frame is turned on
 * its own, in sharp's thread pool, into one preallocated strip: two copies of the frames at most.
 */
export async function decodeUprightFrames(input: string, orientation: number, limits: DecodeLimits): Promise<RawFrames> {
  const { data, info } = await openUntrusted(input, limits, { animated: true })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch(decodeFailure);
  const frames = info.pages ?? 1;
  const width = info.width;
  const frameHeight = info.pageHeight ?? info.height;
  const { angle, flop } = orientationSteps(orientation);
  if (angle === 0 && !flop) return { data, width, frameHeight, frames };
  const frameBytes = width * frameHeight * 4;
  const turned = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < frames; i++) {
    const frame = data.subarray(i * frameBytes, (i + 1) * frameBytes);
    let pipeline = openPixels(frame, { width, height: frameHeight, channels: 4 });
    if (angle) pipeline = pipeline.rotate(angle);
    if (flop) pipeline = pipeline.flop();
    const { data: out } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    out.copy(turned, i * frameBytes);
  }
  const sideways = angle === 90 || angle === 270;
  return { data: turned, width: sideways ? frameHeight : width, frameHeight: sideways ? width : frameHeight, frames };
}

/** The frames as one sharp input that encoders write as an animation. */
export function framesInput(frames: RawFrames): sharp.Sharp {
  return openPixels(frames.data, { width: frames.width, height: frames.frameHeight * frames.frames, channels: 4, pageHeight: frames.frameHeight });
}
