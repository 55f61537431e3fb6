import fs from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { packageDir } from "../../src/models/packages.js";
import { pngClaiming } from "../fixtures/images.js";
import { jpegWithMetadata } from "../fixtures/metadata.js";
import { expectAppError, expectNoMetadata, useHarness } from "./harness.js";
import { psnr, rawRgb } from "./upscale-psnr.js";

const h = useHarness();
const strict = useHarness({ toolLimits: { restore: { maxModelPixels: 1000 } } });

/** Deterministic Gaussian noise of `sigma` added to RGB bytes. */
function addNoise(clean: Buffer, sigma: number): Buffer {
  let seed = 7;
  const uniform = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const gauss = () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  return Buffer.from(clean.map((v) => Math.max(0, Math.min(255, Math.round(v + sigma * gauss())))));
}

async function pngOf(raw: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** A clean picture: the denoised sample shipped with the MAXIM package (flat colour areas, edges). */
async function cleanSample(size: number): Promise<Buffer> {
  const file = path.join(packageDir("@upscalerjs/maxim-denoising")!, "assets", "result.png");
  return sharp(file).extract({ left: 64, top: 0, width: size, height: size }).removeAlpha().raw().toBuffer();
}

/** A clean photo: the flower shipped with the ESRGAN slim package, enlarged smoothly. */
async function cleanPhoto(size: number): Promise<Buffer> {
  const file = path.join(packageDir("@upscalerjs/esrgan-slim")!, "assets", "fixture.png");
  return sharp(file).removeAlpha().resize(size, size, { kernel: "lanczos3" }).raw().toBuffer();
}

describe("restore, fast mode", () => {
  it("brings a noisy photo closer to the clean one (PSNR)", async () => {
    const size = 256;
    const clean = await cleanPhoto(size);
    const noisy = addNoise(clean, 20);
    const result = await h.run("restore", await pngOf(noisy, size, size), {}, { name: "noisy.png" });
    const before = psnr(clean, noisy);
    const after = psnr(clean, await rawRgb(await fs.readFile(result.outputs[0]!.path)));
    // Measured: 22.7 dB noisy, 28.1 dB restored (median 3 and the gentle sharpen).
    expect(after, `${before.toFixed(2)} dB -> ${after.toFixed(2)} dB`).toBeGreaterThan(before + 3);
    expect(result.outputs[0]).toMatchObject({ width: size, height: size, mime: "image/png" });
  });

  it("restores only a rectangle when given one; P7 and orientation as every tool", async () => {
    const result = await h.run("restore", await jpegWithMetadata({ width: 64, height: 48, orientation: 6 }), { rect: { x: 8, y: 4, width: 30, height: 20 } });
    expect(result.outputs[0]).toMatchObject({ width: 30, height: 20, mime: "image/jpeg", name: "photo-30x20.jpg" });
    await expectNoMetadata(await fs.readFile(result.outputs[0]!.path));
    await expectAppError(h.run("restore", await jpegWithMetadata({ width: 64, height: 48 }), { rect: { x: 40, y: 0, width: 30, height: 20 } }), "invalid_params", 400, /rect/);
  });
});

describe("restore, ai mode", () => {
  it("takes the operator's RESTORE_MAX_PIXELS over its own limit", async () => {
    await expectAppError(strict.run("restore", pngClaiming(40, 40), { mode: "ai" }), "too_many_pixels", 413, /at most 1000 pixels/);
  });

  it("refuses a picture over its limit with 413 naming the limit and suggesting a rectangle", async () => {
    await expectAppError(h.run("restore", pngClaiming(600, 600), { mode: "ai" }), "too_many_pixels", 413, /at most 250000 pixels.*rectangle \(rect\)/);
    // The same picture is fine in the fast mode's limits, and a small enough rectangle passes the check.
    await expectAppError(h.run("restore", pngClaiming(600, 600), { mode: "ai", rect: { x: 0, y: 0, width: 600, height: 500 } }), "too_many_pixels", 413, /this rectangle is 600×500/);
  });

  // One MAXIM load (112 MB of weights, about 3 s) and a 64×64 run (about 2 s) on one core.
  it("denoises a small picture with MAXIM (PSNR rises)", async () => {
    const size = 64;
    const clean = await cleanSample(size);
    const noisy = addNoise(clean, 20);
    const seen: number[] = [];
    const result = await h.run("restore", await pngOf(noisy, size, size), { mode: "ai", format: "png" }, { name: "noisy.png", onProgress: (f) => seen.push(f) });
    const before = psnr(clean, noisy);
    const after = psnr(clean, await rawRgb(await fs.readFile(result.outputs[0]!.path)));
    // Measured: 22.0 dB noisy, 36.3 dB restored.
    expect(after, `${before.toFixed(2)} dB -> ${after.toFixed(2)} dB`).toBeGreaterThan(before + 6);
    expect(result.report).toMatchObject({ mode: "ai", tiles: 1, width: 64, height: 64 });
    expect(seen.at(-1)).toBe(1);
  });
});
