import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageWorkers } from "../../src/images/workers.js";
import { ISNET_SIZE } from "../../src/models/isnet.js";
import type { ModelThreads } from "../../src/models/pool.js";
import { MemoryBudget } from "../../src/tools/memory-budget.js";
import { ToolRunner } from "../../src/tools/runner.js";
import { addJpegMetadata } from "../fixtures/metadata.js";
import { LIMITS, expectAppError, expectNoMetadata, useHarness } from "./harness.js";

/** A dark-red disc on a flat light grey background: a subject no segmentation model can miss. */
function discSvg(width: number, height: number, cx: number, cy: number, r: number): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#e6e6e0"/><circle cx="${cx}" cy="${cy}" r="${r}" fill="#8b1010"/></svg>`,
  );
}

/** Stored 320×240 with orientation 6: shown 240×320, the disc centred at (120, 160), radius 70. */
async function photoOfDisc(): Promise<Uint8Array> {
  return addJpegMetadata(await sharp(discSvg(320, 240, 160, 120, 70)).jpeg({ quality: 92 }).toBuffer(), 6);
}

const DISC = { cx: 120, cy: 160, r: 70 };

/** Fractions of the disc's pixels (well inside its edge) and of the corners' meeting a test on one channel. */
async function measure(file: string, channel: number, inside: (v: number) => boolean, outside: (v: number) => boolean) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  let inDisc = 0, inDiscOk = 0, corners = 0, cornersOk = 0;
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++) {
      const v = data[(y * info.width + x) * info.channels + channel]!;
      if (Math.hypot(x - DISC.cx, y - DISC.cy) < DISC.r - 8) {
        inDisc++;
        if (inside(v)) inDiscOk++;
      }
      const corner = (x < 30 || x >= info.width - 30) && (y < 30 || y >= info.height - 30);
      if (corner) {
        corners++;
        if (outside(v)) cornersOk++;
      }
    }
  return { disc: inDiscOk / inDisc, corners: cornersOk / corners, info };
}

describe("remove-background with ISNet medium", () => {
  const h = useHarness();

  it("keeps the subject opaque and makes the background transparent, upright, without metadata (P7)", async () => {
    const result = await h.run("remove-background", await photoOfDisc());
    const out = result.outputs[0]!;
    expect(out).toMatchObject({ mime: "image/png", width: 240, height: 320 });
    const alpha = await measure(out.path, 3, (a) => a > 200, (a) => a < 30);
    expect(alpha.info.channels).toBe(4);
    expect(alpha.disc).toBeGreaterThan(0.9);
    expect(alpha.corners).toBeGreaterThan(0.99);
    await expectNoMetadata(await fs.readFile(out.path));
  });

  it("gives the mask alone as a greyscale PNG at the input's size", async () => {
    const result = await h.run("remove-background", await photoOfDisc(), { output: "mask" });
    const out = result.outputs[0]!;
    expect(out).toMatchObject({ mime: "image/png", width: 240, height: 320 });
    const meta = await sharp(out.path).metadata();
    expect({ channels: meta.channels, space: meta.space }).toEqual({ channels: 1, space: "b-w" });
    const mask = await measure(out.path, 0, (v) => v > 200, (v) => v < 30);
    expect(mask.disc).toBeGreaterThan(0.9);
    expect(mask.corners).toBeGreaterThan(0.99);
    await expectNoMetadata(await fs.readFile(out.path));
  });
});

/**
 * The output options, over a stand-in for the model thread that answers the disc's exact mask:
 * everything but the inference runs for real, in milliseconds.
 */
describe("remove-background outputs", () => {
  let root: string;
  let runner: ToolRunner;
  let workers: ImageWorkers;
  let n = 0;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-rmbg-"));
    await fs.mkdir(path.join(root, "tmp"));
    workers = new ImageWorkers(1, 30_000);
    // The disc as ISNet would see it: the picture squashed to 1024².
    const mask = await sharp(discSvg(ISNET_SIZE, ISNET_SIZE, (DISC.cx / 240) * ISNET_SIZE, (DISC.cy / 320) * ISNET_SIZE, 0))
      .composite([{ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${ISNET_SIZE}" height="${ISNET_SIZE}"><rect width="100%" height="100%"/><ellipse cx="512" cy="512" rx="${(70 / 240) * 1024}" ry="${(70 / 320) * 1024}" fill="#fff"/></svg>`) }])
      .extractChannel(0)
      .raw()
      .toBuffer();
    const models = {
      unavailable: async () => null,
      run: async () => ({ mask: mask.buffer.slice(mask.byteOffset, mask.byteOffset + mask.byteLength) }),
    } as unknown as ModelThreads;
    runner = new ToolRunner({ limits: LIMITS, budget: new MemoryBudget(1024 ** 3), threads: workers, models, tempDir: path.join(root, "tmp") });
  });
  afterAll(async () => {
    await runner.close();
    await workers.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  const run = async (bytes: Uint8Array, params: unknown) => {
    const input = path.join(root, `in-${++n}`);
    await fs.writeFile(input, bytes);
    return runner.run({ tool: "remove-background", input: { path: input, name: "photo.jpg" }, params, outputDir: path.join(root, `out-${n}`) });
  };

  it("puts the subject on a solid colour: no alpha, the colour where the background was", async () => {
    for (const format of ["jpeg", "png"] as const) {
      const out = (await run(await photoOfDisc(), { background: "#00ff00", format })).outputs[0]!;
      expect(out).toMatchObject({ mime: `image/${format}`, width: 240, height: 320 });
      const { data, info } = await sharp(out.path).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(3);
      const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
      const [r, g, b] = at(5, 5);
      expect(g!).toBeGreaterThan(230);
      expect(r! + b!).toBeLessThan(30);
      const [dr, dg] = at(DISC.cx, DISC.cy);
      expect(dr!).toBeGreaterThan(110);
      expect(dg!).toBeLessThan(40);
      await expectNoMetadata(await fs.readFile(out.path));
    }
  });

  it("writes a transparent WebP", async () => {
    const out = (await run(await photoOfDisc(), { format: "webp" })).outputs[0]!;
    expect(out.mime).toBe("image/webp");
    const alpha = await measure(out.path, 3, (a) => a > 200, (a) => a < 30);
    expect(alpha.info.channels).toBe(4);
    expect(alpha.disc).toBeGreaterThan(0.99);
    expect(alpha.corners).toBeGreaterThan(0.99);
  });

  it("keeps the picture's own colours where the mask shows it, and none where it is fully transparent", async () => {
    const bytes = await photoOfDisc();
    const out = (await run(bytes, {})).outputs[0]!;
    const { data, info } = await sharp(out.path).raw().toBuffer({ resolveWithObject: true });
    const upright = await sharp(Buffer.from(bytes)).rotate().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([upright.info.width, upright.info.height, 4]);
    let opaque = 0, clear = 0, wrong = 0;
    for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
      const rgb = [data[i]!, data[i + 1]!, data[i + 2]!];
      if (data[i + 3] === 255) {
        opaque++;
        if (rgb.some((v, c) => v !== upright.data[j + c])) wrong++;
      } else if (data[i + 3] === 0) {
        clear++;
        // Invisible colour is left out of the file, as a PNG of a photo's cut-out would double.
        if (rgb.some((v) => v !== 0)) wrong++;
      }
    }
    expect(opaque).toBeGreaterThan(10_000);
    expect(clear).toBeGreaterThan(30_000);
    expect(wrong).toBe(0);
  });

  it("cuts out a HEIC photo (decoded with an opaque alpha) by its mask alone", async () => {
    // 96×64, white with a red block in its top-left quarter; the mask's ellipse lands at (48, 32), 28 × 14.
    const heic = await fs.readFile(new URL("../fixtures/photo.heic", import.meta.url));
    const out = (await run(heic, {})).outputs[0]!;
    expect(out).toMatchObject({ mime: "image/png", width: 96, height: 64 });
    const { data, info } = await sharp(out.path).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    const at = (x: number, y: number) => [...data.subarray((y * 96 + x) * 4, (y * 96 + x) * 4 + 4)];
    for (const [x, y] of [[2, 2], [93, 2], [2, 61], [93, 61]] as const) expect(at(x, y)).toEqual([0, 0, 0, 0]);
    const [r, g, , redAlpha] = at(40, 28);
    expect(redAlpha).toBe(255);
    expect(r!).toBeGreaterThan(190);
    expect(g!).toBeLessThan(80);
    expect(at(60, 36).every((v) => v > 230)).toBe(true);
  });

  it("keeps what was already transparent in the input transparent", async () => {
    // The disc's left half is transparent in the input: the cut-out keeps only the right half.
    const png = await sharp(discSvg(240, 320, 120, 160, 70))
      .ensureAlpha()
      .composite([{ input: { create: { width: 120, height: 320, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 1 } } }, left: 0, top: 0, blend: "dest-out" }])
      .png()
      .toBuffer();
    const out = (await run(png, {})).outputs[0]!;
    const { data, info } = await sharp(out.path).raw().toBuffer({ resolveWithObject: true });
    const alphaAt = (x: number, y: number) => data[(y * info.width + x) * 4 + 3]!;
    expect(alphaAt(90, 160)).toBeLessThan(10);
    expect(alphaAt(150, 160)).toBeGreaterThan(245);
  });

  it("refuses JPEG without a background, and a mask in another format (400)", async () => {
    const bytes = await photoOfDisc();
    await expectAppError(run(bytes, { format: "jpeg" }), "invalid_params", 400, /background/);
    await expectAppError(run(bytes, { output: "mask", format: "webp" }), "invalid_params", 400, /output/);
  });
});
