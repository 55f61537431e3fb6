import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { SOCIAL_PRESETS } from "../../src/common/tools/presets.js";
import { distinctFrames } from "../fixtures/animations.js";
import { expectAppError, photoJpeg, pixelAt, useHarness } from "./harness.js";

const h = useHarness();
const animatedGif = () =>
  sharp(distinctFrames(40, 30, 4), { raw: { width: 40, height: 120, channels: 4, pageHeight: 30 } }).gif({ delay: [80, 80, 80, 80], loop: 0 }).toBuffer();

/** 60×40 with a red left half and a blue right half, top rows green: every turn and mirror is visible. */
async function marked(): Promise<Buffer> {
  const raw = Buffer.alloc(60 * 40 * 3);
  for (let y = 0; y < 40; y++)
    for (let x = 0; x < 60; x++) {
      const i = (y * 60 + x) * 3;
      raw.set(y < 10 ? [0, 255, 0] : x < 30 ? [255, 0, 0] : [0, 0, 255], i);
    }
  return sharp(raw, { raw: { width: 60, height: 40, channels: 3 } }).png().toBuffer();
}
const near = (actual: number[], expected: number[]) => expect(actual.every((v, i) => Math.abs(v - expected[i]!) < 40), `${actual} ≈ ${expected}`).toBe(true);

describe("resize", () => {
  it("follows the aspect ratio from one side, scales by percent, and names the size", async () => {
    const input = await photoJpeg(400, 300);
    expect((await h.run("resize", input, { width: 200 })).outputs[0]).toMatchObject({ name: "photo-200x150.jpg", width: 200, height: 150 });
    expect((await h.run("resize", input, { height: 60 })).outputs[0]).toMatchObject({ width: 80, height: 60 });
    expect((await h.run("resize", input, { percent: 25 })).outputs[0]).toMatchObject({ width: 100, height: 75 });
    expect((await h.run("resize", input, { width: 100, height: 100 })).outputs[0]).toMatchObject({ width: 100, height: 75 });
    expect((await h.run("resize", input, { width: 100, height: 100, fit: "cover" })).outputs[0]).toMatchObject({ width: 100, height: 100 });
    expect((await h.run("resize", input, { width: 100, height: 100, fit: "outside" })).outputs[0]).toMatchObject({ width: 133, height: 100 });
    expect((await h.run("resize", input, { width: 100, height: 100, fit: "fill", format: "webp" })).outputs[0]).toMatchObject({ mime: "image/webp", width: 100, height: 100 });
    expect((await h.run("resize", input, { width: 800, withoutEnlargement: true })).outputs[0]).toMatchObject({ width: 400, height: 300 });
  });

  it.each(SOCIAL_PRESETS.map((p) => [p.id, p.width, p.height] as const))("preset %s is exactly %ix%i", async (preset, width, height) => {
    const result = await h.run("resize", await photoJpeg(300, 200), { preset }, { name: "photo.jpg" });
    expect(result.outputs[0]).toMatchObject({ name: `photo-${width}x${height}.jpg`, width, height });
  });

  it("keeps 16 bits a sample in lossless PNG outputs, grey or colour", async () => {
    const samples = (channels: number) => {
      const raw = Buffer.alloc(64 * 48 * channels * 2);
      for (let i = 0; i < raw.length / 2; i++) raw.writeUInt16LE((i * 2711) % 65536, i * 2);
      return raw;
    };
    // sharp reads 16-bit raw samples with `depth`, which its types leave out.
    const raw16 = (channels: 1 | 3) => ({ raw: { width: 64, height: 48, channels, depth: "ushort" } as sharp.CreateRaw });
    const colour = await sharp(samples(3), raw16(3)).toColourspace("rgb16").png().toBuffer();
    const grey = await sharp(samples(1), raw16(1)).toColourspace("grey16").png().toBuffer();
    for (const [input, channels] of [[colour, 3], [grey, 1]] as const) {
      expect((await sharp(input).metadata()).depth).toBe("ushort");
      for (const [tool, params] of [["convert", { format: "png" }], ["crop", { rotate: 90 }], ["resize", { percent: 100 }]] as const) {
        const out = await sharp((await h.run(tool, input, params, { name: "deep.png" })).outputs[0]!.path).metadata();
        expect([out.depth, out.channels], `${tool} of a ${channels}-channel input`).toEqual(["ushort", channels]);
      }
    }
  });

  it("says when the result is too large for the chosen format, not that the input is corrupt", async () => {
    const thin = await sharp({ create: { width: 1, height: 5000, channels: 3, background: "#808080" } }).png().toBuffer();
    await expectAppError(h.run("resize", thin, { height: 16384, format: "webp" }), "too_large_for_format", 422, /WebP \(at most 16383 pixels a side\).*PNG/);
    expect((await h.run("resize", thin, { height: 16384, format: "png" })).outputs[0]).toMatchObject({ width: 3, height: 16384 });
  });

  it("letterboxes with contain, in the background colour", async () => {
    const result = await h.run("resize", await photoJpeg(200, 100), { width: 100, height: 100, fit: "contain", background: "#00ff00", format: "png" });
    expect(result.outputs[0]).toMatchObject({ width: 100, height: 100 });
    near(await pixelAt(result.outputs[0]!.path, 50, 2), [0, 255, 0]);
  });

  it("resizes every frame of an animation", async () => {
    const result = await h.run("resize", await animatedGif(), { width: 20 }, { name: "anim.gif" });
    expect(result.outputs[0]).toMatchObject({ name: "anim-20x15.gif", width: 20, height: 15, frames: 4 });
  });

  it("names the parameter that is wrong, and refuses an output past the limit", async () => {
    const input = await photoJpeg(100, 100);
    await expectAppError(h.run("resize", input, {}), "invalid_params", 400, /^width: Give exactly one of/);
    await expectAppError(h.run("resize", input, { width: 10, percent: 50 }), "invalid_params", 400, /^width:/);
    await expectAppError(h.run("resize", input, { preset: "myspace-banner" }), "invalid_params", 400, /^preset:/);
    await expectAppError(h.run("resize", input, { width: 0 }), "invalid_params", 400, /^width:/);
    await expectAppError(h.run("resize", input, { percent: 1000, fit: "bogus" }), "invalid_params", 400, /^fit:/);
    const big = await photoJpeg(2000, 1000);
    await expectAppError(h.run("resize", big, { percent: 1000 }), "too_many_pixels", 413, /20000×10000 pixels; the limit is 100000000/);
  });
});

describe("crop", () => {
  it("keeps a rectangle, and refuses one outside the picture naming rect", async () => {
    const result = await h.run("crop", await marked(), { rect: { x: 25, y: 10, width: 10, height: 30 } }, { name: "m.png" });
    expect(result.outputs[0]).toMatchObject({ name: "m-10x30.png", width: 10, height: 30 });
    near(await pixelAt(result.outputs[0]!.path, 0, 15), [255, 0, 0]);
    near(await pixelAt(result.outputs[0]!.path, 9, 15), [0, 0, 255]);
    await expectAppError(h.run("crop", await marked(), { rect: { x: 50, y: 0, width: 20, height: 10 } }), "invalid_params", 400, /^rect: .*60×40 picture/);
    await expectAppError(h.run("crop", await marked(), { rect: { x: 0, y: 0, width: 10 } }), "invalid_params", 400, /^rect\.height:/);
    await expectAppError(h.run("crop", await marked(), { aspect: "16/9" }), "invalid_params", 400, /^aspect:/);
  });

  it("crops to an aspect ratio, centred or by attention", async () => {
    const input = await photoJpeg(400, 300);
    expect((await h.run("crop", input, { aspect: "16:9" })).outputs[0]).toMatchObject({ width: 400, height: 225 });
    expect((await h.run("crop", input, { aspect: "1:1", position: "attention" })).outputs[0]).toMatchObject({ width: 300, height: 300 });
    expect((await h.run("crop", input, { aspect: "9:16", position: "entropy" })).outputs[0]).toMatchObject({ width: 169, height: 300 });
  });

  it("turns by quarter turns, then flips and flops", async () => {
    const turned = await h.run("crop", await marked(), { rotate: 90, format: "png" });
    expect(turned.outputs[0]).toMatchObject({ width: 40, height: 60 });
    // Turned clockwise: the green top is now the right edge, the red left half the top.
    near(await pixelAt(turned.outputs[0]!.path, 38, 30), [0, 255, 0]);
    near(await pixelAt(turned.outputs[0]!.path, 10, 5), [255, 0, 0]);
    const flopped = await h.run("crop", await marked(), { flop: true });
    near(await pixelAt(flopped.outputs[0]!.path, 5, 30), [0, 0, 255]);
    const flipped = await h.run("crop", await marked(), { flip: true });
    near(await pixelAt(flipped.outputs[0]!.path, 5, 38), [0, 255, 0]);
    // Mirrored after the turn: the turned picture (green right edge, red top) flipped top to
    // bottom has red at the bottom; mirrored left to right, green on the left.
    for (const rotate of [90, 270] as const) {
      const flippedTurn = await h.run("crop", await marked(), { rotate, flip: true, format: "png" });
      const floppedTurn = await h.run("crop", await marked(), { rotate, flop: true, format: "png" });
      const turnedOnly = await h.run("crop", await marked(), { rotate, format: "png" });
      const raw = async (file: string) => sharp(file).raw().toBuffer();
      const [plain, flippedPixels, floppedPixels] = await Promise.all([raw(turnedOnly.outputs[0]!.path), raw(flippedTurn.outputs[0]!.path), raw(floppedTurn.outputs[0]!.path)]);
      // 40×60 after the turn: row y of the flipped output is row 59 - y of the turned one.
      const row = (pixels: Buffer, y: number) => pixels.subarray(y * 40 * 3, (y + 1) * 40 * 3);
      for (const y of [0, 15, 59]) expect(row(flippedPixels, y).equals(row(plain, 59 - y)), `rotate ${rotate}, flip, row ${y}`).toBe(true);
      const pixel = (pixels: Buffer, x: number, y: number) => [...pixels.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3)];
      for (const [x, y] of [[0, 0], [5, 30], [39, 59]] as const) expect(pixel(floppedPixels, x, y), `rotate ${rotate}, flop, (${x}, ${y})`).toEqual(pixel(plain, 39 - x, y));
    }
  });

  it("crops and turns every frame of an animation", async () => {
    const result = await h.run("crop", await animatedGif(), { rect: { x: 0, y: 0, width: 20, height: 10 }, rotate: 270 }, { name: "anim.gif" });
    // Named by the size delivered, after the turn.
    expect(result.outputs[0]).toMatchObject({ name: "anim-10x20.gif", width: 10, height: 20, frames: 4 });
  });
});
