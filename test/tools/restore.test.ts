import fs from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { packageDir } from "../../src/models/packages.js";
import { pngClaiming } from "../fixtures/images.js";
import { jpegWithMetadata } from "../fixtures/metadata.js";
import { expectAppError, expectNoMetadata, pixelAt, useHarness } from "./harness.js";
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

  it("takes pictures thinner than the median's window (1×1, 1×300, 2 px wide with the strong denoise)", async () => {
    for (const [width, height, denoise] of [[1, 1, "light"], [1, 300, "light"], [300, 2, "strong"], [4, 40, "strong"]] as const) {
      const png = await sharp({ create: { width, height, channels: 3, background: "#4a7" } }).png().toBuffer();
      const result = await h.run("restore", png, { denoise }, { name: "thin.png" });
      expect(result.outputs[0], `${width}×${height} ${denoise}`).toMatchObject({ width, height });
    }
  });

  it("keeps 16 bits a sample in a lossless PNG", async () => {
    // A smooth 16-bit ramp: most of its samples are not one of the 256 values an 8-bit picture can hold.
    const width = 64;
    const height = 8;
    const ramp = new Uint16Array(width * height * 3).map((_, i) => Math.round((i / (width * height * 3)) * 65535));
    const png = await sharp(Buffer.from(ramp.buffer), { raw: { width, height, channels: 3 } })
      .toColourspace("rgb16")
      .png()
      .toBuffer();
    const result = await h.run("restore", png, { denoise: "off", sharpen: false }, { name: "ramp.png" });
    const { data, info } = await sharp(result.outputs[0]!.path).raw({ depth: "ushort" }).toBuffer({ resolveWithObject: true });
    expect((await sharp(result.outputs[0]!.path).metadata()).depth).toBe("ushort");
    const samples = new Uint16Array(data.buffer, data.byteOffset, info.width * info.height * info.channels);
    expect(samples.filter((v) => v % 257 !== 0).length).toBeGreaterThan(samples.length / 2);
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

  it("stops at once when cancelled inside a tile: the model thread is ended, not waited for, and the next run goes on", async () => {
    // Four tiles of about 192² (some 25 s each on one core): cancelled 1.5 s in, during the first.
    const size = 300;
    const noisy = await pngOf(addNoise(await cleanPhoto(size), 15), size, size);
    const cancel = new AbortController();
    const started = performance.now();
    setTimeout(() => cancel.abort(), 1_500);
    await expectAppError(h.run("restore", noisy, { mode: "ai" }, { name: "big.png", signal: cancel.signal }), "cancelled", 499);
    expect(performance.now() - started).toBeLessThan(6_000);
    // The pool took the next run on a fresh thread.
    const small = await pngOf(addNoise(await cleanSample(64), 20), 64, 64);
    expect((await h.run("restore", small, { mode: "ai" }, { name: "small.png" })).report).toMatchObject({ tiles: 1 });
  });

  it("lays a transparent picture on the chosen background for JPEG (not on black)", async () => {
    const png = await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
      .png()
      .toBuffer();
    const result = await h.run("restore", png, { mode: "ai", format: "jpeg", background: "#ff00ff" }, { name: "half.png" });
    const pixel = await pixelAt(result.outputs[0]!.path, 16, 16);
    expect(pixel.slice(0, 3).map((v, c) => Math.abs(v - [255, 0, 128][c]!))).toSatisfy((d: number[]) => d.every((x) => x <= 12));
  });
});
