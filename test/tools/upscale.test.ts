import fs from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { packageDir } from "../../src/models/packages.js";
import { ModelThreads } from "../../src/models/pool.js";
import { UPSCALE_MARGIN, UPSCALE_TILE } from "../../src/tools/upscale.js";
import { type RgbImage, planTiles, runTiled } from "../../src/tools/upscale-tiles.js";
import { pngClaiming } from "../fixtures/images.js";
import { jpegWithMetadata } from "../fixtures/metadata.js";
import { expectAppError, expectNoMetadata, photoJpeg, pixelAt, useHarness } from "./harness.js";
import { psnr, rawRgb } from "./upscale-psnr.js";

// Every test uses the fast model (ESRGAN slim): one small model, loaded once per thread.
const h = useHarness();

/** A real photo, 128×128, shipped with the slim model's package: detail a synthetic picture lacks. */
async function flower(): Promise<Buffer> {
  return fs.readFile(path.join(packageDir("@upscalerjs/esrgan-slim")!, "assets", "fixture.png"));
}

describe("upscale", () => {
  it("makes the picture exactly 2x and 4x larger, as PNG by default", async () => {
    const input = await photoJpeg(50, 34);
    const x2 = await h.run("upscale", input, { scale: 2 });
    expect(x2.outputs[0]).toMatchObject({ width: 100, height: 68, mime: "image/png", name: "photo-x2.png" });
    const x4 = await h.run("upscale", input, { scale: 4, format: "webp" });
    expect(x4.outputs[0]).toMatchObject({ width: 200, height: 136, mime: "image/webp" });
    const meta = await sharp(x4.outputs[0]!.path).metadata();
    expect([meta.width, meta.height]).toEqual([200, 136]);
  });

  // Measured here: slim 26.1 dB against bicubic 25.8 (medium 26.6, thick 27.3).
  it("comes closer to the original than a bicubic enlargement of the same half-size copy", async () => {
    const original = await flower();
    const half = await sharp(original).removeAlpha().resize(64, 64, { kernel: "cubic" }).png().toBuffer();
    const result = await h.run("upscale", half, { scale: 2 }, { name: "half.png" });
    const bicubic = await sharp(half).resize(128, 128, { kernel: "cubic" }).png().toBuffer();
    const truth = await rawRgb(original);
    const model = psnr(truth, await rawRgb(await fs.readFile(result.outputs[0]!.path)));
    const classic = psnr(truth, await rawRgb(bicubic));
    expect(model, `model ${model.toFixed(2)} dB, bicubic ${classic.toFixed(2)} dB`).toBeGreaterThan(classic + 0.2);
  });

  it("reports progress after every tile, increasing", async () => {
    // 260×140 is 3×2 tiles of at most 128 pixels.
    expect(planTiles(260, 140, UPSCALE_TILE, UPSCALE_MARGIN)).toHaveLength(6);
    const seen: number[] = [];
    await h.run("upscale", await photoJpeg(260, 140), { scale: 2 }, { onProgress: (f) => seen.push(f) });
    const duringTiles = seen.filter((f) => f > 0.1 && f < 0.91);
    expect(duringTiles.length).toBeGreaterThanOrEqual(6);
    expect(seen.every((f, i) => i === 0 || f > seen[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toBe(1);
  });

  it("stops between tiles when cancelled and leaves no work folder", async () => {
    const controller = new AbortController();
    const run = h.run("upscale", await photoJpeg(260, 140), { scale: 2 }, { signal: controller.signal, onProgress: (f) => f > 0.1 && controller.abort() });
    await expectAppError(run, "cancelled", 499);
    expect(await h.workFolders()).toEqual([]);
  });

  it("refuses a result over the output cap with 413 naming the cap, before decoding", async () => {
    // 2100×2100 at 4x is 70.6 MP; at 2x 17.6 MP: both over 16 MP. The file is only a header.
    await expectAppError(h.run("upscale", pngClaiming(2100, 2100), { scale: 4 }), "too_many_pixels", 413, /the limit for upscale is 16000000 pixels/);
    await expectAppError(h.run("upscale", pngClaiming(2100, 2100), { scale: 2 }), "too_many_pixels", 413, /4200×4200/);
  });

  it("P7: writes no metadata, and turns a photo with orientation 6 upright first", async () => {
    const result = await h.run("upscale", await jpegWithMetadata({ width: 64, height: 48, orientation: 6, icc: true }), { scale: 2, format: "jpeg" });
    const out = result.outputs[0]!;
    expect([out.width, out.height]).toEqual([96, 128]);
    await expectNoMetadata(await fs.readFile(out.path));
  });

  it("keeps transparency: the alpha channel is enlarged alongside", async () => {
    // Left half opaque, right half fully transparent.
    const width = 40;
    const height = 30;
    const rgba = Buffer.alloc(width * height * 4);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) rgba.set([(x * 6) % 256, (y * 8) % 256, 120, x < width / 2 ? 255 : 0], (y * width + x) * 4);
    const png = await sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
    const result = await h.run("upscale", png, { scale: 2 }, { name: "cut.png" });
    const { data, info } = await sharp(result.outputs[0]!.path).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 80, height: 60, channels: 4 });
    const alphaAt = (x: number, y: number) => data[(y * info.width + x) * 4 + 3];
    expect(alphaAt(10, 30)).toBe(255);
    expect(alphaAt(70, 30)).toBe(0);
  });

  it("lays a transparent picture on the chosen background for JPEG (not on black)", async () => {
    // Red at half opacity: on magenta it is (255, 0, 128); on black it would be (128, 0, 0).
    const png = await sharp({ create: { width: 24, height: 16, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
      .png()
      .toBuffer();
    const result = await h.run("upscale", png, { scale: 2, format: "jpeg", background: "#ff00ff" }, { name: "half.png" });
    const pixel = await pixelAt(result.outputs[0]!.path, 24, 16);
    // JPEG and the model move a flat colour by a few levels at most.
    expect(pixel.slice(0, 3).map((v, c) => Math.abs(v - [255, 0, 128][c]!))).toSatisfy((d: number[]) => d.every((x) => x <= 12));
  });
});

describe("tiles", () => {
  const models = new ModelThreads(2);
  afterAll(() => models.close());

  it("a tiled run over two threads matches a run over the whole picture (within 0.5 dB)", { timeout: 180_000 }, async () => {
    // 512²: 4×4 tiles of 128, inner edges in both directions. The whole-picture run holds about
    // 1 GB in its thread for a few seconds; the test's timeout leaves room for a shared machine.
    const size = 512;
    const { data } = await sharp(await flower()).removeAlpha().resize(size, size, { kernel: "lanczos3" }).raw().toBuffer({ resolveWithObject: true });
    const image: RgbImage = { data, width: size, height: size };
    const base = { models, model: "esrgan-slim-x2", scale: 2, margin: UPSCALE_MARGIN, concurrency: 2, timeoutMs: 120_000 };
    const whole = await runTiled(image, { ...base, tile: Infinity });
    const tiles: number[] = [];
    const tiled = await runTiled(image, { ...base, tile: UPSCALE_TILE, onTile: (done) => tiles.push(done) });
    expect(tiles).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const similarity = psnr(whole.data, tiled.data);
    // The same model on the same pixels: far above 0.5 dB apart, in practice nearly identical.
    expect(similarity).toBeGreaterThan(45);
    const truth = await sharp(await flower()).removeAlpha().resize(size * 2, size * 2, { kernel: "lanczos3" }).raw().toBuffer();
    expect(Math.abs(psnr(truth, whole.data) - psnr(truth, tiled.data))).toBeLessThan(0.5);
  });
});
