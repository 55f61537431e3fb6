import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Strong ETag of stored bytes: 192 bits of SHA-256, URL-safe. */
export function contentTag(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64url").slice(0, 32);
}

export async function contentTagOfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("base64url").slice(0, 32);
}
