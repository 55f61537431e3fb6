import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchChromium, skipBrowser } from "../helpers/browser.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

(skipBrowser ? describe.skip : describe)("API docs page in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    srv = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it("renders the API from the app's own origin without a Content-Security-Policy violation", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("request", (r) => !r.url().startsWith(srv.baseUrl) && !r.url().startsWith("data:") && foreign.push(r.url()));
    await page.addInitScript(() => document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP ${e.violatedDirective}`)));
    await page.goto(`${srv.baseUrl}/docs/`);
    await page.getByText("POST", { exact: true }).first().waitFor();
    expect(await page.getByText("/api/v1/images", { exact: true }).count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });
});
