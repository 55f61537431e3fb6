import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { parseCidr } from "../../src/net/ip.js";

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

describe("blocked networks", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ config: { trustProxy: true, uploadRateLimit: null, blockedNetworks: [parseCidr("203.0.113.0/24"), parseCidr("2001:db8:bad::/48")] } });
  });
  afterAll(() => srv.stop());

  it("P16: a blocked network answers 403 for uploads, tool jobs, reports and messages, and may still view", async () => {
    const form = () => {
      const body = new FormData();
      body.append("file", new Blob([new Uint8Array([0xff, 0xd8, 0xff])]), "a.jpg");
      return body;
    };
    const allowed = new FormData();
    allowed.append("file", new Blob([(await plainJpeg(48, 48)) as Uint8Array<ArrayBuffer>]), "ok.jpg");
    const image = await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: allowed })).json();
    const json = { "content-type": "application/json" };
    for (const ip of ["203.0.113.77", "2001:db8:bad:1::5"]) {
      const from = { "x-forwarded-for": ip };
      const attempts = [
        fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form(), headers: from }),
        fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form(), headers: from }),
        fetch(`${srv.baseUrl}/api/v1/images/${image.id}/reports`, { method: "POST", body: JSON.stringify({ reason: "spam" }), headers: { ...from, ...json } }),
        fetch(`${srv.baseUrl}/api/v1/contact`, { method: "POST", body: JSON.stringify({ email: "a@example.org", message: "Hello there, operator." }), headers: { ...from, ...json } }),
        fetch(`${srv.baseUrl}/api/v1/images/${image.id}`, { method: "DELETE", headers: { ...from, "x-delete-token": image.deleteToken } }),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.status, `${res.url} from ${ip}`).toBe(403);
        expect((await res.json()).error.code).toBe("blocked");
      }
      expect((await fetch(image.rawUrl, { headers: from })).status).toBe(200);
    }
    // Its neighbours are not blocked.
    expect((await fetch(`${srv.baseUrl}/api/v1/contact`, { method: "POST", body: JSON.stringify({ email: "a@example.org", message: "Hello there, operator." }), headers: { "x-forwarded-for": "203.0.114.1", ...json } })).status).toBe(201);
  });
});
