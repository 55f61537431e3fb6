import fs from "node:fs/promises";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { exifCategories } from "../../src/common/tools/metadata-report.js";
import { SECRETS, buildExif, gifWithMetadata, jpegWithMetadata, pngWithMetadata, webpWithMetadata } from "../fixtures/metadata.js";
import { SECRET_TEXT, expectSamePixels } from "../common/metadata-helpers.js";
import { expectAppError, expectNoMetadata, useHarness } from "./harness.js";

const h = useHarness();

describe("strip", () => {
  it("removes everything without touching the pixels, and reports categories, never values", async () => {
    const input = await jpegWithMetadata({ width: 64, height: 48 });
    const result = await h.run("strip", input, {});
    const out = await fs.readFile(result.outputs[0]!.path);
    await expectNoMetadata(out);
    await expectSamePixels(input, out);
    expect(result.outputs[0]).toMatchObject({ name: "photo.jpg", mime: "image/jpeg", width: 64, height: 48 });
    expect(result.report).toMatchObject({
      found: [
        "GPS position",
        "camera make and model",
        "serial numbers and unique IDs",
        "lens",
        "capture and edit dates",
        "software",
        "descriptions and comments",
        "embedded thumbnail",
        "XMP",
        "IPTC",
      ],
      orientation: null,
      pixels: "identical",
      bytesBefore: input.length,
    });
    const json = JSON.stringify(result.report);
    for (const secret of [...SECRET_TEXT, String(SECRETS.gpsLatitude), "48,51", "2,17"]) expect(json).not.toContain(secret);
  });

  it.each([
    ["png", pngWithMetadata, "image/png"],
    ["webp", webpWithMetadata, "image/webp"],
    ["gif", gifWithMetadata, "image/gif"],
  ] as const)("strips %s losslessly in its own format", async (_format, build, mime) => {
    const input = await build({ width: 40, height: 30 });
    const result = await h.run("strip", input, {}, { name: `x.${_format}` });
    expect(result.outputs[0]!.mime).toBe(mime);
    const out = await fs.readFile(result.outputs[0]!.path);
    await expectNoMetadata(out);
    await expectSamePixels(input, out);
    expect(result.report!.found).toContain("XMP");
  });

  it("turns a JPEG upright losslessly when its blocks allow, and re-encodes it otherwise", async () => {
    const aligned = await h.run("strip", await jpegWithMetadata({ width: 64, height: 48, orientation: 6 }), {});
    expect(aligned.outputs[0]).toMatchObject({ width: 48, height: 64 });
    expect(aligned.report).toMatchObject({ orientation: { tag: 6, applied: true }, pixels: "identical, turned losslessly" });
    const ragged = await h.run("strip", await jpegWithMetadata({ width: 60, height: 44, orientation: 6 }), {});
    expect(ragged.outputs[0]).toMatchObject({ width: 44, height: 60 });
    expect(ragged.report).toMatchObject({ pixels: "re-encoded at high quality" });
    await expectNoMetadata(await fs.readFile(ragged.outputs[0]!.path));
  });

  it("takes no HEIC (it cannot be rewritten): convert it instead", async () => {
    const heic = await fs.readFile(new URL("../fixtures/photo.heic", import.meta.url));
    await expectAppError(h.run("strip", heic, {}), "unsupported_type", 415, /JPEG, PNG, WEBP, AVIF, GIF/);
    await expectAppError(h.run("strip", await jpegWithMetadata(), { keep: ["icc"] }), "invalid_params", 400, /^keep: is not a parameter/);
  });
});

describe("EXIF categories", () => {
  it("names what the tags are, from little- and big-endian blocks, and survives garbage", async () => {
    const exif = buildExif({ thumbnail: new Uint8Array(20) });
    expect([...exifCategories(exif)].sort()).toEqual(
      ["GPS position", "camera make and model", "capture and edit dates", "embedded thumbnail", "lens", "serial numbers and unique IDs", "software"].sort(),
    );
    const big = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#fff" } })
      .withExif({ IFD0: { Copyright: "someone", Artist: "someone" } })
      .jpeg()
      .toBuffer();
    const meta = await sharp(big).metadata();
    expect([...exifCategories(meta.exif!)]).toContain("author, owner and copyright");
    for (let cut = 0; cut < exif.length; cut += 7) exifCategories(exif.subarray(0, cut));
    expect(exifCategories(new Uint8Array([0x4d, 0x4d, 0, 42, 0xff, 0xff, 0xff, 0xff])).size).toBe(0);
  });
});
