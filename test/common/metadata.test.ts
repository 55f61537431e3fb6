import { crc32 } from "node:zlib";

import exifr from "exifr";
import { describe, expect, it } from "vitest";

import { MalformedImageError, stripMetadata, type StrippableFormat } from "../../src/common/metadata/index.js";
import { SECRETS, buildExif, jpegWithMetadata, pngWithMetadata } from "../fixtures/metadata.js";
import {
  EXIFR_OPTIONS,
  SECRET_TEXT,
  expectNothingPersonal,
  expectSamePixels,
  expectSecretsReadable,
  iccOf,
  leakedSecrets,
  plainImage,
  randomBytes,
} from "./metadata-helpers.js";

function segment(marker: number, payload: string | Uint8Array): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "latin1") : Buffer.from(payload);
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

async function plainJpeg(progressive = false): Promise<Buffer> {
  return plainImage().jpeg({ quality: 85, progressive }).toBuffer();
}

/** Inserts segments right after SOI. */
function withSegments(jpeg: Uint8Array, ...segments: Buffer[]): Uint8Array {
  return new Uint8Array(Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]));
}

describe("stripMetadata: JPEG", () => {
  it("P7: JPEG strip removes GPS, camera, dates, XMP, IPTC, comments and the embedded thumbnail without touching pixels", async () => {
    const input = await jpegWithMetadata({ orientation: 6 });
    await expectSecretsReadable(input);
    const before = await exifr.parse(input, EXIFR_OPTIONS);
    expect(before.City).toBe(SECRETS.xmp);
    expect(before.Byline).toBe(SECRETS.iptc);
    expect(await exifr.thumbnail(input)).toBeDefined();
    expect(leakedSecrets(input)).toEqual(SECRET_TEXT);
    const copy = input.slice();

    const { bytes, removed } = stripMetadata(input, "jpeg");

    expect(removed).toEqual(["EXIF", "XMP", "IPTC", "comment"]);
    await expectNothingPersonal(bytes);
    expect(await exifr.thumbnail(bytes)).toBeUndefined();
    await expectSamePixels(input, bytes);
    expect(input).toEqual(copy);
  });

  it("P7: JPEG strip keeps the ICC profile", async () => {
    const input = await jpegWithMetadata({ icc: true });
    const icc = await iccOf(input);
    expect(icc).toBeDefined();
    const { bytes } = stripMetadata(input, "jpeg");
    expect(await iccOf(bytes)).toEqual(icc);
    await expectNothingPersonal(bytes);
    await expectSamePixels(input, bytes);
  });

  it("P7: JPEG strip drops MPF previews after EOI and unknown APPn, keeps Adobe APP14", async () => {
    const jpeg = await plainJpeg();
    const preview = await jpegWithMetadata({ width: 16, height: 12 });
    const adobe = segment(0xee, Buffer.from([...Buffer.from("Adobe"), 0, 100, 0, 0, 0, 0, 1]));
    const input = Buffer.concat([
      withSegments(jpeg, segment(0xe2, "MPF\0II*\0fake-index"), segment(0xe5, "vendor-data"), adobe),
      preview,
    ]);
    const { bytes, removed } = stripMetadata(input, "jpeg");
    expect(removed).toEqual(["MPF", "APP5", "trailing data"]);
    expect(Buffer.from(bytes).includes(adobe)).toBe(true);
    expect(Buffer.from(bytes.subarray(-2))).toEqual(Buffer.from([0xff, 0xd9]));
    expect(leakedSecrets(bytes)).toEqual([]);
    await expectSamePixels(input, bytes);
  });

  it("P7: JPEG strip drops JFIF and JFXX thumbnails", async () => {
    const jfif = Buffer.from([...Buffer.from("JFIF\0"), 1, 2, 0, 0, 1, 0, 1, 1, 1, 255, 0, 0]);
    const jfxx = Buffer.from([...Buffer.from("JFXX\0"), 0x13, 1, 1, 255, 0, 0]);
    const jpeg = await plainJpeg();
    const input = withSegments(jpeg.subarray(0, 2), segment(0xe0, jfif), segment(0xe0, jfxx), jpeg.subarray(2));
    const { bytes, removed } = stripMetadata(input, "jpeg");
    expect(removed).toEqual(["JFIF thumbnail", "JFXX thumbnail"]);
    expect(Buffer.from(bytes.subarray(0, 20)).toString("hex")).toBe(
      Buffer.concat([Buffer.from([0xff, 0xd8]), segment(0xe0, jfif.subarray(0, 14).fill(0, 12))]).toString("hex"),
    );
    await expectSamePixels(input, bytes);
  });

  it("P7: JPEG strip removes comments between progressive scans", async () => {
    const jpeg = await plainJpeg(true);
    const secondScan = jpeg.indexOf(Buffer.from([0xff, 0xda]), jpeg.indexOf(Buffer.from([0xff, 0xda])) + 2);
    expect(secondScan).toBeGreaterThan(0);
    const input = Buffer.concat([
      jpeg.subarray(0, secondScan),
      segment(0xfe, SECRETS.comment),
      segment(0xe1, `Exif\0\0${SECRETS.serial}`),
      jpeg.subarray(secondScan),
    ]);
    const { bytes, removed } = stripMetadata(input, "jpeg");
    expect(removed).toEqual(["comment", "EXIF"]);
    expect(Buffer.from(bytes).equals(jpeg)).toBe(true);
    await expectSamePixels(input, bytes);
  });

  it("returns a JPEG whose entropy data ends without EOI", async () => {
    const jpeg = await plainJpeg();
    const input = withSegments(jpeg.subarray(0, -2), segment(0xfe, SECRETS.comment));
    const { bytes, removed } = stripMetadata(input, "jpeg");
    expect(removed).toEqual(["comment"]);
    expect(Buffer.from(bytes).equals(jpeg.subarray(0, -2))).toBe(true);
  });

  it("returns a JPEG without metadata byte-identical", async () => {
    const jpeg = new Uint8Array(await plainJpeg());
    const { bytes, removed } = stripMetadata(jpeg, "jpeg");
    expect(removed).toEqual([]);
    expect(bytes).toEqual(jpeg);
  });

  it("rejects truncated segments and non-JPEG bytes", async () => {
    const input = await jpegWithMetadata();
    expect(() => stripMetadata(input.subarray(0, 200), "jpeg")).toThrow(MalformedImageError);
    expect(() => stripMetadata(input.subarray(0, 3), "jpeg")).toThrow(MalformedImageError);
    expect(() => stripMetadata(randomBytes(4096), "jpeg")).toThrow(MalformedImageError);
    const garbage = withSegments(randomBytes(64), segment(0xfe, "x"));
    garbage[0] = 0xff;
    garbage[1] = 0xd8;
    expect(() => stripMetadata(garbage, "jpeg")).toThrow(MalformedImageError);
  });
});

function pngChunk(type: string, data: Uint8Array): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([head, typeAndData, crc]);
}

describe("stripMetadata: PNG", () => {
  it("P7: PNG strip removes EXIF, XMP, text comments and timestamps without touching pixels", async () => {
    const input = await pngWithMetadata();
    await expectSecretsReadable(input);
    expect((await exifr.parse(input, EXIFR_OPTIONS)).Comment).toBe(SECRETS.comment);

    const { bytes, removed } = stripMetadata(input, "png");

    expect(removed).toEqual(["EXIF", "text", "XMP", "timestamp"]);
    await expectNothingPersonal(bytes);
    expect(Buffer.from(bytes).includes("tIME")).toBe(false);
    await expectSamePixels(input, bytes);
  });

  it("P7: PNG strip keeps colour and layout chunks", async () => {
    const input = Buffer.from(await pngWithMetadata({ icc: true }));
    const phys = pngChunk("pHYs", Buffer.from([0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1]));
    const ihdrEnd = 8 + 12 + input.readUInt32BE(8);
    const withPhys = Buffer.concat([input.subarray(0, ihdrEnd), phys, input.subarray(ihdrEnd)]);
    const icc = await iccOf(withPhys);
    expect(icc).toBeDefined();
    const { bytes } = stripMetadata(withPhys, "png");
    expect(await iccOf(bytes)).toEqual(icc);
    expect(Buffer.from(bytes).includes(phys)).toBe(true);
    await expectNothingPersonal(bytes);
    await expectSamePixels(withPhys, bytes);
  });

  it("returns a PNG without metadata byte-identical", async () => {
    const png = new Uint8Array(await plainImage().png().toBuffer());
    const { bytes, removed } = stripMetadata(png, "png");
    expect(removed).toEqual([]);
    expect(bytes).toEqual(png);
  });

  it("rejects truncated chunks and non-PNG bytes", async () => {
    const input = await pngWithMetadata();
    expect(() => stripMetadata(input.subarray(0, input.length - 20), "png")).toThrow(MalformedImageError);
    expect(() => stripMetadata(input.subarray(0, 40), "png")).toThrow(MalformedImageError);
    expect(() => stripMetadata(randomBytes(4096), "png")).toThrow(MalformedImageError);
  });
});

describe("stripMetadata: EXIF fixture", () => {
  it("builds an EXIF block that exifr reads completely", async () => {
    const thumbnail = await plainJpeg();
    const exif = buildExif({ orientation: 3, thumbnail });
    const parsed = await exifr.parse(exif.subarray(6), EXIFR_OPTIONS);
    expect(parsed.Orientation).toBe("Rotate 180");
    expect(parsed.SerialNumber).toBe(SECRETS.serial);
  });

  it("refuses formats it does not know", () => {
    expect(() => stripMetadata(new Uint8Array(16), "tiff" as StrippableFormat)).toThrow(MalformedImageError);
  });
});
