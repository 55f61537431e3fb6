import fs from "node:fs/promises";
import { AppError } from "../common/errors.js";
import { sniffImageType } from "../common/formats.js";
import { type DecodeLimits, checkPixels, readHeader } from "./decode.js";
import type { ToolInput } from "./server-tool.js";

// file-type needs 4100 bytes; more lets the WebP check see past a large colour profile.
export const HEAD_BYTES = 64 * 1024;

/** The canonical type of each decodable format, as specs list what they accept. */
const CANONICAL_MIME = { jpeg: "image/jpeg", png: "image/png", webp: "image/webp", gif: "image/gif", avif: "image/avif", heic: "image/heic" } as const;

/**
 * Identifies an input from its bytes only, refuses what the tool does not accept (415), and for an
 * image reads its header and applies the pixel limits (413) before anything is decoded.
 */
export async function identifyInput(
  file: { path: string; name: string; bytes?: number; head?: Uint8Array },
  accepts: readonly string[],
  limits: DecodeLimits,
): Promise<ToolInput> {
  // A receiver that kept the first bytes as they passed (a job's upload) spares the read.
  const { head, bytes } = file.head && file.bytes !== undefined ? { head: file.head, bytes: file.bytes } : await readHead(file.path);
  if (bytes === 0) throw new AppError("empty_file", 400, "The file is empty.");
  if (isPdf(head)) return admitInput({ kind: "pdf", path: file.path, name: file.name, bytes, mime: "application/pdf" }, accepts, limits);
  const type = await sniffImageType(head);
  if (!type || !accepts.includes(CANONICAL_MIME[type.format])) throw refusal(accepts);
  const header = await readHeader(file.path, type.format, head);
  return admitInput({ kind: "image", path: file.path, name: file.name, bytes, mime: CANONICAL_MIME[type.format], format: type.format, header, head }, accepts, limits);
}

/**
 * The checks of `identifyInput` that need no reading, for an input identified before (a job's, when
 * it was submitted): a tool may accept fewer types, or fewer pixels, than the one that identified it.
 */
export function admitInput(input: ToolInput, accepts: readonly string[], limits: DecodeLimits): ToolInput {
  if (!accepts.includes(input.mime)) throw refusal(accepts);
  if (input.kind === "image") checkPixels(input.header, limits);
  return input;
}

const refusal = (accepts: readonly string[]) => new AppError("unsupported_type", 415, `This tool takes ${describeTypes(accepts)}; the file is not one of them.`);

/** PDF readers accept the header anywhere in the first 1024 bytes; Pixhaven asks for it first. */
function isPdf(head: Uint8Array): boolean {
  return Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, 5)).toString("latin1") === "%PDF-";
}

function describeTypes(accepts: readonly string[]): string {
  return accepts.map((mime) => mime.replace(/^image\//, "").replace("application/", "").toUpperCase()).join(", ");
}

async function readHead(file: string): Promise<{ head: Uint8Array; bytes: number }> {
  const handle = await fs.open(file, "r").catch((err: NodeJS.ErrnoException) => {
    throw err.code === "ENOENT" ? new AppError("not_found", 404, "The input file does not exist.") : err;
  });
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(HEAD_BYTES, size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { head: buffer.subarray(0, bytesRead), bytes: size };
  } finally {
    await handle.close();
  }
}
