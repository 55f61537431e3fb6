import fs from "node:fs/promises";
import path from "node:path";
import { describe } from "vitest";
import type { BlobStore } from "../../src/storage/blob-store.js";
import { isPostgresReachable, POSTGRES_URL } from "./server.js";

export interface UploadReply {
  status: number;
  body: any;
}

export async function upload(baseUrl: string, bytes: Uint8Array, filename = "photo.jpg", field = "file"): Promise<UploadReply> {
  const form = new FormData();
  form.append(field, new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }), filename);
  const res = await fetch(`${baseUrl}/api/v1/images`, { method: "POST", body: form });
  return { status: res.status, body: await res.json() };
}

export async function getBytes(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

export async function listBlobs(blobs: BlobStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of blobs.list()) keys.push(key);
  return keys.sort();
}

/** Temp files under DATA_DIR/tmp, inside any process's folder (the folders themselves are not listed). */
export async function listTemp(dataDir: string): Promise<string[]> {
  const root = path.join(dataDir, "tmp");
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
}

const postgres = await isPostgresReachable();
if (!postgres) {
  console.warn(`\n*** PostgreSQL at ${POSTGRES_URL} is not reachable: the PostgreSQL pass is SKIPPED ***\n`);
}

/** Runs the same suite on the embedded SQLite database and on PostgreSQL. */
/** A multipart body written by hand, in pieces, so a test can hold a request open midway. */
const BOUNDARY = "pixhaven-test-boundary";
export const multipart = {
  boundary: BOUNDARY,
  headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
  field: (name: string, value: string) => Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
  /** a file part's boundary line and headers; its bytes and "\r\n" follow */
  fileHead: (name: string) => Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\ncontent-type: image/jpeg\r\n\r\n`),
  end: Buffer.from(`--${BOUNDARY}--\r\n`),
};

export function describeEachDialect(name: string, suite: (dialect: "sqlite" | "postgres") => void): void {
  describe(`${name} [sqlite]`, () => suite("sqlite"));
  describe.skipIf(!postgres)(`${name} [postgres]`, () => suite("postgres"));
}
