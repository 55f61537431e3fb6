import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import type { S3StorageConfig } from "../../src/config.js";
import { freePort } from "./server.js";

export interface TestS3 {
  /** a client on the server, for looking at objects behind a store's back */
  client: S3Client;
  bucket: string;
  /** settings for a store on the test bucket; each prefix is a separate namespace */
  storage(prefix?: string): S3StorageConfig;
  stop(): Promise<void>;
}

/** An in-process S3-compatible server on a free loopback port with one empty bucket. */
export async function startTestS3(bucket = "pixhaven-test"): Promise<TestS3> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-s3-"));
  const port = await freePort();
  const server = new S3rver({ address: "127.0.0.1", port, directory, silent: true });
  await server.run();
  const storage = (prefix = ""): S3StorageConfig => ({
    kind: "s3",
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    forcePathStyle: true,
    prefix,
  });
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    client,
    bucket,
    storage,
    async stop() {
      client.destroy();
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
