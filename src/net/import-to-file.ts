import { createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Cidr } from "./ip.js";
import { fetchUrl } from "./fetch-url.js";

export interface UrlImportSettings {
  maxBytes: number;
  timeoutMs: number;
  allowList: readonly Cidr[];
  userAgent: string;
}

/**
 * Fetches a user-given URL into a local file, with every guard of `fetchUrl` (checked and pinned
 * addresses, redirects checked again, size cut while streaming, one time limit). For tool jobs,
 * whose inputs are stored before they are queued.
 */
export async function importUrlToFile(url: string, destination: string, settings: UrlImportSettings): Promise<{ name: string; bytes: number }> {
  const fetched = await fetchUrl(url, settings);
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(fetched.stream, count, createWriteStream(destination, { flags: "wx" }));
  return { name: fetched.filename ?? new URL(fetched.url).pathname.split("/").pop() ?? "download", bytes };
}
