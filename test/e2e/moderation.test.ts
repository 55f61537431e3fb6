import { base32 } from "@better-auth/utils/base32";
import { createOTP } from "@better-auth/utils/otp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchChromium, openWatchedPage, type PageLog, seriousA11yViolations, skipBrowser } from "../helpers/browser.js";
import type { TestServer } from "../helpers/server.js";
import { startAccountsServer, uniqueEmail } from "../accounts/helpers.js";
import { plainJpeg } from "../fixtures/images.js";

(skipBrowser ? describe.skip : describe)("moderation in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };

  beforeAll(async () => {
    srv = await startAccountsServer({});
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it("an administrator signed in with a second factor removes a reported image and deals with a message from the dashboard", async () => {
    const form = new FormData();
    form.append("file", new Blob([(await plainJpeg(64, 64, 7)) as Uint8Array<ArrayBuffer>]), "reported.jpg");
    const image = await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form })).json();
    const json = { "content-type": "application/json" };
    await fetch(`${srv.baseUrl}/api/v1/images/${image.id}/reports`, { method: "POST", headers: json, body: JSON.stringify({ reason: "violence", details: "Graphic injury." }) });
    // A second report, on an image its uploader has deleted since.
    const gone = new FormData();
    gone.append("file", new Blob([(await plainJpeg(64, 64, 8)) as Uint8Array<ArrayBuffer>]), "gone.jpg");
    const goneImage = await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: gone })).json();
    await fetch(`${srv.baseUrl}/api/v1/images/${goneImage.id}/reports`, { method: "POST", headers: json, body: JSON.stringify({ reason: "spam" }) });
    expect((await fetch(`${srv.baseUrl}/api/v1/images/${goneImage.id}`, { method: "DELETE", headers: { "x-delete-token": goneImage.deleteToken } })).status).toBe(204);
    await fetch(`${srv.baseUrl}/api/v1/contact`, { method: "POST", headers: json, body: JSON.stringify({ email: "visitor@example.org", message: "Please take down my photo." }) });

    const email = uniqueEmail("moderator");
    const { password } = await srv.px.core.accounts.createUser(email, true);
    const { context, page } = await openWatchedPage(browser, log);
    await page.goto(`${srv.baseUrl}/account/sign-in`);
    // Sign in and enrol TOTP through the API from the page, so the session cookie is the browser's.
    const call = (path: string, body: unknown) =>
      page.evaluate(
        async ([path, body]) => {
          const res = await fetch(path as string, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
          return { status: res.status, body: await res.json().catch(() => null) };
        },
        [path, body] as const,
      );
    expect((await call("/api/auth/sign-in/email", { email, password })).status).toBe(200);
    // Without a second factor the dashboard offers no moderation.
    await page.goto(`${srv.baseUrl}/account`);
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    expect(await page.getByRole("heading", { name: "Moderation" }).count()).toBe(0);

    const enabled = await call("/api/auth/two-factor/enable", { password });
    const secret = new TextDecoder().decode(base32.decode(new URL(enabled.body.totpURI).searchParams.get("secret")!));
    const code = await createOTP(secret, { period: 30, digits: 6 }).hotp(Math.floor(Date.now() / 30_000));
    expect((await call("/api/auth/two-factor/verify-totp", { code })).status).toBe(200);

    await page.reload();
    await page.getByRole("heading", { name: "Moderation" }).waitFor();
    await page.getByText("Open reports (2)").waitFor();
    await page.getByText("Graphic injury.").waitFor();
    // The picture is there, blurred for a report of violence until the moderator asks to see it.
    const report = page.locator("li", { hasText: "Graphic injury." });
    const picture = report.getByRole("img", { name: `The reported image ${image.id}` });
    await picture.waitFor();
    await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    expect(await picture.evaluate((img) => getComputedStyle(img).filter)).toMatch(/blur/);
    await report.getByRole("button", { name: "Show the picture" }).click();
    expect(await picture.evaluate((img) => getComputedStyle(img).filter)).toBe("none");
    // The deleted one says so instead of a broken picture.
    await page.locator("li", { hasText: goneImage.id }).getByText("The image is no longer stored.").waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await report.getByRole("button", { name: "Remove the image" }).click();
    await page.getByText("Open reports (1)").waitFor();
    expect((await fetch(image.rawUrl)).status).toBe(410);
    await page.getByRole("button", { name: "Dismiss" }).click();
    await page.getByText("No report is waiting.").waitFor();

    await page.getByText("Please take down my photo.").waitFor();
    await page.getByRole("button", { name: "Delete (dealt with)" }).click();
    await page.getByText("No message.").waitFor();
    expect(await srv.px.core.contact.list()).toEqual([]);
    expect(log.cspReports).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    await context.close();
  });
});
