import { spawnSync } from "node:child_process";
import fs from "node:fs";
import exifr from "exifr";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transformJpeg } from "../../src/common/jpeg/index.js";
import { addJpegMetadata, pictureRaw } from "../fixtures/metadata.js";
import { getBytes, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const JPEGTRAN = "/usr/bin/jpegtran";
const haveJpegtran = fs.existsSync(JPEGTRAN);
if (!haveJpegtran) console.warn("\n*** jpegtran (libjpeg-turbo-progs) not found: the comparison with its rotation is SKIPPED ***\n");

/** A phone-style upload: 4:2:0 JPEG with a colour profile, EXIF (orientation 6, GPS, camera), XMP, IPTC. */
async function phonePhoto(width: number, height: number): Promise<Uint8Array> {
  const jpeg = await sharp(pictureRaw(width, height), { raw: { width, height, channels: 3 } })
    .withIccProfile("p3")
    .jpeg({ quality: 90 })
    .toBuffer();
  return addJpegMetadata(jpeg, 6);
}

async function pixels(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes).raw().toBuffer();
}

async function expectNoExif(bytes: Buffer): Promise<void> {
  const tags = await exifr.parse(bytes, { tiff: true, exif: true, gps: true, xmp: true, iptc: true, icc: false }).catch(() => undefined);
  expect(tags?.Orientation).toBeUndefined();
  expect(tags?.Make).toBeUndefined();
  expect(tags?.latitude).toBeUndefined();
  expect(bytes.includes("Exif\0\0", 0, "latin1")).toBe(false);
  expect((await sharp(bytes).metadata()).orientation).toBeUndefined();
}

describe("JPEG uploads with an orientation", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.stop());

  it("are turned losslessly when the MCU grid allows: the same pixels as jpegtran, upright, no EXIF", async () => {
    const original = await phonePhoto(320, 240); // 240 rows = 15 whole 16-pixel MCUs
    const res = await upload(srv.baseUrl, original, "IMG_0002.jpg");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ width: 240, height: 320, mime: "image/jpeg" });
    const stored = (await getBytes(res.body.rawUrl)).bytes;
    await expectNoExif(stored);
    expect((await sharp(stored).metadata()).icc?.equals((await sharp(original).metadata()).icc!)).toBe(true);
    // The stored file is exactly the DCT-domain rotation, not a re-encode.
    expect(stored.equals(Buffer.from(transformJpeg(original, 6)!))).toBe(true);
    if (haveJpegtran) {
      const reference = spawnSync(JPEGTRAN, ["-rotate", "90", "-perfect", "-copy", "icc"], { input: original });
      expect(reference.status).toBe(0);
      expect((await pixels(stored)).equals(await pixels(reference.stdout))).toBe(true);
    }
  });

  it("large ones get the thumbnail sharp would make from the stored file, made from the turn's 1/8-scale picture", async () => {
    // No colour profile (with one, the thumbnail is made from the file): many Android phones.
    const [width, height] = [4032, 3024];
    const jpeg = await sharp(pictureRaw(width / 8, height / 8), { raw: { width: width / 8, height: height / 8, channels: 3 } })
      .resize(width, height, { kernel: "cubic" })
      .jpeg({ quality: 90 })
      .toBuffer();
    const res = await upload(srv.baseUrl, await addJpegMetadata(jpeg, 6), "IMG_0004.jpg");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ width: 3024, height: 4032 });
    const stored = (await getBytes(res.body.rawUrl)).bytes;
    const thumb = await sharp((await getBytes(res.body.thumbUrl)).bytes).raw().toBuffer({ resolveWithObject: true });
    expect(thumb.info).toMatchObject({ width: 300, height: 400, channels: 3 });
    // Lossy WebP moves pixels by several levels on its own, far more than the two sources differ
    // (by rounding), so the thumbnail is held to the error sharp's own thumbnail has.
    const reference = await sharp(stored).resize(400, 400, { fit: "inside" }).raw().toBuffer();
    const sharpThumb = await sharp(await sharp(stored).resize(400, 400, { fit: "inside" }).webp({ quality: 75 }).toBuffer()).raw().toBuffer();
    const meanDiff = (a: Buffer): number => {
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - reference[i]!);
      return diff / a.length;
    };
    expect(meanDiff(thumb.data)).toBeLessThan(meanDiff(sharpThumb) + 0.2);
  });

  it("are re-encoded upright when the MCU grid does not allow a lossless turn", async () => {
    const original = await phonePhoto(320, 200); // 200 rows: a partial MCU would move to the left edge
    expect(transformJpeg(original, 6)).toBeNull();
    const res = await upload(srv.baseUrl, original, "IMG_0003.jpg");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ width: 200, height: 320, mime: "image/jpeg" });
    const stored = (await getBytes(res.body.rawUrl)).bytes;
    await expectNoExif(stored);
    // Upright: the red top-left block of the sensor's pixels is now at the top right.
    const { data, info } = await sharp(stored).raw().toBuffer({ resolveWithObject: true });
    const red = (x: number, y: number): boolean => {
      const i = (y * info.width + x) * info.channels;
      return data[i]! > 200 && data[i + 1]! < 60 && data[i + 2]! < 60;
    };
    expect(red(150, 80)).toBe(true);
    expect(red(50, 80)).toBe(false);
    expect(red(150, 240)).toBe(false);
  });
});
