import { spawnSync } from "node:child_process";
import fs from "node:fs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { MalformedJpegError, transformJpeg } from "../../src/common/jpeg/index.js";
import { pictureRaw } from "../fixtures/metadata.js";

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function photo(width: number, height: number, chromaSubsampling: "4:2:0" | "4:4:4"): Promise<Uint8Array> {
  return new Uint8Array(await sharp(pictureRaw(width, height), { raw: { width, height, channels: 3 } }).jpeg({ quality: 85, chromaSubsampling }).toBuffer());
}

/** Corrupt input may give a picture, null or MalformedJpegError: never another error, a hang or a huge allocation. */
function tryTransform(bytes: Uint8Array): "ok" | "null" | "malformed" {
  try {
    return transformJpeg(bytes, 6) ? "ok" : "null";
  } catch (err) {
    if (err instanceof MalformedJpegError) return "malformed";
    throw err;
  }
}

/** The same picture with a restart marker after every 2 MCUs, when jpegtran is at hand to add them. */
function withRestarts(jpeg: Uint8Array): Uint8Array[] {
  if (!fs.existsSync("/usr/bin/jpegtran")) return [];
  const res = spawnSync("/usr/bin/jpegtran", ["-restart", "2B"], { input: jpeg });
  return res.status === 0 ? [new Uint8Array(res.stdout)] : [];
}

describe("transformJpeg on corrupt input", () => {
  it("survives hundreds of bit flips and truncations quickly", async () => {
    const next = random(42);
    const outcomes = { ok: 0, null: 0, malformed: 0 };
    const started = Date.now();
    const small = await photo(64, 48, "4:2:0");
    for (const input of [small, await photo(48, 32, "4:4:4"), ...withRestarts(small)]) {
      for (let i = 0; i < 200; i++) {
        const bytes = input.slice();
        for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) bytes[Math.floor(next() * bytes.length)]! ^= 1 << Math.floor(next() * 8);
        outcomes[tryTransform(bytes)]++;
      }
      for (let i = 0; i < 75; i++) outcomes[tryTransform(input.subarray(0, Math.floor(next() * input.length)))]++;
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(outcomes.malformed).toBeGreaterThan(0);
    expect(outcomes.ok).toBeGreaterThan(0); // flips in the entropy-coded data often still decode
  });

  it("reports a truncated scan instead of inventing the missing blocks", async () => {
    const input = await photo(64, 48, "4:2:0");
    const eoi = input.length - 2;
    expect(() => transformJpeg(input.subarray(0, eoi - 40), 6)).toThrow(MalformedJpegError);
    expect(transformJpeg(input.subarray(0, eoi), 6)).not.toBeNull(); // only the EOI missing: complete
  });

  it("refuses a header that claims 65528x65528 pixels over 1 KB of data, before allocating", async () => {
    const input = await photo(16, 16, "4:4:4");
    const bytes = input.slice();
    const sof = Buffer.from(bytes).indexOf(Buffer.from([0xff, 0xc0]));
    bytes.set([0xff, 0xf8, 0xff, 0xf8], sof + 5); // height, width: 65528, whole MCUs
    const before = process.memoryUsage().arrayBuffers;
    expect(transformJpeg(bytes, 6)).toBeNull(); // over the default pixel limit
    // Without a pixel limit, the size of the data is what gives the lie away.
    expect(() => transformJpeg(bytes, 6, { maxPixels: Infinity })).toThrow(MalformedJpegError);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });

  it("returns null past the pixel limit it is given", async () => {
    const input = await photo(64, 48, "4:2:0");
    expect(transformJpeg(input, 6, { maxPixels: 64 * 48 - 1 })).toBeNull();
    expect(transformJpeg(input, 6, { maxPixels: 64 * 48 })).not.toBeNull();
  });

  it("rejects what is not a JPEG", () => {
    expect(() => transformJpeg(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 6)).toThrow(MalformedJpegError);
    expect(() => transformJpeg(new Uint8Array(0), 6)).toThrow(MalformedJpegError);
  });
});
