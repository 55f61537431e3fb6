import { createRequire } from "node:module";
import fs from "node:fs/promises";
import { type Orientation, type Preview, transformJpegWithPreview } from "../common/jpeg/index.js";
import { type StrippableFormat, stripMetadata } from "../common/metadata/index.js";
import { serveTasks } from "../jobs/worker-main.js";
import { contentTag } from "./etag.js";

/** Work on image bytes that is pure CPU in JavaScript or WebAssembly, kept off the event loop. */
export type ImageTask =
  | { op: "strip"; input: string; output: string; format: StrippableFormat }
  | { op: "rotateJpeg"; input: string; output: string; orientation: Orientation; maxPixels: number; previewMinSide: number }
  | { op: "decodeHeic"; input: string };

export interface StripReply {
  removed: string[];
  bytes: number;
  etag: string;
}

/**
 * The file written by a lossless JPEG rotation, with the turned picture at 1/8 scale where it was
 * asked for and could be made; null when it could not be done losslessly.
 */
export type RotateReply = { bytes: number; etag: string; preview: Preview | null } | null;

export interface DecodedHeic {
  width: number;
  height: number;
  data: Uint8Array; // RGBA
}

type HeicDecode = (input: { buffer: Uint8Array }) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
let heicDecode: HeicDecode | undefined;

/**
 * The input file's bytes, in memory this thread keeps for its next task (up to KEEP_INPUT_BYTES):
 * a fresh buffer per upload is fresh pages to fault in, several milliseconds for a 12 MP photo
 * with the server's mmap threshold. Valid until the next task; this thread runs one at a time.
 */
const KEEP_INPUT_BYTES = 32 * 1024 * 1024;
let spareInput: Uint8Array | undefined;

async function readInput(file: string): Promise<Uint8Array> {
  const handle = await fs.open(file, "r");
  try {
    const { size } = await handle.stat();
    const memory = spareInput && spareInput.length >= size ? spareInput : new Uint8Array(size);
    if (memory !== spareInput && size <= KEEP_INPUT_BYTES) spareInput = memory;
    let length = 0;
    while (length < size) {
      const { bytesRead } = await handle.read(memory, length, size - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return memory.subarray(0, length);
  } finally {
    await handle.close();
  }
}

serveTasks(async (task: ImageTask) => {
  const bytes = await readInput(task.input);
  if (task.op === "strip") {
    const { bytes: stripped, removed } = stripMetadata(bytes, task.format);
    await fs.writeFile(task.output, stripped);
    return { value: { removed, bytes: stripped.length, etag: contentTag(stripped) } satisfies StripReply };
  }
  if (task.op === "rotateJpeg") {
    const turned = transformJpegWithPreview(bytes, task.orientation, task.previewMinSide, { maxPixels: task.maxPixels, reuseOutput: true });
    if (!turned) return { value: null satisfies RotateReply };
    await fs.writeFile(task.output, turned.bytes);
    const { preview } = turned;
    return {
      value: { bytes: turned.bytes.length, etag: contentTag(turned.bytes), preview } satisfies RotateReply,
      transfer: preview ? [preview.data.buffer as ArrayBuffer] : [],
    };
  }
  // libheif's WebAssembly heap only grows, so it is loaded in workers that need it, which exit when idle.
  heicDecode ??= createRequire(import.meta.url)("heic-decode") as HeicDecode;
  const image = await heicDecode({ buffer: bytes });
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return { value: { width: image.width, height: image.height, data } satisfies DecodedHeic, transfer: [data.buffer as ArrayBuffer] };
});
