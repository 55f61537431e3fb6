import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchChromium, openWatchedPage, type PageLog, skipBrowser } from "../helpers/browser.js";
import { startTestServer } from "../helpers/server.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

(skipBrowser ? describe.skip : describe)("the privacy and contact pages in Chromium", () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };

  beforeAll(async () => {
    // Periods other than the defaults: the page must say what this server enforces.
    srv = await startTestServer({
      config: { toolRetentionMs: 2 * HOUR, jobHistoryRetentionMs: 45 * DAY, tombstoneRetentionMs: 10 * DAY, unviewedImageRetentionMs: 400 * DAY, reportRetentionMs: 200 * DAY, contactRetentionMs: 100 * DAY, accessLog: { dir: "unused", retentionMs: 30 * DAY } },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it("P5, P6, P11, P12, P13, P14, P15: the privacy page states the periods the purges enforce, from the server's own settings", async () => {
    const { context, page } = await openWatchedPage(browser, log);
    await page.goto(srv.baseUrl + "/");
    await page.getByRole("link", { name: "Privacy" }).click();
    await page.getByRole("heading", { name: "Privacy", level: 1 }).waitFor();
    const text = async () => (await page.locator("main").innerText()).replace(/\s+/g, " ");
    await page.getByText("and its results 2 hours after").waitFor();
    for (const phrase of [
      "A job's history (tool, settings, times, sizes; no image) is kept 45 days.",
      "its address says it was deleted for 10 days",
      "An image nobody views for 400 days is deleted.",
      "is deleted 200 days after it is dealt with",
      "A message to the operator is deleted 100 days after it came.",
      "is kept in a file a day, deleted 30 days after that day began.",
    ]) {
      expect(await text()).toContain(phrase);
    }
    expect(await page.title()).toBe("Privacy · Pixhaven");
    await context.close();
  });

  it("P15: a visitor writes to the operator from the contact page; the address and the message are all that is kept", async () => {
    const { context, page } = await openWatchedPage(browser, log);
    await page.goto(srv.baseUrl + "/privacy");
    await page.getByRole("link", { name: "Write to the operator" }).click();
    await page.getByRole("heading", { name: "Contact", level: 1 }).waitFor();
    await page.getByText("they are deleted 100 days after they came").waitFor();
    await page.getByLabel("Your e-mail address, for the answer").fill("visitor@example.org");
    await page.getByLabel("Your message").fill("Hello, could you remove the image I reported?");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByRole("status").filter({ hasText: "Your message was sent" }).waitFor();
    expect(await srv.px.core.contact.list()).toEqual([expect.objectContaining({ email: "visitor@example.org", message: "Hello, could you remove the image I reported?" })]);
    await context.close();
  });

  it("stayed on its own origin without CSP violations or script errors", () => {
    const origin = new URL(srv.baseUrl).origin;
    expect(log.requests.filter((url) => url.startsWith("http") && new URL(url).origin !== origin)).toEqual([]);
    expect(log.cspReports).toEqual([]);
    expect(log.pageErrors).toEqual([]);
  });
});
