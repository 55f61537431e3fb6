import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import type { S3StorageConfig } from "../config.js";
import { type BlobStore, BlobNotFoundError, type ByteRange } from "./blob-store.js";

const MiB = 1024 * 1024;

// The AWS SDK is loaded when a store is made, not when the server starts: on local disk (the
// default) it would cost every process about 10 MB for nothing.
const require = createRequire(import.meta.url);
type Sdk = typeof import("@aws-sdk/client-s3");
type Storage = typeof import("@aws-sdk/lib-storage");

/**
 * Blobs as objects in an S3-compatible bucket (AWS, MinIO, Garage, Ceph, R2...), so that several
 * processes share them. An object appears only once its upload completes, so a reader never sees
 * half a file.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly sdk: Sdk = require("@aws-sdk/client-s3") as Sdk;
  private readonly storage: Storage = require("@aws-sdk/lib-storage") as Storage;

  constructor(config: Omit<S3StorageConfig, "kind">) {
    this.client = new this.sdk.S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.accessKeyId && config.secretAccessKey
        ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
        : {}),
      requestHandler: {
        connectionTimeout: 10_000,
        // Every raw or thumbnail response holds a connection for as long as its client reads, so
        // the SDK's default of 50 sockets would queue the 51st concurrent viewer.
        httpAgent: { keepAlive: true, maxSockets: 1024 },
        httpsAgent: { keepAlive: true, maxSockets: 1024 },
      },
    });
    this.bucket = config.bucket;
    // "pixhaven", "pixhaven/" and "/pixhaven/" all mean the folder "pixhaven/".
    const trimmed = config.prefix.replace(/^\/+|\/+$/g, "");
    this.prefix = trimmed ? `${trimmed}/` : "";
  }

  private objectKey(key: string): string {
    return this.prefix + key;
  }

  async putFile(key: string, localPath: string, contentType: string): Promise<void> {
    const body = createReadStream(localPath);
    try {
      // One PUT for a small file; for a large one, parts of partSize with at most queueSize in
      // flight, which bounds the memory an upload holds to about 20 MiB.
      await new this.storage.Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: this.objectKey(key), Body: body, ContentType: contentType },
        partSize: 5 * MiB,
        queueSize: 4,
      }).done();
    } finally {
      body.destroy();
    }
    await fs.rm(localPath, { force: true });
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const object = await this.client.send(
        new this.sdk.GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!(object.Body instanceof Readable)) throw new Error(`S3 returned no readable body for ${key}`);
      return object.Body;
    } catch (err) {
      throw isMissing(err) ? new BlobNotFoundError(key) : err;
    }
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw new Error(`S3 bucket "${this.bucket}" is not reachable: ${(err as Error).name} ${(err as Error).message}`.trim());
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 whether or not the object existed.
    await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  async *list(prefix = ""): AsyncIterable<string> {
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.objectKey(prefix),
          ...(continuationToken ? { ContinuationToken: continuationToken } : {}),
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) yield object.Key.slice(this.prefix.length);
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }
}

/**
 * A missing object: GET answers NoSuchKey, HEAD a bare 404 (it has no body to name the error).
 * A missing bucket is a misconfiguration, not a deleted image, so it stays an error.
 */
function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === "NoSuchBucket") return false;
  return e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404;
}
