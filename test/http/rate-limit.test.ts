import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/common/clock.js";
import { plainJpeg } from "../fixtures/images.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { parseCidr } from "../../src/net/ip.js";
import { createHash } from "node:crypto";
import { leadingZeroBits, proofInput } from "../../src/common/proof-of-work.js";
import { loadConfig } from "../../src/config.js";

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
    // No proof-of-work check by default: no challenge to ask for.
    expect((await fetch(`${srv.baseUrl}/api/v1/pow`)).status).toBe(404);
    // Viewing is never limited by it.
    expect((await fetch(`${srv.baseUrl}/healthz`, { headers: { "x-forwarded-for": "198.51.100.7" } })).status).toBe(200);
  });

  it("P16: batches of tool jobs have their own budget of the same size: the one past it answers 429 and queues nothing", async () => {
    const submitFrom = async (ip: string, name: string) => {
      const form = new FormData();
      form.append("tool", "strip");
      form.append("params", "{}");
      form.append("file", new Blob([(await plainJpeg(32, 32)) as Uint8Array<ArrayBuffer>]), name);
      return fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form, headers: { "x-forwarded-for": ip } });
    };
    // The network that spent its image uploads above still has its batches.
    for (let i = 0; i < 3; i++) expect((await submitFrom("198.51.100.7", `ok-${i}.jpg`)).status).toBe(202);
    const limited = await submitFrom("198.51.100.8", "limited.jpg");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toEqual({ error: { code: "rate_limited", message: expect.stringContaining("Too many batches") } });
    expect(await srv.px.db.db.selectFrom("jobs").select("id").where("input_name", "=", "limited.jpg").execute()).toEqual([]);
    expect((await submitFrom("192.0.2.9", "other.jpg")).status).toBe(202);
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

describe("proof of work on anonymous uploads", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ config: { uploadRateLimit: null, proofOfWorkBits: 10 } });
  });
  afterAll(() => srv.stop());

  const challenge = async () => (await (await fetch(`${srv.baseUrl}/api/v1/pow`)).json()) as { challenge: string; bits: number };
  /** What the page's worker does: the first nonce whose hash starts with enough zero bits. */
  const solve = ({ challenge, bits }: { challenge: string; bits: number }) => {
    for (let nonce = 0; ; nonce++) if (leadingZeroBits(createHash("sha256").update(proofInput(challenge, nonce)).digest()) >= bits) return `${challenge}:${nonce}`;
  };
  async function uploadWith(headers: Record<string, string>) {
    const form = new FormData();
    form.append("file", new Blob([(await plainJpeg(48, 48)) as Uint8Array<ArrayBuffer>]), "a.jpg");
    return fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form, headers });
  }

  it("P16: with the check on, an anonymous upload (an image, or files for a tool) without a valid proof of work answers 400; a solved challenge passes once; an account needs none", async () => {
    expect((await (await fetch(`${srv.baseUrl}/api/v1/config`)).json()).proofOfWorkBits).toBe(10);
    const none = await uploadWith({});
    expect(none.status).toBe(400);
    expect((await none.json()).error.code).toBe("proof_of_work_required");

    const issued = await challenge();
    expect(issued.bits).toBe(10);
    const proof = solve(issued);
    const [, nonce] = /:(\d+)$/.exec(proof)!;
    const wrong = await uploadWith({ "x-proof-of-work": `${issued.challenge}:${Number(nonce) + 1}` });
    // A neighbouring nonce solves it only by chance (1 in 1024): then it is the right answer too.
    if (wrong.status !== 201) expect((await wrong.json()).error).toMatchObject({ code: "invalid_proof_of_work", message: expect.stringContaining("does not solve") });

    const forged = `${issued.challenge.slice(0, -43)}${"A".repeat(43)}:${nonce}`;
    expect((await (await uploadWith({ "x-proof-of-work": forged })).json()).error.message).toMatch(/not issued by this server/);

    const fresh = solve(await challenge());
    expect((await uploadWith({ "x-proof-of-work": fresh })).status).toBe(201);
    const again = await uploadWith({ "x-proof-of-work": fresh });
    expect(again.status).toBe(400);
    expect((await again.json()).error.message).toMatch(/used already/);

    const { id: userId } = await srv.px.core.accounts.createUser(`pow-${Date.now()}@example.org`, false);
    const { token } = await srv.px.core.accounts.tokens.create(userId, "script");
    expect((await uploadWith({ authorization: `Bearer ${token}` })).status).toBe(201);

    // Files sent to a server tool are uploads too.
    const batch = async (headers: Record<string, string>) => {
      const form = new FormData();
      form.append("tool", "resize");
      form.append("params", JSON.stringify({ width: 10 }));
      form.append("file", new Blob([(await plainJpeg(32, 32)) as Uint8Array<ArrayBuffer>]), "t.jpg");
      return fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form, headers });
    };
    const unproven = await batch({});
    expect(unproven.status).toBe(400);
    expect((await unproven.json()).error.code).toBe("proof_of_work_required");
    expect((await batch({ "x-proof-of-work": solve(await challenge()) })).status).toBe(202);
    expect((await batch({ authorization: `Bearer ${token}` })).status).toBe(202);
  });

  it("P16: a proof spent on one server of a cluster does not pass on another, and its record goes once its challenge has expired", async () => {
    const clock = new ManualClock(Date.now());
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-cluster-"));
    const shared = { uploadRateLimit: null, proofOfWorkBits: 10, databaseUrl: `sqlite:${path.join(dir, "pixhaven.sqlite")}`, accounts: { ...srv.px.config.accounts, secret: "a shared secret of the cluster, 32 chars or more" } };
    const first = await startTestServer({ clock, config: shared });
    const second = await startTestServer({ clock, config: shared });
    try {
      const issued = (await (await fetch(`${first.baseUrl}/api/v1/pow`)).json()) as { challenge: string; bits: number };
      const proof = solve(issued);
      const send = async (server: TestServer) => {
        const form = new FormData();
        form.append("file", new Blob([(await plainJpeg(48, 48, 5)) as Uint8Array<ArrayBuffer>]), "a.jpg");
        return fetch(`${server.baseUrl}/api/v1/images`, { method: "POST", body: form, headers: { "x-proof-of-work": proof } });
      };
      expect((await send(first)).status).toBe(201);
      const replayed = await send(second);
      expect(replayed.status).toBe(400);
      expect((await replayed.json()).error.message).toMatch(/used already/);
      const spent = () => first.px.db.db.selectFrom("spent_proofs").selectAll().execute();
      expect(await spent()).toHaveLength(1);
      clock.advance(10 * 60_000 - 1000); // the challenge is still valid: its record stays
      expect((await first.px.core.retention.runAll()).spent_proofs).toBe(0);
      clock.advance(2000);
      expect((await first.px.core.retention.runAll()).spent_proofs).toBe(1);
      expect(await spent()).toEqual([]);
    } finally {
      await second.stop();
      await first.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("P16: the check is off by default; PROOF_OF_WORK takes 1 to 32 bits", () => {
    expect(loadConfig({}).proofOfWorkBits).toBeNull();
    expect(loadConfig({ PROOF_OF_WORK: "16" }).proofOfWorkBits).toBe(16);
    expect(() => loadConfig({ PROOF_OF_WORK: "64" })).toThrow(/1 to 32/);
  });
});
