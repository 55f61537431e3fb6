/**
 * The strip tool in a web worker: read what the picture carries, remove it with the shared lossless
 * remover (pixels untouched), turn a picture that is not upright (losslessly for JPEG when the block
 * grid allows, else re-encoded at high quality), then read the result back to prove nothing is left.
 */
import { stripMetadata } from "$common/metadata/index.js";
import { transformJpeg, type Orientation } from "$common/jpeg/index.js";
import { encodePixels, MIME } from "./codecs.js";
import { readHeader, uprightSize } from "./header.js";
import { TooLargeError } from "./problems.js";
import { readMetadata } from "./metadata-reader.js";
import type { EncodeFormat, StripJob, StripOutcome } from "./protocol.js";

export async function runStripJob(job: StripJob, progress: (f: number) => void): Promise<{ outcome: StripOutcome; transfer: ArrayBuffer[] }> {
  const input = new Uint8Array(await job.file.arrayBuffer());
  const header = readHeader(input);
  const stripped = stripMetadata(input, job.format);
  const before = readMetadata(input, job.format, stripped.removed);
  progress(0.4);
  const orientation = before.orientation ?? 1;
  let bytes = stripped.bytes;
  let method: StripOutcome["method"] = "lossless";
  let size = header ? uprightSize({ ...header, orientation }) : { width: 0, height: 0 };
  if (orientation !== 1) {
    const turned = job.format === "jpeg" ? transformJpeg(stripped.bytes, orientation as Orientation, { maxPixels: job.maxPixels }) : null;
    if (turned) {
      bytes = turned;
      method = "lossless-rotation";
    } else {
      const reencoded = await reencodeUpright(input, job, size);
      bytes = reencoded.bytes;
      size = reencoded.size;
      method = "re-encoded";
    }
  }
  progress(0.8);
  // The proof: the same reader finds nothing, and the remover finds nothing left to remove.
  const again = stripMetadata(bytes, job.format);
  const after = readMetadata(bytes, job.format, again.removed);
  const out = bytes.buffer === input.buffer || bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength ? bytes.slice() : bytes;
  const buffer = out.buffer as ArrayBuffer;
  return {
    outcome: { bytes: buffer, mime: MIME_OF[job.format], width: size.width, height: size.height, before, after, afterRemovable: again.removed, method },
    transfer: [buffer],
  };
}

const MIME_OF: Record<StripJob["format"], string> = { ...MIME, gif: "image/gif" };

/** Decoded upright by the browser (from the original, which still says how to turn) and written again. */
async function reencodeUpright(input: Uint8Array, job: StripJob, size: { width: number; height: number }) {
  if (size.width * size.height > job.maxPixels) throw new TooLargeError(size.width, size.height, job.maxPixels);
  const bitmap = await createImageBitmap(new Blob([input as Uint8Array<ArrayBuffer>]), { imageOrientation: "from-image" });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
  // GIF never gets here (it has no orientation tag); the type just needs a format with an encoder.
  const format: EncodeFormat = job.format === "gif" ? "png" : job.format;
  const lossless = job.format === "webp" && new TextDecoder("latin1").decode(input.subarray(12, 16)) === "VP8L";
  const encoded = await encodePixels(pixels, { format, quality: 92, lossless, effort: format === "avif" ? 4 : 2, chroma: "4:2:0", background: "#ffffff" });
  return { bytes: new Uint8Array(encoded), size: { width: pixels.width, height: pixels.height } };
}
