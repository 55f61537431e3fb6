import type { Readable, Writable } from "node:stream";
import { Zip, ZipPassThrough } from "fflate";

/**
 * A ZIP written into `out` as it is built, one entry at a time and honouring back-pressure, so
 * memory stays at one chunk whatever the archive weighs. Entries are stored, not compressed: they
 * are images, compressed already.
 */
export class ZipStream {
  readonly zip: Zip;

  constructor(private readonly out: Writable) {
    this.zip = new Zip((err, chunk, final) => {
      if (err) return out.destroy(err);
      out.write(chunk);
      if (final) out.end();
    });
  }

  async addStream(name: string, stream: Readable): Promise<void> {
    const entry = new ZipPassThrough(name);
    this.zip.add(entry);
    for await (const chunk of stream) {
      entry.push(chunk as Uint8Array);
      if (this.out.writableNeedDrain) await new Promise((resolve) => this.out.once("drain", resolve));
    }
    entry.push(new Uint8Array(0), true);
  }

  end(): void {
    this.zip.end();
  }
}
