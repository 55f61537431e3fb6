import type { Readable, Writable } from "node:stream";
import type { JobOutputRow } from "../db/schema.js";
import { ZipStream } from "../storage/zip-stream.js";

/**
 * Writes the outputs into `out` as a ZIP, one file at a time, stored without compression (images are
 * compressed already): memory stays at one chunk whatever the batch weighs. Names are made unique.
 */
export async function streamBatchZip(outputs: JobOutputRow[], open: (o: JobOutputRow) => Promise<Readable | null>, out: Writable): Promise<void> {
  const zip = new ZipStream(out);
  const used = new Set<string>();
  try {
    for (const output of outputs) {
      const stream = await open(output);
      if (stream) await zip.addStream(uniqueName(output.name, used), stream);
    }
    zip.end();
  } catch (err) {
    out.destroy(err as Error);
  }
}

function uniqueName(name: string, used: Set<string>): string {
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : "";
  // Compared without case: extracted on Windows or macOS, a.png and A.png would be one file.
  let candidate = name;
  for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`;
  used.add(candidate.toLowerCase());
  return candidate;
}
