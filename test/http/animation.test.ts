import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { animatedWebpBomb, distinctFrames, gifWithScreen, orientedAnimatedWebp } from "../fixtures/animations.js";
import { getBytes, listTemp, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** Each frame of `frames` (RGBA, stacked) turned by sharp's own reading of the orientation tag. */
async function expectedUprightFrames(width: number, height: number, count: number, orientation: number): Promise<Buffer[]> {
  const source = distinctFrames(width, height, count);
  const frameBytes = width * height * 4;
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const tagged = await sharp(source.subarray(i * frameBytes, (i + 1) * frameBytes), { raw: { width, height, channels: 4 } })
        .png()
        .withMetadata({ orientation })
        .toBuffer();
      return sharp(tagged).autoOrient().ensureAlpha().raw().toBuffer();
    }),
  );
}

describe("animations and their headers", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.stop());

  for (const orientation of [2, 3, 4, 5, 6, 7, 8]) {
    it(`an animated WebP with orientation ${orientation} keeps every frame, each turned upright, and its timing`, async () => {
      const delay = [100, 150, 200];
      const res = await upload(srv.baseUrl, await orientedAnimatedWebp(64, 48, 3, orientation, delay), "anim.webp");
      expect(res.status).toBe(201);
      const sideways = orientation >= 5;
      expect(res.body).toMatchObject({ frames: 3, width: sideways ? 48 : 64, height: sideways ? 64 : 48, mime: "image/webp" });
      const stored = (await getBytes(res.body.rawUrl)).bytes;
      const meta = await sharp(stored, { animated: true }).metadata();
      expect(meta).toMatchObject({ pages: 3, delay, loop: 0 });
      expect(meta.orientation ?? 1).toBe(1);
      expect(meta.exif).toBeUndefined();
      const frames = await sharp(stored, { animated: true }).ensureAlpha().raw().toBuffer();
      const expected = await expectedUprightFrames(64, 48, 3, orientation);
      // Lossless in, lossless out: every pixel of every frame is exact.
      expect(frames.equals(Buffer.concat(expected))).toBe(true);
    });
  }

  it("refuses an animation whose decoding would exceed the memory allowance, from its header and quickly", async () => {
    const bomb = await animatedWebpBomb(1000, 1000, 999);
    expect(bomb.length).toBeLessThan(200_000);
    const started = performance.now();
    const before = process.memoryUsage().rss;
    const res = await upload(srv.baseUrl, bomb, "bomb.webp");
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("too_many_pixels");
    expect(res.body.error.message).toMatch(/limit is \d+ MiB/);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
    expect(await listTemp(srv.dataDir)).toEqual([]);
  });

  it("checks a GIF's logical screen against MAX_PIXELS and reports the size a browser shows", async () => {
    const huge = await upload(srv.baseUrl, gifWithScreen(65535, 65535), "screen.gif");
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("too_many_pixels");
    const framed = await upload(srv.baseUrl, gifWithScreen(300, 200), "framed.gif");
    expect(framed.status).toBe(201);
    expect(framed.body).toMatchObject({ width: 300, height: 200, frames: 1 });
  });
});
