import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";

import { CREATOR, c2paManifestStore, pngChunk, withPngChunks } from "../fixtures/metadata-attacks.js";
import { describeEachDialect, getBytes, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

async function plainPng(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 64, channels: 3, background: "#3a7" } }).png().toBuffer();
}

describeEachDialect("uploads keep only what rendering needs", (dialect) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ dialect });
  });
  afterAll(() => srv.stop());

  it("P7: a PNG's C2PA caBX and private chunks are not stored, pixels unchanged", async () => {
    const input = withPngChunks(await plainPng(), pngChunk("caBX", c2paManifestStore()), pngChunk("prVt", Buffer.from(CREATOR)));
    const res = await upload(srv.baseUrl, input, "credentials.png");
    expect(res.status).toBe(201);
    const stored = (await getBytes(res.body.rawUrl)).bytes;
    expect(stored.includes(CREATOR)).toBe(false);
    expect(stored.includes("caBX")).toBe(false);
    expect((await sharp(stored).raw().toBuffer()).equals(await sharp(input).raw().toBuffer())).toBe(true);
  });

  it("a PNG with a broken chunk CRC answers 422 invalid_image", async () => {
    const png = await plainPng();
    const idat = png.indexOf("IDAT", 8, "latin1");
    const crcAt = idat + 4 + png.readUInt32BE(idat - 4);
    png[crcAt] = png[crcAt]! ^ 0x5a;
    const res = await upload(srv.baseUrl, png, "broken.png");
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: { code: "invalid_image", message: expect.any(String) } });
  });
});
