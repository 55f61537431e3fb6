import sharp from "sharp";
import { describe, expect, it } from "vitest";

import { stripMetadata } from "../../src/common/metadata/index.js";
import { CREATOR, SCRIPT, c2paManifestStore, invalidIccProfiles, riffChunk, validIccProfile, withWebpChunks, withWebpIccProfile } from "../fixtures/metadata-attacks.js";
import { webpWithMetadata } from "../fixtures/metadata.js";
import { expectSamePixels, leakedSecrets } from "./metadata-helpers.js";

function chunkTypes(webp: Uint8Array, from = 12, to = webp.length): string[] {
  const buf = Buffer.from(webp);
  const types: string[] = [];
  for (let pos = from; pos < to; ) {
    const size = buf.readUInt32LE(pos + 4);
    types.push(buf.toString("latin1", pos, pos + 4));
    pos += 8 + size + (size & 1);
  }
  return types;
}

function frameChunkTypes(webp: Uint8Array): string[][] {
  const buf = Buffer.from(webp);
  const frames: string[][] = [];
  for (let pos = 12; pos < buf.length; ) {
    const size = buf.readUInt32LE(pos + 4);
    if (buf.toString("latin1", pos, pos + 4) === "ANMF") frames.push(chunkTypes(buf, pos + 8 + 16, pos + 8 + size));
    pos += 8 + size + (size & 1);
  }
  return frames;
}

function has(bytes: Uint8Array, text: string): boolean {
  return Buffer.from(bytes).includes(text, 0, "latin1");
}

describe("stripMetadata: WebP keeps only what rendering needs", () => {
  it("P7: an unknown WebP chunk holding a script is removed, pixels unchanged", async () => {
    const input = withWebpChunks(await webpWithMetadata(), [riffChunk("htMl", Buffer.from(SCRIPT)), riffChunk("C2PA", c2paManifestStore())]);
    const { bytes, removed } = stripMetadata(input, "webp");
    expect(removed).toEqual(["EXIF", "XMP", "unrecognised data", "C2PA content credentials"]);
    expect(has(bytes, SCRIPT) || has(bytes, CREATOR) || has(bytes, "htMl")).toBe(false);
    expect(leakedSecrets(bytes)).toEqual([]);
    expect(chunkTypes(bytes)).toEqual(["VP8X", "VP8 "]);
    expect(Buffer.from(bytes).readUInt32LE(4)).toBe(bytes.length - 8);
    await expectSamePixels(input, bytes);
  });

  it("P7: unknown chunks inside an animation frame are removed, every frame unchanged", async () => {
    const input = withWebpChunks(await webpWithMetadata({ frames: 3 }), [riffChunk("htMl", Buffer.from(SCRIPT)), riffChunk("odd!", Buffer.from("abc"))], true);
    expect(frameChunkTypes(input)[0]).toContain("htMl");
    const { bytes, removed } = stripMetadata(input, "webp");
    expect(removed).toEqual(["unrecognised data", "EXIF", "XMP"]);
    expect(has(bytes, SCRIPT) || has(bytes, "htMl")).toBe(false);
    const frames = frameChunkTypes(bytes);
    expect(frames).toHaveLength(3);
    for (const frame of frames) expect(frame.every((type) => ["ALPH", "VP8 ", "VP8L"].includes(type))).toBe(true);
    expect((await sharp(bytes, { animated: true }).metadata()).pages).toBe(3);
    await expectSamePixels(input, bytes, true);
  });

  it("keeps a valid ICC profile byte-exact", async () => {
    const input = await webpWithMetadata({ icc: true });
    const profile = await validIccProfile();
    const { bytes } = stripMetadata(withWebpIccProfile(input, profile), "webp");
    expect((await sharp(bytes).metadata()).icc).toEqual(profile);
    expect(Buffer.from(bytes).includes(profile)).toBe(true);
  });

  it("drops invalid and oversized ICC profiles and clears the ICC flag", async () => {
    const webp = await webpWithMetadata({ icc: true });
    for (const [why, profile] of Object.entries(await invalidIccProfiles())) {
      const input = withWebpIccProfile(webp, profile);
      const { bytes, removed } = stripMetadata(input, "webp");
      expect(removed, why).toContain("invalid ICC profile");
      expect(chunkTypes(bytes), why).not.toContain("ICCP");
      expect(bytes[20]! & 0x20, why).toBe(0);
      expect(has(bytes, CREATOR), why).toBe(false);
      if (why === "no acsp signature") await expectSamePixels(input, bytes);
    }
  });
});
