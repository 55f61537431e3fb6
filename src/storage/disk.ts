import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { type BlobStore, BlobNotFoundError, type ByteRange } from "./blob-store.js";

/** Blobs as files under one root; writes are a rename, so a reader never sees half a file. */
export class DiskBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    if (!/^[a-z0-9]+(\/[A-Za-z0-9_-]+)*(\.[a-z0-9]+)?$/.test(key)) throw new Error(`invalid blob key: ${key}`);
    return path.join(this.root, ...key.split("/"));
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const target = this.pathOf(key);
    try {
      // Keys share folders (`jobs/ab/…`), so the folder is usually there: made only when it is not.
      await fs.rename(localPath, target).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.rename(localPath, target);
      });
    } catch (err) {
      // Temp space on another filesystem: copy then remove, still never exposing a partial file.
      if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
      await fs.mkdir(path.dirname(target), { recursive: true });
      const partial = `${target}.partial`;
      await fs.copyFile(localPath, partial);
      await fs.rename(partial, target);
      await fs.rm(localPath, { force: true });
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.pathOf(key);
    // Opened here so that a missing blob fails now, not mid-stream.
    const handle = await fs.open(file, "r").catch((err: NodeJS.ErrnoException) => {
      throw err.code === "ENOENT" ? new BlobNotFoundError(key) : err;
    });
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async localFile(key: string): Promise<string> {
    const file = this.pathOf(key);
    await fs.access(file).catch((err: NodeJS.ErrnoException) => {
      throw err.code === "ENOENT" ? new BlobNotFoundError(key) : err;
    });
    return file;
  }

  async exists(key: string): Promise<boolean> {
    return fs.access(this.pathOf(key)).then(
      () => true,
      () => false,
    );
  }

  async check(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    await fs.access(this.root, fs.constants.W_OK);
  }

  async delete(key: string): Promise<void> {
    // A blob is a file: one unlink (fs.rm looks first), and one already gone is deleted.
    await fs.unlink(this.pathOf(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  async *list(prefix = ""): AsyncIterable<string> {
    const walk = async function* (dir: string, rel: string): AsyncIterable<string> {
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const key = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) yield* walk(path.join(dir, entry.name), key);
        else if (key.startsWith(prefix)) yield key;
      }
    };
    yield* walk(this.root, "");
  }
}
