import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

describe("upload rate limit", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ config: { trustProxy: true, uploadRateLimit: { max: 3, windowMs: 60_000 } } });
  });
  afterAll(() => srv.stop());

  async function uploadFrom(ip: string) {
    const form = new FormData();
    form.append("file", new Blob([(await plainJpeg(48, 48)) as Uint8Array<ArrayBuffer>]), "a.jpg");
    return fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form, headers: { "x-forwarded-for": ip } });
  }

  it("P16: the upload past the limit answers 429 with Retry-After, counted per network", async () => {
    for (let i = 0; i < 3; i++) expect((await uploadFrom("198.51.100.7")).status).toBe(201);
    const limited = await uploadFrom("198.51.100.7");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toEqual({ error: { code: "rate_limited", message: expect.stringContaining("Too many uploads") } });
    // Another host of the same /24 shares the budget; another network has its own.
    expect((await uploadFrom("198.51.100.99")).status).toBe(429);
    expect((await uploadFrom("192.0.2.9")).status).toBe(201);
    // Viewing is never limited by it.
    expect((await fetch(`${srv.baseUrl}/healthz`, { headers: { "x-forwarded-for": "198.51.100.7" } })).status).toBe(200);
  });
});
