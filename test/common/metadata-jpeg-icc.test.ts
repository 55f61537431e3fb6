import sharp from "sharp";
import { describe, expect, it } from "vitest";

import { stripMetadata } from "../../src/common/metadata/index.js";
import { CREATOR, c2paManifestStore, invalidIccProfiles, validIccProfile } from "../fixtures/metadata-attacks.js";
import { expectSamePixels, plainImage } from "./metadata-helpers.js";

function segment(marker: number, payload: Uint8Array): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** An ICC profile cut into `pieces` numbered APP2 segments, as encoders do past 64 KiB. */
function iccSegments(profile: Uint8Array, pieces: number, numbering = (i: number) => [i + 1, pieces]): Buffer[] {
  const size = Math.ceil(profile.length / pieces);
  return Array.from({ length: pieces }, (_, i) =>
    segment(0xe2, Buffer.concat([Buffer.from("ICC_PROFILE\0", "latin1"), Buffer.from(numbering(i)), profile.subarray(i * size, (i + 1) * size)])),
  );
}

async function jpegWith(...segments: Buffer[]): Promise<Buffer> {
  const jpeg = await plainImage().jpeg({ quality: 85 }).toBuffer();
  const at = 4 + jpeg.readUInt16BE(4); // after JFIF
  return Buffer.concat([jpeg.subarray(0, at), ...segments, jpeg.subarray(at)]);
}

describe("stripMetadata: JPEG colour profiles and C2PA", () => {
  it("keeps a valid ICC profile split over several segments byte-exact", async () => {
    const profile = await validIccProfile();
    const input = await jpegWith(...iccSegments(profile, 3));
    const { bytes, removed } = stripMetadata(input, "jpeg");
    expect(removed).toEqual([]);
    expect(bytes).toBe(input);
    expect((await sharp(bytes).metadata()).icc).toEqual(profile);
  });

  it("drops invalid and oversized ICC profiles", async () => {
    for (const [why, profile] of Object.entries(await invalidIccProfiles())) {
      const pieces = Math.max(1, Math.ceil(profile.length / 65000));
      const input = await jpegWith(...iccSegments(profile, pieces));
      const { bytes, removed } = stripMetadata(input, "jpeg");
      expect(removed, why).toEqual(["invalid ICC profile"]);
      expect(Buffer.from(bytes).includes("ICC_PROFILE"), why).toBe(false);
      expect(Buffer.from(bytes).includes(CREATOR), why).toBe(false);
    }
  });

  it("drops an ICC profile whose segments are missing, repeated or misnumbered", async () => {
    const profile = await validIccProfile();
    const cases: Record<string, Buffer[]> = {
      "a piece missing": iccSegments(profile, 3).slice(0, 2),
      "a piece repeated": [...iccSegments(profile, 2), iccSegments(profile, 2)[1]!],
      "numbered from 0": iccSegments(profile, 2, (i) => [i, 2]),
      "counts disagree": iccSegments(profile, 2, (i) => [i + 1, 2 + i]),
    };
    for (const [why, segments] of Object.entries(cases)) {
      const input = await jpegWith(...segments);
      const { bytes, removed } = stripMetadata(input, "jpeg");
      expect(removed, why).toEqual(["invalid ICC profile"]);
      // The input's pixels may be read through the broken profile, so compare with the file without one.
      await expectSamePixels(await jpegWith(), bytes);
    }
  });

  it("P7: a C2PA manifest in JPEG APP11 is removed, pixels unchanged", async () => {
    const input = await jpegWith(segment(0xeb, Buffer.concat([Buffer.from("JP\0\0\0\0\0\x01"), c2paManifestStore()])));
    const { bytes, removed } = stripMetadata(input, "jpeg");
    expect(removed).toEqual(["C2PA content credentials"]);
    expect(Buffer.from(bytes).includes(CREATOR)).toBe(false);
    await expectSamePixels(input, bytes);
  });
});
