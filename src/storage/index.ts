import path from "node:path";
import type { Config } from "../config.js";
import type { BlobStore } from "./blob-store.js";
import { DiskBlobStore } from "./disk.js";
import { S3BlobStore } from "./s3.js";

/** The store the configuration names; temp files stay on local disk either way. */
export function createBlobStore(config: Pick<Config, "dataDir" | "storage">): BlobStore {
  const { storage } = config;
  if (storage.kind === "s3") return new S3BlobStore(storage);
  return new DiskBlobStore(path.join(config.dataDir, "blobs"));
}
