import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHeader } from "../../src/tools/decode.js";
import { addJpegMetadata } from "../fixtures/metadata.js";
import { validIccProfile } from "../fixtures/metadata-attacks.js";

const HEAD = 64 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-header-"));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

async function onDisk(name: string, bytes: Uint8Array): Promise<{ file: string; head: Uint8Array }> {
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  return { file, head: bytes.subarray(0, HEAD) };
}

/** A JPEG segment: marker, big-endian length (itself included), payload. */
function segment(marker: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload]);
}

describe("readHeader on JPEG", () => {
  it("reads from the head in memory what it reads from the file: size, orientation, profile, progressive, subsampling", async () => {
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#a63" } })
      .withIccProfile("p3")
      .jpeg({ progressive: true, chromaSubsampling: "4:2:0" })
      .toBuffer();
    const { file, head } = await onDisk("phone.jpg", await addJpegMetadata(photo, 6));
    const fromHead = await readHeader(file, "jpeg", head);
    const fromFile = await readHeader(file, "jpeg", new Uint8Array(0));
    expect(fromHead).toEqual(fromFile);
    expect(fromHead).toMatchObject({ width: 640, height: 480, orientation: 6, progressive: true, chromaSubsampling: "4:2:0" });
    expect(fromHead.icc?.length).toBeGreaterThan(0);
  });

  it("reads the file when the header goes on past the head (a large profile and comments before the picture)", async () => {
    const plain = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#36a" } })
      .jpeg()
      .toBuffer();
    const profile = await validIccProfile();
    // 70 KiB of comments, then the colour profile, then the frame header: all past the first 64 KiB.
    const comments = Array.from({ length: 7 }, () => segment(0xfe, Buffer.alloc(10_000, 0x61)));
    const icc = segment(0xe2, Buffer.concat([Buffer.from("ICC_PROFILE\0", "latin1"), Buffer.from([1, 1]), profile]));
    const jpeg = Buffer.concat([plain.subarray(0, 2), ...comments, icc, plain.subarray(2)]);
    const { file, head } = await onDisk("late-header.jpg", jpeg);
    expect(jpeg.length).toBeGreaterThan(HEAD);
    const header = await readHeader(file, "jpeg", head);
    expect(header).toMatchObject({ width: 300, height: 200, orientation: 1 });
    expect(header.icc?.length).toBe(profile.length);
  });

  it("still refuses a JPEG whose header is cut short (422)", async () => {
    const photo = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#000" } })
      .jpeg()
      .toBuffer();
    const { file, head } = await onDisk("cut.jpg", photo.subarray(0, 40));
    await expect(readHeader(file, "jpeg", head)).rejects.toMatchObject({ code: "invalid_image", status: 422 });
  });
});
