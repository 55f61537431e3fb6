import { base32 } from "@better-auth/utils/base32";
import { createOTP } from "@better-auth/utils/otp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/common/clock.js";
import { plainJpeg } from "../fixtures/images.js";
import { describeEachDialect, listBlobs, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { Browser, startAccountsServer, uniqueEmail } from "../accounts/helpers.js";

const DAY = 86_400_000;

const report = (baseUrl: string, id: string, body: unknown) =>
  fetch(`${baseUrl}/api/v1/images/${id}/reports`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describeEachDialect("reports of images and messages to the operator", (dialect) => {
  let srv: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 12));
  beforeAll(async () => {
    srv = await startTestServer({ dialect, clock, config: { reportRateLimit: { max: 20, windowMs: 60_000 } } });
  });
  afterAll(() => srv.stop());

  it("takes a report of an image, and refuses one of an unknown or deleted image, or a copyright notice without what it needs", async () => {
    const image = (await upload(srv.baseUrl, await plainJpeg(64, 64, 1))).body;
    const filed = await report(srv.baseUrl, image.id, { reason: "harassment", details: "This is a photo of me, posted to mock me." });
    expect(filed.status).toBe(201);
    const { id } = await filed.json();
    const row = await srv.px.db.db.selectFrom("abuse_reports").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ image_id: image.id, reason: "harassment", status: "open", contact: null, resolved_at: null });

    expect((await report(srv.baseUrl, "AAAAAAAAAAA", { reason: "spam" })).status).toBe(404);
    const bad = await report(srv.baseUrl, image.id, { reason: "boring" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBeDefined();
    const notice = await report(srv.baseUrl, image.id, { reason: "copyright", details: "x" });
    expect(notice.status).toBe(400);
    expect((await notice.json()).error.message).toMatch(/address to answer you/);
    const complete = await report(srv.baseUrl, image.id, {
      reason: "copyright",
      details: "My photograph 'Harbour at dawn' (2024); I hold its rights.",
      contact: "owner@example.org",
      goodFaith: true,
    });
    expect(complete.status).toBe(201);

    await fetch(`${srv.baseUrl}/api/v1/images/${image.id}`, { method: "DELETE", headers: { "x-delete-token": image.deleteToken } });
    expect((await report(srv.baseUrl, image.id, { reason: "spam" })).status).toBe(410);
  });

  it("removing a reported image takes it down and resolves every open report of it; dismissing resolves one", async () => {
    const image = (await upload(srv.baseUrl, await plainJpeg(64, 64, 2))).body;
    const other = (await upload(srv.baseUrl, await plainJpeg(64, 64, 3))).body;
    const first = await (await report(srv.baseUrl, image.id, { reason: "violence" })).json();
    const second = await (await report(srv.baseUrl, image.id, { reason: "illegal" })).json();
    const unfounded = await (await report(srv.baseUrl, other.id, { reason: "spam" })).json();
    const reports = srv.px.core.reports;
    expect((await reports.list("open")).map((r) => r.id)).toEqual(expect.arrayContaining([first.id, second.id, unfounded.id]));

    expect(await reports.resolve(first.id, "remove")).toMatchObject({ status: "removed", resolved_at: clock.now() });
    expect((await fetch(image.rawUrl)).status).toBe(410);
    expect((await listBlobs(srv.px.blobs)).filter((key) => key.includes(image.id))).toEqual([]);
    expect((await reports.list("resolved")).find((r) => r.id === second.id)).toMatchObject({ status: "removed" });

    expect(await reports.resolve(unfounded.id, "dismiss")).toMatchObject({ status: "dismissed" });
    expect((await fetch(other.rawUrl)).status).toBe(200);
    await expect(reports.resolve("AAAAAAAAAAA", "dismiss")).rejects.toMatchObject({ status: 404 });
  });

  it("P14: a resolved report is deleted a year after its resolution; an open one is kept until resolved", async () => {
    const image = (await upload(srv.baseUrl, await plainJpeg(64, 64, 4))).body;
    const resolved = await (await report(srv.baseUrl, image.id, { reason: "privacy", details: "My address is visible.", contact: "me@example.org" })).json();
    const open = await (await report(srv.baseUrl, image.id, { reason: "other" })).json();
    await srv.px.core.reports.resolve(resolved.id, "dismiss");
    const retention = srv.px.config.reportRetentionMs;
    expect(retention).toBe(365 * DAY);
    const exists = async (id: string) => (await srv.px.db.db.selectFrom("abuse_reports").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;

    clock.advance(retention - 1000);
    await srv.px.core.retention.runAll();
    expect(await exists(resolved.id)).toBe(true);
    clock.advance(2000);
    const purged = await srv.px.core.retention.runAll();
    expect(purged.abuse_reports).toBeGreaterThanOrEqual(1);
    expect(await exists(resolved.id)).toBe(false);
    // What the reporter wrote is gone with it.
    expect(JSON.stringify(await srv.px.db.db.selectFrom("abuse_reports").selectAll().execute())).not.toContain("me@example.org");
    clock.advance(365 * DAY);
    await srv.px.core.retention.runAll();
    expect(await exists(open.id)).toBe(true);
  });

  it("P15: a message to the operator is kept two years, then deleted", async () => {
    const write = (body: unknown) => fetch(`${srv.baseUrl}/api/v1/contact`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await write({ email: "not an address", message: "Hello, a question about my upload." })).status).toBe(400);
    expect((await write({ email: "a@example.org", message: "Hi" })).status).toBe(400);
    const sent = await write({ email: "writer@example.org", message: "Hello, how long do you keep my images?" });
    expect(sent.status).toBe(201);
    const { id } = await sent.json();
    expect(await srv.px.core.contact.list()).toContainEqual(expect.objectContaining({ id, email: "writer@example.org", message: "Hello, how long do you keep my images?" }));
    const retention = srv.px.config.contactRetentionMs;
    expect(retention).toBe(730 * DAY);
    const exists = async () => (await srv.px.db.db.selectFrom("contact_messages").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
    clock.advance(retention - 1000);
    await srv.px.core.retention.runAll();
    expect(await exists()).toBe(true);
    clock.advance(2000);
    expect((await srv.px.core.retention.runAll()).contact_messages).toBeGreaterThanOrEqual(1);
    expect(await exists()).toBe(false);
  });

  it("limits reports per network: past the limit, 429 with Retry-After", async () => {
    const image = (await upload(srv.baseUrl, await plainJpeg(64, 64, 5))).body;
    let last: Response | undefined;
    for (let i = 0; i < 25 && last?.status !== 429; i++) last = await report(srv.baseUrl, image.id, { reason: "spam" });
    expect(last!.status).toBe(429);
    expect(last!.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await last!.json()).error.code).toBe("rate_limited");
  });
});

/** The authenticator app's code for the current time-step. */
function authenticator(totpURI: string) {
  const secret = new TextDecoder().decode(base32.decode(new URL(totpURI).searchParams.get("secret")!));
  return () => createOTP(secret, { period: 30, digits: 6 }).hotp(Math.floor(Date.now() / 30_000));
}

describe("reports for administrators [sqlite]", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startAccountsServer({});
  });
  afterAll(() => server?.stop());

  it("an administrator with a second factor lists the open reports and resolves them; to anyone else the routes do not exist", async () => {
    const image = (await upload(server.baseUrl, await plainJpeg(64, 64, 6))).body;
    const filed = await (await report(server.baseUrl, image.id, { reason: "sexual", details: "Not what the title says." })).json();

    const email = uniqueEmail("admin");
    const { password } = await server.px.core.accounts.createUser(email, true);
    const admin = new Browser(server.baseUrl);
    expect((await admin.json("POST", "/api/auth/sign-in/email", { email, password })).status).toBe(200);
    expect((await admin.json("GET", "/api/v1/admin/reports")).status).toBe(404); // no second factor yet
    const enabled = await admin.json("POST", "/api/auth/two-factor/enable", { password });
    expect((await admin.json("POST", "/api/auth/two-factor/verify-totp", { code: await authenticator(enabled.body.totpURI)() })).status).toBe(200);

    const open = await admin.json("GET", "/api/v1/admin/reports");
    expect(open.status).toBe(200);
    expect(open.body.reports).toContainEqual(expect.objectContaining({ id: filed.id, imageId: image.id, reason: "sexual", status: "open", resolvedAt: null }));
    const removed = await admin.json("POST", `/api/v1/admin/reports/${filed.id}`, { action: "remove" });
    expect(removed).toMatchObject({ status: 200, body: { status: "removed", resolvedAt: expect.any(String) } });
    expect((await fetch(image.rawUrl)).status).toBe(410);
    expect((await admin.json("GET", "/api/v1/admin/reports?status=resolved")).body.reports.map((r: { id: string }) => r.id)).toContain(filed.id);

    // Messages from the contact page: read, then deleted once dealt with.
    const message = await (await fetch(`${server.baseUrl}/api/v1/contact`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "visitor@example.org", message: "Please remove my photo." }) })).json();
    expect((await admin.json("GET", "/api/v1/admin/contact")).body.messages).toContainEqual(expect.objectContaining({ id: message.id, email: "visitor@example.org" }));
    expect((await admin.json("DELETE", `/api/v1/admin/contact/${message.id}`)).status).toBe(204);
    expect((await admin.json("DELETE", `/api/v1/admin/contact/${message.id}`)).status).toBe(404);

    const stranger = new Browser(server.baseUrl);
    expect((await stranger.json("GET", "/api/v1/admin/contact")).status).toBe(404);
    expect((await stranger.json("GET", "/api/v1/admin/reports")).status).toBe(404);
    expect((await stranger.json("POST", `/api/v1/admin/reports/${filed.id}`, { action: "dismiss" })).status).toBe(404);
  });
});
