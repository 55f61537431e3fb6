import sharp from "sharp";
import { describe, expect, it } from "vitest";
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

  it("names the parameter that is wrong", async () => {
    const input = await photoJpeg(50, 50);
    await expectAppError(h.run("compress", input, { targetKB: 10, quality: 50 }), "invalid_params", 400, /^targetKB: Give either/);
    await expectAppError(h.run("compress", input, { targetKB: -1 }), "invalid_params", 400, /^targetKB:/);
    await expectAppError(h.run("compress", input, { targetKB: 10, lossless: true, format: "webp" }), "invalid_params", 400, /^targetKB:/);
  });
});
