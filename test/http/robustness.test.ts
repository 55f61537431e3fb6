import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { avifWithMetadata, gifWithMetadata, jpegWithMetadata, pngWithMetadata, webpWithMetadata } from "../fixtures/metadata.js";
import { listBlobs, listTemp, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** A small deterministic generator, so a failure names a reproducible case. */
function random(seed: number) {
  let state = seed >>> 0;
  return (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

/** Bit flips, overwritten runs, cuts and splices, concentrated in the container headers where parsers live. */
function mutate(bytes: Uint8Array, seed: number): Uint8Array {
  const rand = random(seed);
  const out = Uint8Array.from(bytes);
  const headerZone = Math.min(out.length, 2048);
  switch (seed % 4) {
    case 0:
      for (let i = 0; i < 1 + rand(8); i++) out[rand(headerZone)]! ^= 1 << rand(8);
      return out;
    case 1: {
      const at = rand(headerZone);
      out.fill(rand(2) ? 0xff : 0x00, at, at + 1 + rand(16));
      return out;
    }
    case 2:
      return out.subarray(0, 1 + rand(out.length - 1));
    default: {
      const at = rand(headerZone);
      return Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + 1 + rand(64))]);
    }
  }
}

describe("hostile image bytes", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.stop());

  it("never answer 5xx, never crash the server and never leave anything behind", async () => {
    const seeds = [await jpegWithMetadata(), await pngWithMetadata(), await webpWithMetadata(), await gifWithMetadata({ frames: 2 }), await avifWithMetadata()];
    const statuses = new Map<number, number>();
    for (const [s, seedImage] of seeds.entries()) {
      for (let i = 0; i < 40; i++) {
        const seed = s * 1000 + i;
        const res = await upload(srv.baseUrl, mutate(seedImage, seed), `fuzz-${seed}.bin`);
        expect(res.status, `seed ${seed}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
        if (res.status !== 201) expect(res.body.error.code, `seed ${seed}`).toMatch(/^[a-z_]+$/);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }
    expect((await fetch(`${srv.baseUrl}/healthz`)).status).toBe(200);
    expect(await listTemp(srv.dataDir)).toEqual([]);
    const rows = await srv.px.db.db.selectFrom("images").select("id").execute();
    expect(await listBlobs(srv.px.blobs)).toHaveLength(rows.length * 2);
    expect(statuses.size).toBeGreaterThan(1); // both accepted and refused cases were exercised
  }, 180_000);
});
