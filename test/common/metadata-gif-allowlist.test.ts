import sharp from "sharp";
import { describe, expect, it } from "vitest";

import { MalformedImageError, stripMetadata } from "../../src/common/metadata/index.js";
import { CREATOR, SCRIPT, c2paManifestStore, gifExtension, invalidIccProfiles, validIccProfile, withGifBlocks } from "../fixtures/metadata-attacks.js";
import { gifWithMetadata } from "../fixtures/metadata.js";
import { expectSamePixels } from "./metadata-helpers.js";

const latin1 = (text: string) => Buffer.from(text, "latin1");

function has(bytes: Uint8Array, text: string): boolean {
  return Buffer.from(bytes).includes(text, 0, "latin1");
}

describe("stripMetadata: GIF keeps only what rendering needs", () => {
  it("P7: an unknown GIF application extension, a comment and plain text are removed, frames unchanged", async () => {
    const gif = await gifWithMetadata({ frames: 3 });
    const input = withGifBlocks(
      gif,
      gifExtension(0xff, latin1("VENDORAPP1.0"), Buffer.from(CREATOR)),
      gifExtension(0xfe, Buffer.from(`made by ${CREATOR}`)),
      gifExtension(0x01, Buffer.alloc(12), Buffer.from(SCRIPT)),
      gifExtension(0xff, latin1("C2PA_GIF1.0"), c2paManifestStore()),
      gifExtension(0x77, Buffer.from(CREATOR)),
    );
    const { bytes, removed } = stripMetadata(input, "gif");
    expect(removed).toEqual(["application data", "comment", "text", "C2PA content credentials", "unrecognised data", "XMP"]);
    expect(has(bytes, CREATOR) || has(bytes, SCRIPT) || has(bytes, "VENDORAPP")).toBe(false);
    const [before, after] = await Promise.all([sharp(input).metadata(), sharp(bytes).metadata()]);
    expect([after.pages, after.loop, after.delay]).toEqual([3, before.loop, before.delay]);
    await expectSamePixels(input, bytes, true);
  });

  it("P7: data hidden in extra sub-blocks of kept extensions is cut off, timing and looping unchanged", async () => {
    const gif = Buffer.from(await gifWithMetadata({ frames: 2 }));
    const gce = gif.indexOf(Buffer.from([0x21, 0xf9, 0x04]));
    const netscape = gif.indexOf("NETSCAPE2.0", 0, "latin1") - 3;
    expect(gce > netscape && netscape > 0).toBe(true);
    const hidden = Buffer.from([CREATOR.length, ...Buffer.from(CREATOR)]);
    const input = Buffer.concat([
      gif.subarray(0, netscape + 18), // NETSCAPE2.0 header and its loop sub-block
      hidden,
      gif.subarray(netscape + 18, gce + 7), // ...up to the graphic control's 4 bytes
      hidden,
      gif.subarray(gce + 7),
    ]);
    const { bytes, removed } = stripMetadata(input, "gif");
    expect(removed).toContain("application data");
    expect(removed).toContain("unrecognised data");
    expect(has(bytes, CREATOR)).toBe(false);
    const [before, after] = await Promise.all([sharp(input, { animated: true }).metadata(), sharp(bytes, { animated: true }).metadata()]);
    expect([after.pages, after.loop, after.delay]).toEqual([2, before.loop, before.delay]);
    await expectSamePixels(input, bytes, true);
  });

  it("rejects a graphic control extension of the wrong size", async () => {
    const input = withGifBlocks(await gifWithMetadata(), gifExtension(0xf9, Buffer.alloc(6)));
    expect(() => stripMetadata(input, "gif")).toThrow(MalformedImageError);
  });

  it("keeps a valid ICC profile byte-exact and drops invalid or oversized ones", async () => {
    const gif = await gifWithMetadata();
    const profile = await validIccProfile();
    const valid = gifExtension(0xff, latin1("ICCRGBG1012"), profile);
    const { bytes, removed } = stripMetadata(withGifBlocks(gif, valid), "gif");
    expect(removed).toEqual(["comment", "XMP"]);
    expect(Buffer.from(bytes).includes(valid)).toBe(true);

    for (const [why, bad] of Object.entries(await invalidIccProfiles())) {
      const input = withGifBlocks(gif, gifExtension(0xff, latin1("ICCRGBG1012"), bad));
      const stripped = stripMetadata(input, "gif");
      expect(stripped.removed, why).toEqual(["invalid ICC profile", "comment", "XMP"]);
      expect(has(stripped.bytes, "ICCRGBG1012"), why).toBe(false);
    }
  });
});
