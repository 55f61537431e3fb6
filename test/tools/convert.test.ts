import fs from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { distinctFrames } from "../fixtures/animations.js";
import { jpegWithMetadata, pictureRaw } from "../fixtures/metadata.js";
import { expectAppError, photoJpeg, useHarness } from "./harness.js";

const h = useHarness();
const fixtures = path.join(import.meta.dirname, "../fixtures");

describe("convert", () => {
  it.each([
    ["jpeg", "image/jpeg", "photo.jpg"],
    ["png", "image/png", "photo.png"],
    ["webp", "image/webp", "photo.webp"],
    ["avif", "image/avif", "photo.avif"],
    ["gif", "image/gif", "photo.gif"],
  ])("writes %s at the input's size, named after the input", async (format, mime, name) => {
    const result = await h.run("convert", await photoJpeg(120, 80), { format }, { name: "photo.jpg" });
    expect(result.outputs).toHaveLength(1);
    const [out] = result.outputs;
    expect(out).toMatchObject({ mime, name, width: 120, height: 80 });
    expect((await sharp(out!.path).metadata()).format).toBe(format === "jpeg" ? "jpeg" : format === "avif" ? "heif" : format);
    expect(out!.bytes).toBe((await fs.stat(out!.path)).size);
    expect(result.input).toMatchObject({ mime: "image/jpeg", width: 120, height: 80, frames: 1 });
  });

  it("keeps every frame of an animation when the target can animate, and the first frame otherwise", async () => {
    const gif = await sharp(distinctFrames(40, 30, 5), { raw: { width: 40, height: 150, channels: 4, pageHeight: 30 } }).gif({ delay: [100, 100, 100, 100, 100], loop: 0 }).toBuffer();
    const webp = await h.run("convert", gif, { format: "webp" }, { name: "anim.gif" });
    expect(webp.outputs[0]).toMatchObject({ name: "anim.webp", width: 40, height: 30, frames: 5 });
    const meta = await sharp(webp.outputs[0]!.path, { animated: true }).metadata();
    expect(meta.pages).toBe(5);
    expect(meta.delay).toEqual([100, 100, 100, 100, 100]);
    const png = await h.run("convert", gif, { format: "png" }, { name: "anim.gif" });
    expect(png.outputs[0]).toMatchObject({ width: 40, height: 30 });
    expect(png.outputs[0]!.frames).toBeUndefined();
    expect(png.report).toEqual({ firstFrameOnly: true, framesIn: 5 });
    // Said by the runner of every tool that writes one picture from an animation.
    expect((await h.run("resize", gif, { percent: 50, format: "jpeg" }, { name: "anim.gif" })).report).toEqual({ firstFrameOnly: true, framesIn: 5 });
    expect((await h.run("resize", gif, { percent: 50 }, { name: "anim.gif" })).report).toBeUndefined();
  });

  it("converts HEIC, keeping its colour profile", async () => {
    const heic = await fs.readFile(path.join(fixtures, "photo-p3.heic"));
    const result = await h.run("convert", heic, { format: "png" }, { name: "IMG_0001.HEIC" });
    expect(result.outputs[0]).toMatchObject({ name: "IMG_0001.png", width: 96, height: 64 });
    const meta = await sharp(result.outputs[0]!.path).metadata();
    expect(meta.icc).toBeDefined();
  });

  it("keeps a JPEG's colour profile and writes no other metadata", async () => {
    const p3 = await sharp(pictureRaw(), { raw: { width: 64, height: 48, channels: 3 } }).withIccProfile("p3").jpeg().toBuffer();
    const result = await h.run("convert", p3, { format: "webp" });
    const meta = await sharp(result.outputs[0]!.path).metadata();
    expect(meta.icc).toBeDefined();
    expect(meta.exif).toBeUndefined();
  });

  it("applies quality, lossless and chroma settings", async () => {
    const input = await photoJpeg(200, 150);
    const low = await h.run("convert", input, { format: "webp", quality: 10 });
    const high = await h.run("convert", input, { format: "webp", quality: 95 });
    const lossless = await h.run("convert", input, { format: "webp", lossless: true });
    expect(low.outputs[0]!.bytes).toBeLessThan(high.outputs[0]!.bytes);
    expect(high.outputs[0]!.bytes).toBeLessThan(lossless.outputs[0]!.bytes);
    const full = await h.run("convert", input, { format: "jpeg", chromaSubsampling: "4:4:4" });
    expect((await sharp(full.outputs[0]!.path).metadata()).chromaSubsampling).toBe("4:4:4");
    const half = await h.run("convert", input, { format: "jpeg" });
    expect((await sharp(half.outputs[0]!.path).metadata()).chromaSubsampling).toBe("4:2:0");
  });

  it("flattens transparency onto the background colour for JPEG", async () => {
    const clear = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const result = await h.run("convert", clear, { format: "jpeg", background: "#00ff00" });
    const { data } = await sharp(result.outputs[0]!.path).raw().toBuffer({ resolveWithObject: true });
    expect(data[1]).toBeGreaterThan(240);
    expect(data[0]).toBeLessThan(15);
  });

  it("names the parameter that is wrong", async () => {
    const input = await jpegWithMetadata();
    await expectAppError(h.run("convert", input, {}), "invalid_params", 400, /^format:/);
    await expectAppError(h.run("convert", input, { format: "bmp" }), "invalid_params", 400, /^format:/);
    await expectAppError(h.run("convert", input, { format: "webp", quality: 101 }), "invalid_params", 400, /^quality:/);
    await expectAppError(h.run("convert", input, { format: "webp", qualty: 50 }), "invalid_params", 400, /^qualty: is not a parameter/);
    await expectAppError(h.run("convert", input, { format: "webp", effort: 9 }), "invalid_params", 400, /^effort: webp effort is 0 to 6/);
    await expectAppError(h.run("convert", input, { format: "jpeg", lossless: true }), "invalid_params", 400, /^lossless:/);
  });
});
