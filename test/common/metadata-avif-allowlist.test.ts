import sharp from "sharp";
import { describe, expect, it } from "vitest";

import { stripMetadata } from "../../src/common/metadata/index.js";
import { readBoxes } from "../../src/common/metadata/isobmff-boxes.js";
import { C2PA_UUID, CREATOR, box, boxStart, c2paManifestStore, insertIntoIsobmff, invalidIccProfiles } from "../fixtures/metadata-attacks.js";
import { avifWithMetadata } from "../fixtures/metadata.js";
import { expectNothingPersonal, expectSamePixels, iccOf } from "./metadata-helpers.js";

function has(bytes: Uint8Array, text: string): boolean {
  return Buffer.from(bytes).includes(text, 0, "latin1");
}

const c2paUuidBox = () => box("uuid", C2PA_UUID, Buffer.from("manifest\0"), c2paManifestStore());

function topTypes(file: Uint8Array): string[] {
  return readBoxes(file, 0, file.length).map((b) => b.type);
}

describe("stripMetadata: AVIF keeps only what rendering needs", () => {
  it("P7: C2PA uuid and jumb boxes at the top level are removed, pixels unchanged", async () => {
    const avif = await avifWithMetadata();
    const mdat = boxStart(avif, ["mdat"]);
    // One before mdat, so the image data moves and its offsets must follow; one at the end.
    let input = insertIntoIsobmff(avif, mdat.start, c2paUuidBox(), []);
    input = Buffer.concat([input, c2paManifestStore(), box("zzzz", Buffer.from(CREATOR))]);
    expect(topTypes(input)).toEqual(["ftyp", "meta", "uuid", "mdat", "jumb", "zzzz"]);
    const { bytes, removed } = stripMetadata(input, "avif");
    expect(removed).toEqual(["C2PA content credentials", "unrecognised data", "EXIF", "XMP"]);
    expect(topTypes(bytes)).toEqual(["ftyp", "meta", "mdat"]);
    expect(has(bytes, CREATOR)).toBe(false);
    await expectNothingPersonal(bytes);
    await expectSamePixels(input, bytes);
  });

  it("P7: C2PA boxes and private properties inside meta are removed, pixels unchanged", async () => {
    const avif = await avifWithMetadata();
    const meta = boxStart(avif, ["meta"]);
    const ipco = boxStart(avif, ["meta", "iprp", "ipco"]);
    const iprp = boxStart(avif, ["meta", "iprp"]);
    let input = insertIntoIsobmff(avif, ipco.end, box("udes", Buffer.alloc(4), Buffer.from(`en\0${CREATOR}\0\0\0`)), [meta.start, iprp.start, ipco.start]);
    input = insertIntoIsobmff(input, boxStart(input, ["meta"]).end, Buffer.concat([c2paUuidBox(), c2paManifestStore()]), [meta.start]);
    const { bytes, removed } = stripMetadata(input, "avif");
    expect(removed).toEqual(["C2PA content credentials", "EXIF", "XMP", "text"]);
    expect(has(bytes, CREATOR) || has(bytes, "jumb") || has(bytes, "udes")).toBe(false);
    await expectNothingPersonal(bytes);
    await expectSamePixels(input, bytes);
  });

  it("P7: bytes in mdat that no item points at are zeroed", async () => {
    const avif = await avifWithMetadata();
    const mdat = boxStart(avif, ["mdat"]);
    const input = insertIntoIsobmff(avif, mdat.end, Buffer.from(CREATOR), [mdat.start]);
    const { bytes, removed } = stripMetadata(input, "avif");
    expect(removed).toEqual(["EXIF", "XMP", "unreferenced data"]);
    expect(has(bytes, CREATOR)).toBe(false);
    await expectSamePixels(input, bytes);
  });

  it("keeps a valid ICC profile byte-exact and drops invalid ones", async () => {
    const avif = Buffer.from(await avifWithMetadata({ icc: true }));
    const icc = (await iccOf(avif))!;
    const { bytes } = stripMetadata(avif, "avif");
    expect(await iccOf(bytes)).toEqual(icc);
    expect(Buffer.from(bytes).includes(icc)).toBe(true);

    const at = avif.indexOf(icc);
    for (const [why, bad] of Object.entries(await invalidIccProfiles())) {
      if (bad.length !== icc.length) continue; // same-size corruptions keep the fixture simple
      const input = Buffer.from(avif);
      bad.copy(input, at);
      const stripped = stripMetadata(input, "avif");
      expect(stripped.removed, why).toEqual(["EXIF", "XMP", "invalid ICC profile"]);
      expect(await iccOf(stripped.bytes), why).toBeUndefined();
      // The coded picture is untouched (its decoded colours differ, since the broken profile is gone).
      const mdatOf = (file: Uint8Array) => Buffer.from(file.subarray(boxStart(file, ["mdat"]).payload, boxStart(file, ["mdat"]).end));
      expect(mdatOf(stripped.bytes).equals(mdatOf(bytes)), why).toBe(true);
      expect((await sharp(stripped.bytes).raw().toBuffer()).length, why).toBeGreaterThan(0);
    }
  });
});
