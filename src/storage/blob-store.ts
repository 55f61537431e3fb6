import type { Readable } from "node:stream";

export interface ByteRange {
  start: number; // inclusive
  end: number; // inclusive
}

/**
 * Where image bytes live. Keys are relative, slash-separated and chosen by Pixhaven (never by a
 * user). On disk for one machine; in an S3-compatible bucket when several processes share storage.
 */
export interface BlobStore {
  /** Moves a finished local file into the store (the file is consumed). */
  putFile(key: string, localPath: string, contentType: string): Promise<void>;
  /** Throws BlobNotFoundError when nothing is stored under the key. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  /**
   * Where a stored blob can be read as a local file, for stores that keep files on this machine:
   * readers open it instead of copying it out. Read only; throws BlobNotFoundError when missing.
   */
  localFile?(key: string): Promise<string>;
  /** Succeeds whether or not the key was stored. */
  delete(key: string): Promise<void>;
  /** Resolves when the store can be written to; a clear error otherwise (bucket, rights, disk). */
  check(): Promise<void>;
  /** Every key under a prefix; used by tests and storage audits, not on hot paths. */
  list(prefix?: string): AsyncIterable<string>;
}

/** One error for a missing blob whatever the store, so callers need not know which one they have. */
export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no blob stored under ${key}`);
    this.name = "BlobNotFoundError";
  }
}
