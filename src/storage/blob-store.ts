import type { Readable } from "node:stream";

export interface ByteRange {
  start: number; // inclusive
  end: number; // inclusive
}

/**
 * Where image bytes live. Keys are relative, slash-separated and chosen by Pixhaven (never by a
 * user). Disk now; an S3-compatible store implements the same port for the scaled mode.
 */
export interface BlobStore {
  /** Moves a finished local file into the store (the file is consumed). */
  putFile(key: string, localPath: string, contentType: string): Promise<void>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Every key under a prefix; used by tests and storage audits, not on hot paths. */
  list(prefix?: string): AsyncIterable<string>;
}
