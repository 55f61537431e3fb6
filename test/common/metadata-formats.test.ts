import sharp from "sharp";
import { describe, expect, it } from "vitest";

import { MalformedImageError, stripMetadata } from "../../src/common/metadata/index.js";
import { SECRETS, avifWithMetadata, gifWithMetadata, webpWithMetadata } from "../fixtures/metadata.js";
import {
  expectNothingPersonal,
  expectSamePixels,
  expectSecretsReadable,
  iccOf,
  leakedSecrets,
  plainImage,
  randomBytes,
} from "./metadata-helpers.js";

function riffChunks(webp: Uint8Array): { type: string; data: Buffer }[] {
  const buf = Buffer.from(webp);
  const chunks: { type: string; data: Buffer }[] = [];
  for (let pos = 12; pos < buf.length; ) {
    const size = buf.readUInt32LE(pos + 4);
    chunks.push({ type: buf.toString("latin1", pos, pos + 4), data: buf.subarray(pos + 8, pos + 8 + size) });
    pos += 8 + size + (size & 1);
  }
  return chunks;
}

describe("stripMetadata: WebP", () => {
  it("P7: WebP strip removes EXIF and XMP, clears their flags and keeps the ICC profile", async () => {
    const input = await webpWithMetadata({ icc: true });
    const exifChunk = riffChunks(input).find((c) => c.type === "EXIF");
    await expectSecretsReadable(exifChunk!.data);
    expect(leakedSecrets(input)).toEqual(expect.arrayContaining([SECRETS.xmp, SECRETS.serial]));
    const icc = await iccOf(input);
    expect(icc).toBeDefined();

    const { bytes, removed } = stripMetadata(input, "webp");

    expect(removed).toEqual(["EXIF", "XMP"]);
    const chunks = riffChunks(bytes);
    expect(chunks.map((c) => c.type)).not.toContain("EXIF");
    expect(chunks.map((c) => c.type)).not.toContain("XMP ");
    expect(chunks[0]!.type).toBe("VP8X");
    expect(chunks[0]!.data[0]! & 0x0c).toBe(0);
    expect(Buffer.from(bytes).readUInt32LE(4)).toBe(bytes.length - 8);
    expect(leakedSecrets(bytes)).toEqual([]);
    const meta = await sharp(bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(await iccOf(bytes)).toEqual(icc);
    await expectSamePixels(input, bytes);
  });

  it("P7: WebP strip keeps every animation frame", async () => {
    const input = await webpWithMetadata({ frames: 3 });
    const { bytes } = stripMetadata(input, "webp");
    expect(leakedSecrets(bytes)).toEqual([]);
    expect((await sharp(bytes).metadata()).pages).toBe(3);
    expect(riffChunks(bytes).filter((c) => c.type === "ANMF")).toHaveLength(3);
    await expectSamePixels(input, bytes, true);
  });

  it("respects the padding byte of odd-sized chunks", async () => {
    const input = Buffer.from(await webpWithMetadata());
    const odd = Buffer.from("ABCD\x03\0\0\0xyz\0", "latin1");
    // The odd chunk comes before the bitstream, so misreading its padding would lose the picture.
    const extended = Buffer.concat([input.subarray(0, 30), odd, input.subarray(30)]);
    extended.writeUInt32LE(extended.length - 8, 4);
    const { bytes, removed } = stripMetadata(extended, "webp");
    expect(removed).toEqual(["unrecognised data", "EXIF", "XMP"]);
    expect(riffChunks(bytes).map((c) => c.type)).not.toContain("ABCD");
    await expectSamePixels(extended, bytes);
  });

  it("returns a WebP without metadata byte-identical", async () => {
    const webp = new Uint8Array(await plainImage().webp().toBuffer());
    const { bytes, removed } = stripMetadata(webp, "webp");
    expect(removed).toEqual([]);
    expect(bytes).toEqual(webp);
  });

  it("rejects truncated chunks and non-WebP bytes", async () => {
    const input = Buffer.from(await webpWithMetadata());
    expect(() => stripMetadata(input.subarray(0, input.length - 10), "webp")).toThrow(MalformedImageError);
    const lying = Buffer.from(input);
    const exifAt = lying.indexOf("EXIF");
    lying.writeUInt32LE(0x7fffffff, exifAt + 4);
    expect(() => stripMetadata(lying, "webp")).toThrow(MalformedImageError);
    expect(() => stripMetadata(randomBytes(4096), "webp")).toThrow(MalformedImageError);
  });
});

describe("stripMetadata: GIF", () => {
  it("P7: GIF strip removes comments and XMP without touching frames or looping", async () => {
    const input = await gifWithMetadata({ frames: 3 });
    expect(leakedSecrets(input)).toEqual(expect.arrayContaining([SECRETS.xmp, SECRETS.comment, SECRETS.make]));
    const before = await sharp(input).metadata();

    const { bytes, removed } = stripMetadata(input, "gif");

    expect(removed).toEqual(["comment", "XMP"]);
    expect(leakedSecrets(bytes)).toEqual([]);
    expect(Buffer.from(bytes).includes("XMP DataXMP")).toBe(false);
    expect(Buffer.from(bytes).includes("NETSCAPE2.0")).toBe(true);
    const after = await sharp(bytes).metadata();
    expect(after.pages).toBe(3);
    expect(after.pages).toBe(before.pages);
    expect(after.loop).toBe(before.loop);
    expect(after.delay).toEqual(before.delay);
    await expectSamePixels(input, bytes, true);
  });

  it("P7: GIF strip handles a still image", async () => {
    const input = await gifWithMetadata();
    const { bytes, removed } = stripMetadata(input, "gif");
    expect(removed).toEqual(["comment", "XMP"]);
    expect(leakedSecrets(bytes)).toEqual([]);
    await expectSamePixels(input, bytes);
  });

  it("returns a GIF without metadata byte-identical", async () => {
    const gif = new Uint8Array(await plainImage().gif().toBuffer());
    const { bytes, removed } = stripMetadata(gif, "gif");
    expect(removed).toEqual([]);
    expect(bytes).toEqual(gif);
  });

  it("rejects truncated blocks and non-GIF bytes", async () => {
    const input = await gifWithMetadata();
    expect(() => stripMetadata(input.subarray(0, input.length - 30), "gif")).toThrow(MalformedImageError);
    expect(() => stripMetadata(input.subarray(0, 10), "gif")).toThrow(MalformedImageError);
    expect(() => stripMetadata(randomBytes(4096), "gif")).toThrow(MalformedImageError);
  });
});

describe("stripMetadata: AVIF", () => {
  it.each([
    ["extent offsets", false],
    ["base offsets", true],
  ])(
    "P7: AVIF strip removes the Exif and XMP items (%s) without touching pixels",
    async (_layout, baseOffsets) => {
      const input = await avifWithMetadata({ icc: true, baseOffsets });
      if (!baseOffsets) await expectSecretsReadable(input);
      expect(leakedSecrets(input)).toEqual(expect.arrayContaining([SECRETS.serial, SECRETS.lens, SECRETS.xmp]));
      const icc = await iccOf(input);
      expect(icc).toBeDefined();
      const copy = input.slice();

      const { bytes, removed } = stripMetadata(input, "avif");

      expect(removed).toEqual(["EXIF", "XMP"]);
      await expectNothingPersonal(bytes);
      const meta = await sharp(bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(await iccOf(bytes)).toEqual(icc);
      expect(bytes.length).toBeLessThan(input.length);
      await expectSamePixels(input, bytes);
      expect(input).toEqual(copy);
    },
  );

  it("returns an AVIF without metadata byte-identical", async () => {
    const avif = new Uint8Array(await plainImage().avif().toBuffer());
    const { bytes, removed } = stripMetadata(avif, "avif");
    expect(removed).toEqual([]);
    expect(bytes).toEqual(avif);
  });

  it("rejects truncated boxes and non-ISOBMFF bytes", async () => {
    const input = await avifWithMetadata();
    expect(() => stripMetadata(input.subarray(0, 200), "avif")).toThrow(MalformedImageError);
    expect(() => stripMetadata(input.subarray(0, input.length - 100), "avif")).toThrow(MalformedImageError);
    expect(() => stripMetadata(randomBytes(4096), "avif")).toThrow(MalformedImageError);
  });
});
