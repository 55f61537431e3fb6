import type { Readable, Writable } from "node:stream";
import { Zip, ZipPassThrough } from "fflate";
import type { JobOutputRow } from "../db/schema.js";

/**
 * Writes the outputs into `out` as a ZIP, one file at a time, stored without compression (images are
 * compressed already): memory stays at one chunk whatever the batch weighs. Names are made unique.
 */
export async function streamBatchZip(outputs: JobOutputRow[], open: (o: JobOutputRow) => Promise<Readable | null>, out: Writable): Promise<void> {
  const zip = new Zip((err, chunk, final) => {
    if (err) return out.destroy(err);
    out.write(chunk);
    if (final) out.end();
  });
  const used = new Set<string>();
  try {
    for (const output of outputs) {
      const stream = await open(output);
      if (!stream) continue;
      const entry = new ZipPassThrough(uniqueName(output.name, used));
      zip.add(entry);
      for await (const chunk of stream) {
        entry.push(chunk as Uint8Array);
        if (out.writableNeedDrain) await new Promise((resolve) => out.once("drain", resolve));
      }
      entry.push(new Uint8Array(0), true);
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
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) candidate = `${stem}-${n}${ext}`;
  used.add(candidate);
  return candidate;
}
