import { readFileSync } from "node:fs";
import path from "node:path";
import exifr from "exifr";
import { sql } from "kysely";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stripMetadata } from "../../src/common/metadata/index.js";
import { avifWithMetadata, gifWithMetadata, jpegWithMetadata, pngWithMetadata, SECRETS, webpWithMetadata } from "../fixtures/metadata.js";
import { describeEachDialect, getBytes, listBlobs, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const SECRET_STRINGS = [SECRETS.make, SECRETS.model, SECRETS.serial, SECRETS.lens, SECRETS.dateOriginal, SECRETS.xmp, SECRETS.iptc, SECRETS.comment];

/** Reads a stored file as an EXIF reader would and fails on any personal metadata. */
async function expectNoMetadata(bytes: Buffer): Promise<void> {
  const tags = await exifr.parse(bytes, { tiff: true, exif: true, gps: true, xmp: true, iptc: true, ifd1: true, icc: false }).catch(() => undefined);
  expect(tags?.latitude).toBeUndefined();
  expect(tags?.GPSLatitude).toBeUndefined();
  expect(tags?.Make).toBeUndefined();
  expect(tags?.Model).toBeUndefined();
  expect(tags?.BodySerialNumber).toBeUndefined();
  expect(tags?.LensModel).toBeUndefined();
  expect(tags?.DateTimeOriginal).toBeUndefined();
  expect(tags?.CreateDate).toBeUndefined();
  expect(tags?.Orientation).toBeUndefined();
  const text = bytes.toString("latin1");
  for (const secret of SECRET_STRINGS) expect(text).not.toContain(secret);
  expect(text).not.toContain("Exif\0\0");
  expect(text).not.toContain("http://ns.adobe.com/xap");
}

async function rawPixels(bytes: Uint8Array) {
  return sharp(bytes).raw().toBuffer({ resolveWithObject: true });
}

describeEachDialect("privacy of stored images", (dialect) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ dialect });
  });
  afterAll(() => srv.stop());

  /** Every byte Pixhaven keeps for an upload: the image, its thumbnail, and its database row. */
  async function expectNothingRetained(id: string): Promise<void> {
    const keys = (await listBlobs(srv.px.blobs)).filter((k) => k.includes(id));
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      const chunks: Buffer[] = [];
      for await (const chunk of await srv.px.blobs.get(key)) chunks.push(chunk as Buffer);
      await expectNoMetadata(Buffer.concat(chunks));
    }
    const row = await srv.px.db.db.selectFrom("images").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    const rowText = JSON.stringify(row);
    for (const secret of SECRET_STRINGS) expect(rowText).not.toContain(secret);
    expect(rowText).not.toContain(String(SECRETS.gpsLatitude).slice(0, 5));
  }

  it("P7: stored bytes carry no GPS, camera, serial, lens, dates, XMP, IPTC or comments, and JPEG pixels are untouched", async () => {
    const original = await jpegWithMetadata({ width: 640, height: 480, icc: true });
    const before = await exifr.parse(Buffer.from(original), { gps: true });
    expect(before.latitude).toBeCloseTo(SECRETS.gpsLatitude, 3);
    const res = await upload(srv.baseUrl, original, "IMG_0001.jpg");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ width: 640, height: 480, mime: "image/jpeg" });
    const raw = await getBytes(res.body.rawUrl);
    await expectNoMetadata(raw.bytes);
    await expectNoMetadata((await getBytes(res.body.thumbUrl)).bytes);
    await expectNothingRetained(res.body.id);
    // Lossless: the same pixels, the same colour profile, no re-encoding.
    expect((await rawPixels(raw.bytes)).data.equals((await rawPixels(original)).data)).toBe(true);
    expect((await sharp(raw.bytes).metadata()).icc).toBeDefined();
    expect(raw.bytes).toEqual(Buffer.from(stripMetadata(original, "jpeg").bytes));
  });

  it("P7: a photo with orientation 6 is stored upright and without the tag", async () => {
    const original = await jpegWithMetadata({ width: 320, height: 200, orientation: 6, icc: true });
    const res = await upload(srv.baseUrl, original);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ width: 200, height: 320 });
    const raw = await getBytes(res.body.rawUrl);
    await expectNoMetadata(raw.bytes);
    const stored = await sharp(raw.bytes).metadata();
    expect(stored.orientation ?? 1).toBe(1);
    expect(stored.icc?.equals((await sharp(original).metadata()).icc!)).toBe(true); // colours stay right
    // What a viewer honouring orientation shows of the original is what is stored now: the red
    // top-left block of the sensor's pixels turns with the picture to the top-right.
    const expected = await sharp(original).rotate().raw().toBuffer();
    const got = await rawPixels(raw.bytes);
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff += Math.abs(expected[i]! - got.data[i]!);
    expect(diff / expected.length).toBeLessThan(5);
    const red = (x: number, y: number) => {
      const i = (y * got.info.width + x) * got.info.channels;
      return got.data[i]! > 200 && got.data[i + 1]! < 60 && got.data[i + 2]! < 60;
    };
    expect(red(150, 80)).toBe(true);
    expect(red(50, 80)).toBe(false);
    expect(red(150, 240)).toBe(false);
    await expectNothingRetained(res.body.id);
  });

  it("re-encoding for orientation keeps the source's quality: lossless WebP stays exact, JPEG keeps 4:4:4", async () => {
    const picture = sharp({ create: { width: 90, height: 60, channels: 3, background: "#2a6" } }).composite([
      { input: { create: { width: 45, height: 30, channels: 3, background: "#d02020" } }, left: 0, top: 0 },
    ]);
    const webp = await picture.clone().webp({ lossless: true }).withMetadata({ orientation: 6 }).toBuffer();
    const storedWebp = await getBytes((await upload(srv.baseUrl, webp, "a.webp")).body.rawUrl);
    expect((await rawPixels(storedWebp.bytes)).data.equals(await sharp(webp).rotate().raw().toBuffer())).toBe(true);
    await expectNoMetadata(storedWebp.bytes);

    const jpeg = await picture.clone().jpeg({ quality: 95, chromaSubsampling: "4:4:4" }).withMetadata({ orientation: 6 }).toBuffer();
    const storedJpeg = await getBytes((await upload(srv.baseUrl, jpeg, "b.jpg")).body.rawUrl);
    const meta = await sharp(storedJpeg.bytes).metadata();
    expect([meta.width, meta.height, meta.chromaSubsampling]).toEqual([60, 90, "4:4:4"]);
  });

  for (const [name, make, mime] of [
    ["PNG", () => pngWithMetadata(), "image/png"],
    ["WebP", () => webpWithMetadata(), "image/webp"],
    ["AVIF", () => avifWithMetadata(), "image/avif"],
  ] as const) {
    it(`P7: ${name} uploads are stored without metadata`, async () => {
      const original = await make();
      const res = await upload(srv.baseUrl, original, `photo.${name.toLowerCase()}`);
      expect(res.status).toBe(201);
      expect(res.body.mime).toBe(mime);
      await expectNoMetadata((await getBytes(res.body.rawUrl)).bytes);
      await expectNothingRetained(res.body.id);
    });
  }

  it("P7: animated GIFs keep every frame and lose their comments and XMP", async () => {
    const original = await gifWithMetadata({ frames: 3 });
    const res = await upload(srv.baseUrl, original, "anim.gif");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ mime: "image/gif", frames: 3 });
    const raw = await getBytes(res.body.rawUrl);
    expect((await sharp(raw.bytes, { animated: true }).metadata()).pages).toBe(3);
    await expectNoMetadata(raw.bytes);
  });

  it("HEIC photos are converted to JPEG that browsers show, upright and without metadata", async () => {
    const heic = readFileSync(path.join(import.meta.dirname, "../fixtures/photo.heic"));
    const res = await upload(srv.baseUrl, heic, "IMG_1234.HEIC");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ mime: "image/jpeg", width: 96, height: 64 });
    const raw = await getBytes(res.body.rawUrl);
    expect(raw.headers.get("content-type")).toBe("image/jpeg");
    await expectNoMetadata(raw.bytes);
    // The red block is still in the top-left corner.
    const { data, info } = await rawPixels(raw.bytes);
    const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    expect(at(10, 10)[0]).toBeGreaterThan(180);
    expect(at(10, 10)[1]).toBeLessThan(80);
    expect(at(80, 50)).toEqual(expect.arrayContaining([expect.any(Number)]));
    expect(Math.min(...at(80, 50))).toBeGreaterThan(200);
  });

  it("HEIC with transparency becomes lossless WebP that keeps the alpha channel", async () => {
    const heic = readFileSync(path.join(import.meta.dirname, "../fixtures/alpha.heic"));
    const res = await upload(srv.baseUrl, heic, "sticker.heic");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ mime: "image/webp", width: 64, height: 48 });
    const raw = await getBytes(res.body.rawUrl);
    const { data, info } = await sharp(raw.bytes).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    const alpha = (x: number, y: number) => data[(y * info.width + x) * 4 + 3];
    expect(alpha(8, 8)).toBe(255); // the blue block
    expect(alpha(50, 40)).toBe(0); // transparent elsewhere
  });

  it("HEIC colour profiles are carried over, so wide-gamut colours stay right", async () => {
    const heic = readFileSync(path.join(import.meta.dirname, "../fixtures/photo-p3.heic"));
    const res = await upload(srv.baseUrl, heic, "IMG_1235.HEIC");
    expect(res.status).toBe(201);
    const raw = await getBytes(res.body.rawUrl);
    const stored = await sharp(raw.bytes).metadata();
    expect(stored.icc?.equals((await sharp(heic).metadata()).icc!)).toBe(true);
    await expectNoMetadata(raw.bytes);
  });

  it("P7: no table holds any of the stripped metadata", async () => {
    const rows = await sql<Record<string, unknown>>`select * from images`.execute(srv.px.db.db);
    const dump = JSON.stringify(rows.rows);
    for (const secret of SECRET_STRINGS) expect(dump).not.toContain(secret);
  });
});
