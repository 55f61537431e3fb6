import { fileTypeFromBuffer } from "file-type";

export type InputFormat = "jpeg" | "png" | "webp" | "gif" | "avif" | "heic";

export interface SniffedType {
  format: InputFormat;
  mime: string;
}

const BY_MIME: Record<string, InputFormat> = {
  "image/jpeg": "jpeg",
  "image/png": "png",
  "image/apng": "png",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/avif": "avif",
  "image/heic": "heic",
  "image/heic-sequence": "heic",
  "image/heif": "heic",
  "image/heif-sequence": "heic",
};

/** What a stored image is served as; HEIC is converted because most browsers cannot show it. */
export const STORED_MIME: Record<Exclude<InputFormat, "heic">, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  avif: "image/avif",
};
export const EXTENSION: Record<Exclude<InputFormat, "heic">, string> = {
  jpeg: "jpg",
  png: "png",
  webp: "webp",
  gif: "gif",
  avif: "avif",
};

export const ACCEPTED_TYPES = ["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif", "image/heic", "image/heif"];

/** Decides the type from magic bytes only; the name and Content-Type a client sends are ignored. */
export async function sniffImageType(head: Uint8Array): Promise<SniffedType | null> {
  const found = await fileTypeFromBuffer(head);
  if (!found) return null;
  const format = BY_MIME[found.mime];
  return format ? { format, mime: found.mime } : null;
}
