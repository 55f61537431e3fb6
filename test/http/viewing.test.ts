import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ManualClock } from "../../src/common/clock.js";
import { SHARE_ID_BITS } from "../../src/ids.js";
import { plainJpeg } from "../fixtures/images.js";
import { describeEachDialect, getBytes, listBlobs, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const DAY = 86_400_000;

describeEachDialect("viewing, views and deletion", (dialect) => {
  let srv: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  beforeAll(async () => {
    srv = await startTestServer({ dialect, clock });
  });
  afterAll(() => srv.stop());

  it("P8: share ids are 11 URL-safe random characters (66 bits) with no order or time in them", async () => {
    expect(SHARE_ID_BITS).toBeGreaterThanOrEqual(64);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await upload(srv.baseUrl, await plainJpeg(32, 32, i))).body.id);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Uploaded in sequence at the same instant, yet neither sorted nor sharing a prefix.
    expect([...ids].sort()).not.toEqual(ids);
    expect(new Set(ids.map((id) => id.slice(0, 4))).size).toBe(ids.length);
  });

  it("P8: unknown ids answer the same 404 whatever their shape", async () => {
    const shapes = ["AAAAAAAAAAA", "x", "..%2F..%2Fetc%2Fpasswd", "a".repeat(300), "%E2%98%83", "12345678901", "null"];
    const bodies = new Set<string>();
    for (const shape of shapes) {
      for (const path of [`/api/v1/images/${shape}`, `/i/${shape}/raw`, `/i/${shape}/thumb`]) {
        const res = await fetch(srv.baseUrl + path);
        expect(res.status, path).toBe(404);
        bodies.add(await res.text());
      }
      expect((await fetch(`${srv.baseUrl}/i/${shape}`)).status).toBe(404);
    }
    expect(bodies.size).toBe(1);
  });

  it("raw bytes come with exact type, length, ETag, immutable caching, nosniff and a safe disposition", async () => {
    const jpeg = await plainJpeg(1200, 900, 9);
    const { body } = await upload(srv.baseUrl, jpeg, 'evil"; filename=x.html');
    const raw = await getBytes(body.rawUrl);
    expect(raw.status).toBe(200);
    expect(raw.headers.get("content-type")).toBe("image/jpeg");
    expect(Number(raw.headers.get("content-length"))).toBe(body.bytes);
    expect(raw.bytes.length).toBe(body.bytes);
    expect(raw.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(raw.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(raw.headers.get("x-content-type-options")).toBe("nosniff");
    expect(raw.headers.get("content-disposition")).toBe(`inline; filename="${body.id}.jpg"`);
    expect(raw.headers.get("accept-ranges")).toBe("bytes");
    const again = await getBytes(body.rawUrl, { "if-none-match": raw.headers.get("etag")! });
    expect(again.status).toBe(304);
    const head = await fetch(body.rawUrl, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBe(body.bytes);
    expect(head.headers.get("etag")).toBe(raw.headers.get("etag"));
    const thumb = await getBytes(body.thumbUrl);
    expect(thumb.headers.get("content-type")).toBe("image/webp");
    const thumbMeta = await sharp(thumb.bytes).metadata();
    expect([thumbMeta.format, thumbMeta.width, thumbMeta.height]).toEqual(["webp", 400, 300]);
    expect(body.thumbhash).toMatch(/^[A-Za-z0-9+/]{20,}={0,2}$/);
  });

  it("the viewer page carries link-preview tags that reveal nothing but the picture", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(120, 80, 12), "Holiday in Lisbon.jpg");
    const html = await (await fetch(body.url)).text();
    expect(html).toContain(`<meta property="og:image" content="${body.rawUrl}" />`);
    expect(html).toContain('<meta property="og:image:width" content="120" />');
    expect(html).not.toContain("Lisbon");
    const missing = await (await fetch(`${srv.baseUrl}/i/AAAAAAAAAAA`)).text();
    expect(missing).not.toContain("og:image");
  });

  it("P9: an image classified above NSFW_THRESHOLD offers no picture to link previews", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(120, 80, 13));
    const classify = (scores: Record<string, number>) => {
      const label = Object.entries(scores).sort((a, b) => b[1] - a[1])[0]!;
      return srv.px.db.db.updateTable("images").set({ nsfw_label: label[0], nsfw_score: label[1], nsfw_scores: JSON.stringify(scores) }).where("id", "=", body.id).execute();
    };
    const sensitive = (html: string) => html.includes('<meta property="og:title" content="Sensitive image on Pixhaven" />') && !html.includes("og:image") && !html.includes(body.rawUrl);
    // The unsafe classes together (0.85) are above the threshold, though no single label is.
    await classify({ Drawing: 0.05, Hentai: 0.05, Neutral: 0.05, Porn: 0.45, Sexy: 0.4 });
    expect(sensitive(await (await fetch(body.url)).text())).toBe(true);
    // A drawing: its top label is sure (0.92), and nothing unsafe.
    await classify({ Drawing: 0.92, Hentai: 0.01, Neutral: 0.06, Porn: 0.005, Sexy: 0.005 });
    const safe = await (await fetch(body.url)).text();
    expect(sensitive(safe)).toBe(false);
    expect(safe).toContain(`<meta property="og:image" content="${body.rawUrl}" />`);
  });

  it("Range requests answer 206 with the exact slice, and 416 past the end", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(400, 300, 11));
    const full = (await getBytes(body.rawUrl)).bytes;
    const first = await getBytes(body.rawUrl, { range: "bytes=0-99" });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe(`bytes 0-99/${full.length}`);
    expect(first.bytes).toEqual(full.subarray(0, 100));
    const middle = await getBytes(body.rawUrl, { range: "bytes=100-" });
    expect(middle.bytes).toEqual(full.subarray(100));
    const suffix = await getBytes(body.rawUrl, { range: "bytes=-50" });
    expect(suffix.bytes).toEqual(full.subarray(full.length - 50));
    const past = await getBytes(body.rawUrl, { range: `bytes=${full.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${full.length}`);
    // The error is not cached as the image, nor offered as a file.
    expect([past.headers.get("cache-control"), past.headers.get("content-disposition"), past.headers.get("etag")]).toEqual(["no-store", null, null]);
    const stale = await getBytes(body.rawUrl, { range: "bytes=0-9", "if-range": '"other"' });
    expect(stale.status).toBe(200);
  });

  it("a view counts once per visitor per day, with no cookie and no address stored", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(64, 64, 21));
    const views = async () => (await (await fetch(`${srv.baseUrl}/api/v1/images/${body.id}`)).json()).views;
    const visit = (ua: string, path = "") => fetch(`${srv.baseUrl}/i/${body.id}${path}`, { headers: { "user-agent": ua } });
    const page = await visit("browser-a");
    expect(page.status).toBe(200);
    expect(page.headers.get("set-cookie")).toBeNull();
    await visit("browser-a");
    await visit("browser-a", "/raw");
    expect(await views()).toBe(1);
    await visit("browser-b");
    expect(await views()).toBe(2);
    await fetch(`${srv.baseUrl}/i/${body.id}/raw`, { headers: { "user-agent": "browser-c", range: "bytes=10-20" } });
    await fetch(`${srv.baseUrl}/i/${body.id}/thumb`, { headers: { "user-agent": "browser-c" } });
    expect(await views()).toBe(2);
    clock.advance(DAY);
    await visit("browser-a");
    expect(await views()).toBe(3);
    const dump = JSON.stringify(await srv.px.db.db.selectFrom("images").selectAll().execute());
    expect(dump).not.toContain("127.0.0.1");
  });

  it("P13: deleting with the token removes the blob and thumbnail at once; every URL then answers 410", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(64, 64, 31));
    const del = (token?: string) => fetch(`${srv.baseUrl}/api/v1/images/${body.id}`, { method: "DELETE", headers: token ? { "x-delete-token": token } : {} });
    expect((await del()).status).toBe(403);
    expect((await del("wrong-token")).status).toBe(403);
    expect((await getBytes(body.rawUrl)).status).toBe(200);
    expect(body.deleteToken.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits in base64url
    expect(body.deleteUrl).toBe(`${body.url}#delete=${body.deleteToken}`);
    expect((await del(body.deleteToken)).status).toBe(204);
    expect((await listBlobs(srv.px.blobs)).filter((k) => k.includes(body.id))).toEqual([]);
    for (const url of [body.rawUrl, body.thumbUrl, body.url, `${srv.baseUrl}/api/v1/images/${body.id}`]) {
      expect((await fetch(url)).status, url).toBe(410);
    }
    expect((await del(body.deleteToken)).status).toBe(410);
    const row = await srv.px.db.db.selectFrom("images").selectAll().where("id", "=", body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "deleted", delete_token_hash: null, original_name: null, blob_key: null });
  });

  it("P13: the tombstone of a deleted image is purged after 30 days", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(64, 64, 41));
    await fetch(`${srv.baseUrl}/api/v1/images/${body.id}`, { method: "DELETE", headers: { "x-delete-token": body.deleteToken } });
    const retention = srv.px.config.tombstoneRetentionMs;
    expect(retention).toBe(30 * DAY);
    clock.advance(retention - 1000);
    await srv.px.images.purgeTombstones(retention);
    expect(await srv.px.db.db.selectFrom("images").select("id").where("id", "=", body.id).executeTakeFirst()).toBeDefined();
    clock.advance(2000);
    expect(await srv.px.images.purgeTombstones(retention)).toBeGreaterThanOrEqual(1);
    expect(await srv.px.db.db.selectFrom("images").select("id").where("id", "=", body.id).executeTakeFirst()).toBeUndefined();
    expect((await fetch(body.rawUrl)).status).toBe(404);
  });

  it("an upload a crashed process left half stored is invisible, and the purge removes its row and blobs", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(64, 64, 61));
    // As if the process died after writing the row and the blobs but before activating the row.
    await srv.px.db.db.updateTable("images").set({ status: "pending" }).where("id", "=", body.id).execute();
    expect((await fetch(body.rawUrl)).status).toBe(404);
    expect((await fetch(`${srv.baseUrl}/api/v1/images/${body.id}`)).status).toBe(404);
    expect(await srv.px.images.purgeAbandonedUploads(3_600_000)).toBe(0); // too recent to be abandoned
    clock.advance(3_600_001);
    expect(await srv.px.images.purgeAbandonedUploads(3_600_000)).toBe(1);
    expect((await listBlobs(srv.px.blobs)).filter((k) => k.includes(body.id))).toEqual([]);
    expect(await srv.px.db.db.selectFrom("images").select("id").where("id", "=", body.id).executeTakeFirst()).toBeUndefined();
  });

  it("a storage failure midway through an upload leaves no row and no blob", async () => {
    const putFile = srv.px.blobs.putFile.bind(srv.px.blobs);
    srv.px.blobs.putFile = async (key, local, type) => {
      if (key.startsWith("thumb/")) throw new Error("disk full");
      return putFile(key, local, type);
    };
    try {
      const before = await listBlobs(srv.px.blobs);
      const rowsBefore = (await srv.px.db.db.selectFrom("images").select("id").execute()).length;
      const res = await upload(srv.baseUrl, await plainJpeg(64, 64, 71));
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe("internal");
      expect(res.body.error.message).not.toContain("disk full"); // no internals leak
      expect(await listBlobs(srv.px.blobs)).toEqual(before);
      expect((await srv.px.db.db.selectFrom("images").select("id").execute()).length).toBe(rowsBefore);
    } finally {
      srv.px.blobs.putFile = putFile;
    }
  });

  it("only hashes of deletion tokens are stored", async () => {
    const { body } = await upload(srv.baseUrl, await plainJpeg(64, 64, 51));
    const dump = JSON.stringify(await srv.px.db.db.selectFrom("images").selectAll().execute());
    expect(dump).not.toContain(body.deleteToken);
  });

  it("20 concurrent uploads all come back byte-identical", async () => {
    const inputs = await Promise.all(Array.from({ length: 20 }, (_, i) => plainJpeg(200 + i, 150, 100 + i)));
    const results = await Promise.all(inputs.map((bytes, i) => upload(srv.baseUrl, bytes, `c${i}.jpg`)));
    for (const [i, res] of results.entries()) {
      expect(res.status).toBe(201);
      const raw = await getBytes(res.body.rawUrl);
      expect(raw.bytes.equals(inputs[i]!)).toBe(true); // no metadata to remove: stored exactly as sent
    }
  });
});
