import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { compressSpec } from "../../src/common/tools/compress.js";
import { convertSpec } from "../../src/common/tools/convert.js";
import { parseParams } from "../../src/tools/runner.js";
import { addJpegMetadata } from "../fixtures/metadata.js";
import { expectAppError, photoJpeg, useHarness } from "./harness.js";

const h = useHarness();

describe("compress", () => {
  it("keeps the format by default and reports the quality used", async () => {
    const input = await photoJpeg(300, 200, { quality: 98 });
    const result = await h.run("compress", input, {});
    expect(result.outputs[0]).toMatchObject({ name: "photo.jpg", mime: "image/jpeg", width: 300, height: 200 });
    expect(result.outputs[0]!.bytes).toBeLessThan(input.length);
    expect(result.report).toMatchObject({ format: "jpeg", quality: 82, lossless: false, inputBytes: input.length });
    const png = await sharp(input).png().toBuffer();
    const small = await h.run("compress", png, {}, { name: "shot.png" });
    expect(small.outputs[0]).toMatchObject({ name: "shot.png", mime: "image/png" });
    expect(small.outputs[0]!.bytes).toBeLessThan(png.length);
    expect(small.report).toMatchObject({ format: "png", quality: 80 });
  });

  it("reaches a target size with the highest quality that fits", async () => {
    const input = await photoJpeg(600, 400, { quality: 98 });
    const high = await h.run("compress", input, { quality: 95 });
    const target = Math.round(high.outputs[0]!.bytes / 3 / 1000);
    const result = await h.run("compress", input, { targetKB: target });
    expect(result.outputs[0]!.bytes).toBeLessThanOrEqual(target * 1000);
    expect(result.report).toMatchObject({ reached: true, targetBytes: target * 1000, bytes: result.outputs[0]!.bytes });
    const quality = result.report!.quality as number;
    expect(quality).toBeGreaterThanOrEqual(20);
    // One step higher would not have fitted.
    const above = await h.run("compress", input, { quality: quality + 1 });
    expect(above.outputs[0]!.bytes).toBeGreaterThan(target * 1000);
  });

  it("says so when the target is out of reach, and returns the smallest file", async () => {
    const input = await photoJpeg(600, 400);
    const result = await h.run("compress", input, { targetKB: 1, format: "webp" });
    expect(result.outputs[0]!.mime).toBe("image/webp");
    expect(result.report).toMatchObject({ reached: false, quality: 20, targetBytes: 1000 });
    expect(result.report!.message).toMatch(/minimum quality \(20\)/);
    const floor = await h.run("compress", input, { quality: 20, format: "webp" });
    expect(result.outputs[0]!.bytes).toBe(floor.outputs[0]!.bytes);
  });

  it("never hands back a larger file: an input compressed harder than asked is kept, without its metadata", async () => {
    const input = await addJpegMetadata(await photoJpeg(400, 288, { quality: 40 }), 6);
    const result = await h.run("compress", input, {});
    const output = result.outputs[0]!;
    expect(output.bytes).toBeLessThan(input.length);
    expect(result.report).toMatchObject({ keptOriginal: true, quality: null, bytes: output.bytes, inputBytes: input.length });
    expect(result.report!.message).toMatch(/larger .* original's own compressed data/);
    // Upright (turned losslessly, 288×400 now: whole blocks, as phones write them) and without metadata.
    const meta = await sharp(output.path).metadata();
    expect([meta.width, meta.height, meta.orientation, meta.exif, meta.xmp]).toEqual([288, 400, undefined, undefined, undefined]);
    // A target the original already fits: kept too, not grown to fill the target.
    const sized = await h.run("compress", input, { targetKB: 10_000 });
    expect(sized.report).toMatchObject({ reached: true, keptOriginal: true, bytes: output.bytes });
    // Converted to another format, the re-encoded file is what was asked for.
    expect((await h.run("compress", input, { format: "webp", quality: 95 })).report).not.toHaveProperty("keptOriginal");
  });

  it("refuses settings the chosen format cannot honour with the params, before any file is read", () => {
    expect(() => parseParams(compressSpec.params, { format: "jpeg", lossless: true })).toThrow(/^lossless: JPEG cannot be lossless/);
    expect(() => parseParams(convertSpec.params, { format: "webp", effort: 10 })).toThrow(/^effort: webp effort is 0 to 6/);
    expect(() => parseParams(convertSpec.params, { format: "jpeg", effort: 5 })).toThrow(/^effort: jpeg has no effort setting/);
    expect(() => parseParams(compressSpec.params, { minQuality: 100, targetKB: 1 })).toThrow(/^minQuality: is at most 95 with a target size/);
    // A kept format is checked once the input is known.
    expect(parseParams(compressSpec.params, { effort: 9 })).toMatchObject({ format: "same", effort: 9 });
  });

  it("names the parameter that is wrong", async () => {
    const input = await photoJpeg(50, 50);
    await expectAppError(h.run("compress", input, { targetKB: 10, quality: 50 }), "invalid_params", 400, /^targetKB: Give either/);
    await expectAppError(h.run("compress", input, { targetKB: -1 }), "invalid_params", 400, /^targetKB:/);
    await expectAppError(h.run("compress", input, { targetKB: 10, lossless: true, format: "webp" }), "invalid_params", 400, /^targetKB:/);
  });
});
