import { afterAll, beforeAll, expect, it } from "vitest";
import { ManualClock } from "../../src/common/clock.js";
import { loadConfig } from "../../src/config.js";
import { ImageRepository } from "../../src/images/repository.js";
import { plainJpeg } from "../fixtures/images.js";
import { describeEachDialect, listBlobs, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const DAY = 86_400_000;

describeEachDialect("images nobody views", (dialect) => {
  let srv: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  beforeAll(async () => {
    srv = await startTestServer({ dialect, clock });
  });
  afterAll(() => srv.stop());

  const blobsOf = async (id: string) => (await listBlobs(srv.px.blobs)).filter((key) => key.includes(id));
  const view = (id: string) => fetch(`${srv.baseUrl}/i/${id}`).then((res) => expect(res.status).toBe(200));
  // The metadata counts no view (the page and the raw bytes do).
  const stored = async (id: string) => (await fetch(`${srv.baseUrl}/api/v1/images/${id}`)).status;

  it("P12: an image with no view for 180 days + 1 s is removed; one viewed on day 179 is kept (a view: its page or its bytes)", async () => {
    expect(srv.px.config.unviewedImageRetentionMs).toBe(180 * DAY);
    const never = (await upload(srv.baseUrl, await plainJpeg(64, 64, 1))).body;
    const seenOnce = (await upload(srv.baseUrl, await plainJpeg(64, 64, 2))).body;
    const seenLate = (await upload(srv.baseUrl, await plainJpeg(64, 64, 3))).body;
    clock.advance(DAY);
    await view(seenOnce.id); // day 1: then never again
    clock.advance(178 * DAY);
    expect((await fetch(seenLate.rawUrl)).status).toBe(200); // day 179: its bytes, embedded elsewhere

    clock.advance(DAY - 1000); // 180 days less a second after the upload
    await srv.px.core.retention.runAll();
    expect(await stored(never.id)).toBe(200);

    clock.advance(2000); // 180 days and a second
    const report = await srv.px.core.retention.runAll();
    expect(report.unviewed_images).toBe(1);
    for (const url of [never.rawUrl, never.thumbUrl, `${srv.baseUrl}/api/v1/images/${never.id}`]) expect((await fetch(url)).status, url).toBe(410);
    expect(await blobsOf(never.id)).toEqual([]);
    expect(await srv.px.db.db.selectFrom("images").select(["status", "blob_key", "original_name"]).where("id", "=", never.id).executeTakeFirst()).toEqual({ status: "deleted", blob_key: null, original_name: null });
    expect(await stored(seenOnce.id)).toBe(200);
    expect(await stored(seenLate.id)).toBe(200);

    // Day 181: the image last viewed on day 1 has gone unviewed for 180 days too.
    clock.advance(DAY);
    await srv.px.core.retention.runAll();
    expect(await stored(seenOnce.id)).toBe(410);
    expect(await blobsOf(seenOnce.id)).toEqual([]);
    expect(await stored(seenLate.id)).toBe(200);
    expect((await blobsOf(seenLate.id)).length).toBe(2); // the picture and its thumbnail
  });

  it("P12: a view that comes after the purge looked keeps the image", async () => {
    const image = (await upload(srv.baseUrl, await plainJpeg(64, 64, 4))).body;
    clock.advance(181 * DAY);
    const repo = new ImageRepository(srv.px.db.db);
    const before = clock.now() - 180 * DAY;
    expect((await repo.findUnviewed(before, 100)).map((row) => row.id)).toContain(image.id);
    await view(image.id);
    // What the purge found a moment before the view is no longer removed.
    expect(await repo.markDeleted(image.id, clock.now(), before)).toBe(false);
    await srv.px.images.purgeUnviewed(180 * DAY);
    expect(await stored(image.id)).toBe(200);
  });

  it("P12: the period is published where the upload page reads it", async () => {
    const config = await (await fetch(`${srv.baseUrl}/api/v1/config`)).json();
    expect(config.retention.unviewedImageSeconds).toBe((180 * DAY) / 1000);
  });

  it("P12: UNVIEWED_IMAGE_RETENTION=off keeps every image", () => {
    expect(loadConfig({ UNVIEWED_IMAGE_RETENTION: "off" }).unviewedImageRetentionMs).toBeNull();
    expect(loadConfig({ UNVIEWED_IMAGE_RETENTION: "365d" }).unviewedImageRetentionMs).toBe(365 * DAY);
  });
});
