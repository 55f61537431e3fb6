import { Transform } from "node:stream";
import type { Cidr } from "./ip.js";
import { fetchUrl } from "./fetch-url.js";
import { writeNewFile } from "../storage/temp-dir.js";

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
  await writeNewFile(destination, fetched.stream, count);
  return { name: fetched.filename ?? new URL(fetched.url).pathname.split("/").pop() ?? "download", bytes };
}
