import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostileCase, hostileCorpus } from "../fixtures/hostile.js";
import { getBytes, listBlobs, listTemp, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const MiB = 1024 * 1024;
const corpus = await hostileCorpus();

describe("the hostile-file corpus", () => {
  let srv: TestServer;
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(async () => {
    clearInterval(sampler);
    await srv.stop();
  });

  it.each(corpus.map((c) => [c.name, c] as [string, HostileCase]))("%s", async (_name, hostile) => {
    const res = await upload(srv.baseUrl, hostile.bytes, hostile.filename);
    if ("refused" in hostile.expect) {
      expect(res.status, JSON.stringify(res.body)).toBe(hostile.expect.refused);
      expect(res.body).toEqual({ error: { code: hostile.expect.code ?? expect.any(String), message: expect.any(String) } });
    } else {
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const stored = (await getBytes(res.body.rawUrl)).bytes.toString("latin1");
      for (const text of hostile.expect.storedWithout) expect(stored.includes(text), `stored bytes still hold ${JSON.stringify(text)}`).toBe(false);
      const del = await fetch(res.body.url.replace("/i/", "/api/v1/images/"), { method: "DELETE", headers: { "x-delete-token": res.body.deleteToken } });
      expect(del.status).toBe(204);
    }
    // Whatever the answer, nothing of the upload is left behind and the server stays healthy.
    expect(await listTemp(srv.dataDir)).toEqual([]);
    expect(await listBlobs(srv.px.blobs)).toEqual([]);
    const active = await srv.px.db.db.selectFrom("images").select("id").where("status", "!=", "deleted").execute();
    expect(active).toEqual([]);
    expect((await fetch(`${srv.baseUrl}/healthz`)).status).toBe(200);
  });

  it("keeps memory bounded through the whole corpus", () => {
    const grown = (peakRss - rssBefore) / MiB;
    console.log(`hostile corpus: ${corpus.length} files; peak RSS ${Math.round(peakRss / MiB)} MB (+${Math.round(grown)} MB over the test process before the server started)`);
    // The decode allowance is 400 MiB; the thumbnail of 8000×8000 zeros streams, and every bomb is refused from its header.
    expect(grown).toBeLessThan(600);
  });
});
