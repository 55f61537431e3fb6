import sharp from "sharp";
import { describe, expect, it } from "vitest";

import { MalformedImageError, stripMetadata } from "../../src/common/metadata/index.js";
import { CREATOR, c2paManifestStore, invalidIccProfiles, pngChunk, validIccProfile, withPngChunks, withPngIccProfile } from "../fixtures/metadata-attacks.js";
import { expectSamePixels } from "./metadata-helpers.js";

async function plainPng(width = 64, height = 64): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 20, g: 120, b: 200, alpha: 0.5 } } }).png().toBuffer();
}

function chunkTypes(png: Uint8Array): string[] {
  const buf = Buffer.from(png);
  const types: string[] = [];
  for (let pos = 8; pos < buf.length; pos += 12 + buf.readUInt32BE(pos)) types.push(buf.toString("latin1", pos + 4, pos + 8));
  return types;
}

function has(bytes: Uint8Array, text: string): boolean {
  return Buffer.from(bytes).includes(text, 0, "latin1");
}

describe("stripMetadata: PNG keeps only what rendering needs", () => {
  it("P7: a C2PA caBX chunk in a PNG is removed, pixels unchanged", async () => {
    const input = withPngChunks(await plainPng(), pngChunk("caBX", c2paManifestStore()));
    expect(has(input, CREATOR)).toBe(true);
    const { bytes, removed } = stripMetadata(input, "png");
    expect(removed).toEqual(["C2PA content credentials"]);
    expect(has(bytes, CREATOR)).toBe(false);
    expect(has(bytes, "caBX")).toBe(false);
    await expectSamePixels(input, bytes);
  });

  it("P7: private and unknown PNG chunks are removed, rendering chunks kept, pixels unchanged", async () => {
    const phys = pngChunk("pHYs", Buffer.from([0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1]));
    const gama = pngChunk("gAMA", Buffer.from([0, 0, 0xb1, 0x8f]));
    const png = await plainPng();
    const input = withPngChunks(
      png,
      gama,
      pngChunk("prVt", Buffer.from(CREATOR, "latin1")),
      phys,
      pngChunk("bKGD", Buffer.from([0, 1, 0, 2, 0, 3])),
      pngChunk("zzZz", Buffer.from(`future ${CREATOR}`, "latin1")),
    );
    const { bytes, removed } = stripMetadata(input, "png");
    expect(removed).toEqual(["unrecognised data", "background colour"]);
    expect(has(bytes, CREATOR)).toBe(false);
    expect(chunkTypes(bytes)).toEqual(["IHDR", "gAMA", "pHYs", ...chunkTypes(png).slice(1)]);
    expect(Buffer.from(bytes).includes(phys) && Buffer.from(bytes).includes(gama)).toBe(true);
    await expectSamePixels(input, bytes);
  });

  it("keeps an APNG's animation chunks", async () => {
    // libvips writes still PNGs only: the animation chunks are added by hand around a still frame.
    const still = await plainPng(16, 16);
    const actl = pngChunk("acTL", Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]));
    const fctl = pngChunk("fcTL", Buffer.from([0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 10, 0, 0]));
    const input = withPngChunks(still, actl, fctl, pngChunk("tEXt", Buffer.from(`Author\0${CREATOR}`, "latin1")));
    const { bytes, removed } = stripMetadata(input, "png");
    expect(removed).toEqual(["text"]);
    expect(chunkTypes(bytes).slice(0, 3)).toEqual(["IHDR", "acTL", "fcTL"]);
  });

  it("a PNG chunk with a broken CRC throws MalformedImageError", async () => {
    const png = Buffer.from(await plainPng());
    const idat = png.indexOf("IDAT", 8, "latin1");
    const crcAt = idat + 4 + png.readUInt32BE(idat - 4);
    png[crcAt] = png[crcAt]! ^ 0x01;
    expect(() => stripMetadata(png, "png")).toThrow(MalformedImageError);
    expect(() => stripMetadata(png, "png")).toThrow(/IDAT chunk fails its CRC/);
  });

  it("a broken CRC in a chunk that is dropped anyway does not matter", async () => {
    const text = pngChunk("tEXt", Buffer.from(`Author\0${CREATOR}`, "latin1"));
    text[text.length - 1] = text[text.length - 1]! ^ 0xff;
    const input = withPngChunks(await plainPng(), text);
    expect(stripMetadata(input, "png").removed).toEqual(["text"]);
  });

  it("keeps a valid ICC profile byte-exact", async () => {
    const profile = await validIccProfile();
    const input = withPngIccProfile(await plainPng(), profile);
    const { bytes, removed } = stripMetadata(input, "png");
    expect(removed).toEqual([]);
    expect(bytes).toBe(input);
    expect((await sharp(bytes).metadata()).icc).toEqual(profile);
  });

  it("drops invalid and oversized ICC profiles", async () => {
    const png = await plainPng();
    for (const [why, profile] of Object.entries(await invalidIccProfiles())) {
      const input = withPngIccProfile(png, profile);
      const { bytes, removed } = stripMetadata(input, "png");
      expect(removed, why).toEqual(["invalid ICC profile"]);
      expect(chunkTypes(bytes), why).not.toContain("iCCP");
      expect(has(bytes, CREATOR), why).toBe(false);
    }
    const input = withPngIccProfile(png, (await invalidIccProfiles())["no acsp signature"]!);
    await expectSamePixels(input, stripMetadata(input, "png").bytes);
  });

  it("drops an iCCP whose stream inflates past the cap without inflating it all (deflate bomb)", async () => {
    const { zlibSync } = await import("fflate");
    const bomb = zlibSync(new Uint8Array(32 * 1024 * 1024), { level: 9 }); // 32 KiB that inflate to 32 MiB
    const iccp = pngChunk("iCCP", Buffer.concat([Buffer.from("icc\0\0", "latin1"), bomb]));
    const input = withPngChunks(await plainPng(), iccp);
    const started = performance.now();
    expect(stripMetadata(input, "png").removed).toEqual(["invalid ICC profile"]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("drops an iCCP whose stream is not zlib", async () => {
    const iccp = pngChunk("iCCP", Buffer.from(`icc\0\0${CREATOR}`, "latin1"));
    const input = withPngChunks(await plainPng(), iccp);
    expect(stripMetadata(input, "png").removed).toEqual(["invalid ICC profile"]);
  });
});
