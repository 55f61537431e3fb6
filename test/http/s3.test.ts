import fs from "node:fs/promises";
import path from "node:path";
import exifr from "exifr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stripMetadata } from "../../src/common/metadata/index.js";
import { S3BlobStore } from "../../src/storage/s3.js";
import { plainJpeg } from "../fixtures/images.js";
import { jpegWithMetadata, SECRETS } from "../fixtures/metadata.js";
import { getBytes, listBlobs, listTemp, upload } from "../helpers/http.js";
import { startTestS3, type TestS3 } from "../helpers/s3.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** The whole journey over HTTP with blobs in an S3-compatible bucket instead of DATA_DIR. */
describe("images on S3-compatible storage", () => {
  let s3: TestS3;
  let srv: TestServer;
  let wholeBucket: S3BlobStore;
  beforeAll(async () => {
    s3 = await startTestS3();
    wholeBucket = new S3BlobStore(s3.storage());
    srv = await startTestServer({ config: { storage: s3.storage("pixhaven/") } });
  });
  afterAll(async () => {
    await srv?.stop();
    await s3?.stop();
  });

  /** Every object in the bucket, prefix included, for any image id. */
  async function bucketKeys(id: string): Promise<string[]> {
    return (await listBlobs(wholeBucket)).filter((key) => key.includes(id));
  }

  it("stores the image and its thumbnail as objects under the key prefix, and nothing on local disk", async () => {
    const jpeg = await plainJpeg(320, 240, 7);
    const { status, body } = await upload(srv.baseUrl, jpeg);
    expect(status).toBe(201);
    const shard = body.id.slice(0, 2);
    expect((await listBlobs(srv.px.blobs)).filter((key) => key.includes(body.id))).toEqual([`img/${shard}/${body.id}.jpg`, `thumb/${shard}/${body.id}.webp`]);
    expect(await bucketKeys(body.id)).toEqual([`pixhaven/img/${shard}/${body.id}.jpg`, `pixhaven/thumb/${shard}/${body.id}.webp`]);
    await expect(fs.access(path.join(srv.dataDir, "blobs"))).rejects.toThrow();
    expect(await listTemp(srv.dataDir)).toEqual([]);
    const raw = await getBytes(body.rawUrl);
    expect(raw.status).toBe(200);
    expect(raw.headers.get("content-type")).toBe("image/jpeg");
    expect(raw.bytes.equals(jpeg)).toBe(true); // no metadata to remove: stored exactly as sent
    const thumb = await getBytes(body.thumbUrl);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/webp");
  });

  it("P7: on S3 the stored bytes carry no GPS or camera metadata and are served back exactly", async () => {
    const original = await jpegWithMetadata({ width: 640, height: 480 });
    expect((await exifr.parse(Buffer.from(original), { gps: true })).latitude).toBeCloseTo(SECRETS.gpsLatitude, 3);
    const { status, body } = await upload(srv.baseUrl, original, "IMG_0001.jpg");
    expect(status).toBe(201);
    const raw = await getBytes(body.rawUrl);
    expect(raw.status).toBe(200);
    expect(raw.bytes).toEqual(Buffer.from(stripMetadata(original, "jpeg").bytes));
    const tags = await exifr.parse(raw.bytes, { tiff: true, exif: true, gps: true, xmp: true, iptc: true }).catch(() => undefined);
    expect(tags?.latitude).toBeUndefined();
    expect(tags?.GPSLatitude).toBeUndefined();
    expect(tags?.Make).toBeUndefined();
    expect(tags?.Model).toBeUndefined();
    expect(raw.bytes.toString("latin1")).not.toContain(SECRETS.serial);
  });

  it("a Range request answers 206 with exactly that slice, read from the bucket", async () => {
    const jpeg = await plainJpeg(640, 480, 11);
    const { body } = await upload(srv.baseUrl, jpeg);
    const head = await getBytes(body.rawUrl, { range: "bytes=0-99" });
    expect(head.status).toBe(206);
    expect(head.headers.get("content-range")).toBe(`bytes 0-99/${jpeg.length}`);
    expect(head.bytes.equals(jpeg.subarray(0, 100))).toBe(true);
    const middle = Math.floor(jpeg.length / 2);
    const tail = await getBytes(body.rawUrl, { range: `bytes=${middle}-` });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("content-length")).toBe(String(jpeg.length - middle));
    expect(tail.bytes.equals(jpeg.subarray(middle))).toBe(true);
  });

  it("P13: on S3, deleting with the token removes the image and thumbnail objects at once; the raw URL then answers 410", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(64, 64, 13));
    expect(await bucketKeys(body.id)).toHaveLength(2);
    const del = await fetch(`${srv.baseUrl}/api/v1/images/${body.id}`, { method: "DELETE", headers: { "x-delete-token": body.deleteToken } });
    expect(del.status).toBe(204);
    expect(await bucketKeys(body.id)).toEqual([]);
    expect(await srv.px.blobs.exists(`img/${body.id.slice(0, 2)}/${body.id}.jpg`)).toBe(false);
    for (const url of [body.rawUrl, body.thumbUrl]) expect((await fetch(url)).status, url).toBe(410);
  });

  it("an object missing from the bucket answers 410, not 500", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(64, 64, 17));
    await srv.px.blobs.delete(`img/${body.id.slice(0, 2)}/${body.id}.jpg`);
    const raw = await fetch(body.rawUrl);
    expect(raw.status).toBe(410);
    expect(await raw.json()).toMatchObject({ error: { code: "gone" } });
  });
});
