import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transformJpeg, transformJpegWithPreview, type Orientation } from "../../src/common/jpeg/index.js";
import { stripMetadata } from "../../src/common/metadata/index.js";
import { addJpegMetadata, pictureRaw } from "../fixtures/metadata.js";

const JPEGTRAN = "/usr/bin/jpegtran";
const CJPEG = "/usr/bin/cjpeg"; // same package as jpegtran
const DJPEG = "/usr/bin/djpeg";
const haveJpegtran = fs.existsSync(JPEGTRAN) && fs.existsSync(CJPEG) && fs.existsSync(DJPEG);
if (!haveJpegtran) {
  console.warn("\n*** jpegtran/cjpeg (libjpeg-turbo-progs) not found: the bit-exact JPEG rotation checks are SKIPPED ***\n");
}

/** jpegtran's name for the motion that turns each EXIF orientation upright. */
const JPEGTRAN_ARGS: Record<Orientation, string[]> = {
  2: ["-flip", "horizontal"],
  3: ["-rotate", "180"],
  4: ["-flip", "vertical"],
  5: ["-transpose"],
  6: ["-rotate", "90"],
  7: ["-transverse"],
  8: ["-rotate", "270"],
};
const ORIENTATIONS: Orientation[] = [2, 3, 4, 5, 6, 7, 8];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pixhaven-jpeg-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(tool: string, args: string[], input: Uint8Array): Buffer | null {
  const file = path.join(dir, "in");
  fs.writeFileSync(file, input);
  const res = spawnSync(tool, [...args, file], { maxBuffer: 1 << 28 });
  return res.status === 0 ? res.stdout : null;
}

/** jpegtran -perfect's result, or null where it refuses (an edge MCU would have to move). */
function jpegtran(input: Uint8Array, orientation: Orientation, opts: { optimize: boolean; restart?: number; icc?: boolean }): Buffer | null {
  const args = [...JPEGTRAN_ARGS[orientation], "-perfect", "-copy", opts.icc ? "icc" : "none"];
  if (opts.optimize) args.push("-optimize");
  if (opts.restart) args.push("-restart", `${opts.restart}B`);
  return run(JPEGTRAN, args, input);
}

/** The segments before the entropy-coded data, split into APPn segments and everything else. */
function splitApp(bytes: Uint8Array): { app: Buffer[]; rest: Buffer } {
  const app: Buffer[] = [];
  const rest: Buffer[] = [Buffer.from([0xff, 0xd8])];
  let i = 2;
  while (i < bytes.length) {
    const marker = bytes[i + 1]!;
    if (marker === 0xda) {
      rest.push(Buffer.from(bytes.subarray(i)));
      break;
    }
    const end = i + 2 + ((bytes[i + 2]! << 8) | bytes[i + 3]!);
    (marker >= 0xe0 && marker <= 0xef ? app : rest).push(Buffer.from(bytes.subarray(i, end)));
    i = end;
  }
  return { app, rest: Buffer.concat(rest) };
}

function gradient(width: number, height: number): Buffer {
  const raw = pictureRaw(width, height);
  // Texture in every channel, so that every coefficient position and sign gets exercised.
  for (let i = 0; i < raw.length; i++) raw[i] = (raw[i]! + ((i * 2654435761) >>> 27)) & 0xff;
  return raw;
}

async function sharpJpeg(width: number, height: number, opts: sharp.JpegOptions & { grey?: boolean; icc?: boolean } = {}): Promise<Buffer> {
  let image = sharp(gradient(width, height), { raw: { width, height, channels: 3 } });
  if (opts.grey) image = image.toColourspace("b-w");
  if (opts.icc) image = image.withIccProfile("p3");
  return image.jpeg({ quality: 90, ...opts }).toBuffer();
}

/** cjpeg reaches what sharp cannot: 4:2:2 and 4:4:0 sampling, RGB JPEG, 16-bit quantisation tables. */
function cjpeg(width: number, height: number, args: string[]): Buffer {
  const ppm = Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`), gradient(width, height)]);
  const out = run(CJPEG, args, ppm);
  if (!out) throw new Error(`cjpeg ${args.join(" ")} failed`);
  return out;
}

interface Case {
  name: string;
  make: () => Promise<Buffer> | Buffer;
  restart?: number;
  icc?: boolean;
}

const CASES: Case[] = [
  { name: "4:2:0 64x48", make: () => sharpJpeg(64, 48) },
  { name: "4:4:4 40x24", make: () => sharpJpeg(40, 24, { chromaSubsampling: "4:4:4" }) },
  { name: "4:2:0 99x77 (partial MCUs both ways)", make: () => sharpJpeg(99, 77) },
  { name: "4:4:4 99x77", make: () => sharpJpeg(99, 77, { chromaSubsampling: "4:4:4" }) },
  { name: "4:2:0 128x77 (whole MCUs across only)", make: () => sharpJpeg(128, 77) },
  { name: "4:2:0 77x128 (whole MCUs down only)", make: () => sharpJpeg(77, 128) },
  { name: "greyscale 99x64", make: () => sharpJpeg(99, 64, { grey: true }) },
  { name: "greyscale 96x61", make: () => sharpJpeg(96, 61, { grey: true }) },
  { name: "4:2:0 with a colour profile, standard tables", make: () => sharpJpeg(96, 64, { icc: true, optimiseCoding: false }), icc: true },
  { name: "4:2:2 80x50", make: () => cjpeg(80, 50, ["-sample", "2x1"]) },
  { name: "4:4:0 50x80", make: () => cjpeg(50, 80, ["-sample", "1x2"]) },
  { name: "RGB (Adobe transform 0) 48x40", make: () => cjpeg(48, 40, ["-rgb"]) },
  { name: "16-bit quantisation tables (SOF1) 32x32", make: () => cjpeg(32, 32, ["-quality", "50", "-sample", "1x1", "-qtables", qtablesFile()]) },
  { name: "restart every 5 MCUs, 4:2:0 64x48", make: async () => run(JPEGTRAN, ["-restart", "5B"], await sharpJpeg(64, 48))!, restart: 5 },
  { name: "restart every MCU row, 4:4:4 99x77", make: async () => run(JPEGTRAN, ["-restart", "1"], await sharpJpeg(99, 77, { chromaSubsampling: "4:4:4" }))!, restart: 13 },
  { name: "restart every 7 blocks, greyscale", make: async () => run(JPEGTRAN, ["-restart", "7B"], await sharpJpeg(96, 61, { grey: true }))!, restart: 7 },
  { name: "three non-interleaved scans", make: async () => run(JPEGTRAN, ["-scans", scansFile()], await sharpJpeg(64, 48))! },
  // About 2.5 million non-zero coefficients: the coefficient store spans several of its 2^20-value chunks.
  { name: "4:4:4 1024x1024 at quality 98 (millions of non-zero coefficients)", make: () => sharpJpeg(1024, 1024, { quality: 98, chromaSubsampling: "4:4:4" }) },
];

function qtablesFile(): string {
  const file = path.join(dir, "qtables.txt");
  fs.writeFileSync(file, Array.from({ length: 64 }, (_, i) => 200 + i * 5).join(" "));
  return file;
}

function scansFile(): string {
  const file = path.join(dir, "scans.txt");
  fs.writeFileSync(file, "0;\n1;\n2;\n");
  return file;
}

describe.skipIf(!haveJpegtran)("transformJpeg is bit-exact with jpegtran -perfect", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const input = new Uint8Array(await c.make());
      let transformed = 0;
      for (const orientation of ORIENTATIONS) {
        for (const optimize of [true, false]) {
          const ours = transformJpeg(input, orientation, { optimizeCoding: optimize });
          const theirs = jpegtran(input, orientation, { optimize, restart: c.restart, icc: c.icc });
          const label = `orientation ${orientation}, ${optimize ? "optimal" : "standard"} tables`;
          // Both refuse the same geometries.
          expect(ours === null, label).toBe(theirs === null);
          if (!ours || !theirs) continue;
          transformed++;
          // jpegtran adds a JFIF segment (and its own Adobe one); everything else is the same bytes.
          expect(splitApp(ours).rest.equals(splitApp(theirs).rest), label).toBe(true);
          expect(splitApp(ours).app, label).toEqual(splitApp(input).app.filter((s) => s.includes("ICC_PROFILE") || s.includes("Adobe")));
        }
      }
      expect(transformed).toBeGreaterThan(0);
    });
  }

  it("decodes to the same pixels as jpegtran's output", async () => {
    const input = await sharpJpeg(64, 48);
    const ours = transformJpeg(input, 6)!;
    const theirs = jpegtran(input, 6, { optimize: false })!; // the standard tables are the default
    expect(splitApp(ours).rest.equals(splitApp(theirs).rest)).toBe(true);
    const a = await sharp(ours).raw().toBuffer({ resolveWithObject: true });
    const b = await sharp(theirs).raw().toBuffer({ resolveWithObject: true });
    expect(a.info).toMatchObject({ width: 48, height: 64 });
    expect(a.data.equals(b.data)).toBe(true);
  });
});

/** RGB pixels of a binary PPM (P6, maxval 255), as djpeg writes it. */
function ppmPixels(ppm: Buffer): { width: number; height: number; data: Buffer } {
  const [, width, height] = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.toString("latin1", 0, 64))!;
  const header = /^P6\s+\d+\s+\d+\s+255\s/.exec(ppm.toString("latin1", 0, 64))![0].length;
  return { width: Number(width), height: Number(height), data: ppm.subarray(header) };
}

function meanAndMax(a: Uint8Array, b: Uint8Array): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}

describe.skipIf(!haveJpegtran)("the 1/8-scale preview of transformJpegWithPreview", () => {
  const samplings: [string, () => Promise<Buffer> | Buffer][] = [
    ["4:2:0", () => sharpJpeg(256, 192)],
    ["4:4:4", () => sharpJpeg(256, 192, { chromaSubsampling: "4:4:4" })],
  ];
  for (const [name, make] of samplings) {
    it(`is what djpeg -scale 1/8 decodes from the result, up to rounding: ${name}`, async () => {
      const input = await make();
      for (const orientation of [3, 6] as const) {
        const turned = transformJpegWithPreview(input, orientation, 0)!;
        const theirs = ppmPixels(run(DJPEG, ["-scale", "1/8"], turned.bytes)!);
        expect(turned.preview, `${name}, orientation ${orientation}`).toMatchObject({ width: theirs.width, height: theirs.height });
        const { mean, max } = meanAndMax(turned.preview!.data, theirs.data);
        expect(mean, `${name}, orientation ${orientation}`).toBeLessThan(0.1);
        expect(max, `${name}, orientation ${orientation}`).toBeLessThanOrEqual(3);
      }
    });
  }
});

describe("transformJpeg", () => {
  it("with a preview: sharp makes the same thumbnail from it as from the result, when the picture is large enough", async () => {
    // 3840 is over nine times the 400 px box, where sharp's shrink-on-load decodes at 1/8.
    const input = await sharp(gradient(960, 540), { raw: { width: 960, height: 540, channels: 3 } })
      .resize(3840, 2160, { kernel: "cubic" })
      .jpeg({ quality: 90 })
      .toBuffer();
    const turned = transformJpegWithPreview(input, 6, 3600)!;
    const preview = turned.preview!;
    expect(preview).toMatchObject({ width: 270, height: 480 });
    const box = { fit: "inside", withoutEnlargement: true } as const;
    const fromFile = await sharp(turned.bytes).resize(400, 400, box).raw().toBuffer({ resolveWithObject: true });
    const fromPreview = await sharp(preview.data, { raw: { width: preview.width, height: preview.height, channels: 3 } })
      .resize(400, 400, box)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(fromPreview.info).toMatchObject({ width: fromFile.info.width, height: fromFile.info.height });
    expect(meanAndMax(fromPreview.data, fromFile.data).mean).toBeLessThan(0.1);
    // Not made below the asked size, nor for greyscale or 4:2:2 (which libjpeg scales another way).
    expect(transformJpegWithPreview(input, 6, 3841)!.preview).toBeNull();
    expect(transformJpegWithPreview(await sharpJpeg(64, 48, { grey: true }), 6, 0)!.preview).toBeNull();
    if (haveJpegtran) expect(transformJpegWithPreview(cjpeg(80, 48, ["-sample", "2x1"]), 3, 0)!.preview).toBeNull();
  });

  it("with reuseOutput writes the same bytes, in memory kept for the next call, whatever the picture before", async () => {
    const large = await sharpJpeg(640, 480, { quality: 95 });
    const small = await sharpJpeg(99, 77, { chromaSubsampling: "4:4:4" });
    const expectedSmall = transformJpeg(small, 5)!;
    const expectedLarge = transformJpeg(large, 6)!;
    // The larger picture first, so the smaller one is written over its leftovers.
    const first = transformJpeg(large, 6, { reuseOutput: true })!;
    expect(Buffer.from(first).equals(Buffer.from(expectedLarge))).toBe(true);
    const second = transformJpeg(small, 5, { reuseOutput: true })!;
    expect(Buffer.from(second).equals(Buffer.from(expectedSmall))).toBe(true);
    expect(second.buffer).toBe(first.buffer); // the same memory, reused
    // Without the option each result has memory of its own.
    expect(transformJpeg(small, 5)!.buffer).not.toBe(transformJpeg(small, 5)!.buffer);
  });

  it("turns each orientation upright as browsers and sharp do", async () => {
    for (const orientation of ORIENTATIONS) {
      const input = await addJpegMetadata(await sharpJpeg(64, 48, { chromaSubsampling: "4:4:4", quality: 95 }), orientation);
      const expected = await sharp(input).rotate().raw().toBuffer({ resolveWithObject: true });
      const ours = await sharp(transformJpeg(input, orientation)!).raw().toBuffer({ resolveWithObject: true });
      expect(ours.info, `orientation ${orientation}`).toMatchObject({ width: expected.info.width, height: expected.info.height });
      // Pixel-domain rotation rounds differently from moving DCT blocks, but only by a level or two.
      let diff = 0;
      for (let i = 0; i < ours.data.length; i++) diff += Math.abs(ours.data[i]! - expected.data[i]!);
      expect(diff / ours.data.length, `orientation ${orientation}`).toBeLessThan(1.5);
    }
  });

  it("keeps the colour profile, drops EXIF and the rest, and needs no further stripping", async () => {
    const input = await addJpegMetadata(await sharpJpeg(64, 48, { icc: true }), 6);
    const out = transformJpeg(input, 6)!;
    const meta = await sharp(out).metadata();
    expect(meta).toMatchObject({ width: 48, height: 64 });
    expect(meta.icc).toBeDefined();
    expect(meta.exif ?? meta.xmp ?? meta.iptc ?? meta.comments).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    const stripped = stripMetadata(out, "jpeg");
    expect(stripped.removed).toEqual([]);
    expect(Buffer.from(stripped.bytes).equals(Buffer.from(out))).toBe(true);
  });

  it("returns null where the edge MCUs would have to move, and transposes any size", async () => {
    const input = await sharpJpeg(100, 100); // 4:2:0: 100 is not a multiple of 16
    for (const orientation of [2, 3, 4, 6, 7, 8] as const) expect(transformJpeg(input, orientation), `orientation ${orientation}`).toBeNull();
    expect(transformJpeg(input, 5)).not.toBeNull();
    const rows = await sharpJpeg(100, 96); // whole MCUs down only
    expect(transformJpeg(rows, 6)).not.toBeNull(); // rotating clockwise moves the bottom edge to the left
    expect(transformJpeg(rows, 8)).toBeNull();
    expect(transformJpeg(rows, 4)).not.toBeNull();
    expect(transformJpeg(rows, 2)).toBeNull();
  });

  it("returns null for progressive, arithmetic-coded and 12-bit JPEGs", async () => {
    expect(transformJpeg(await sharpJpeg(64, 48, { progressive: true }), 6)).toBeNull();
    if (haveJpegtran) expect(transformJpeg(run(JPEGTRAN, ["-arithmetic"], await sharpJpeg(64, 48))!, 6)).toBeNull();
    const twelveBit = new Uint8Array(await sharpJpeg(64, 48));
    const sof = Buffer.from(twelveBit).indexOf(Buffer.from([0xff, 0xc0]));
    twelveBit[sof + 4] = 12;
    expect(transformJpeg(twelveBit, 6)).toBeNull();
  });

  it("rejects an orientation outside 2..8", async () => {
    const input = await sharpJpeg(16, 16);
    expect(() => transformJpeg(input, 1 as Orientation)).toThrow(RangeError);
  });
});
