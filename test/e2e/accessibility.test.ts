import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, startAccountsServer, uniqueEmail } from "../accounts/helpers.js";
import { plainJpeg } from "../fixtures/images.js";
import { launchChromium, openWatchedPage, type PageLog, seriousA11yViolations, skipBrowser } from "../helpers/browser.js";
import type { TestServer } from "../helpers/server.js";

(skipBrowser ? describe.skip : describe)("accessibility of every page, in Chromium (axe-core)", () => {
  let srv: TestServer;
  let browser: Browser;
  let imageId: string;

  beforeAll(async () => {
    srv = await startAccountsServer({}, { jobWorker: true });
    browser = await launchChromium();
    const form = new FormData();
    form.append("file", new Blob([(await plainJpeg(96, 64, 3)) as Uint8Array<ArrayBuffer>]), "a.jpg");
    imageId = (await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form })).json()).id;
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  for (const scheme of ["light", "dark"] as const) {
    it(`no serious or critical violation on any page, in the ${scheme} theme: contrast, names, labels, landmarks, language`, { timeout: 300_000 }, async () => {
      const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };
      const { context, page } = await openWatchedPage(browser, log);
      await page.emulateMedia({ colorScheme: scheme });
      const found: string[] = [];
      const auditHere = async (what: string) => {
        for (const finding of await seriousA11yViolations(page)) found.push(`${what}: ${finding}`);
      };
      const audit = async (path: string) => {
        await page.goto(`${srv.baseUrl}${path}`);
        await page.locator("h1").first().waitFor();
        // Settled: data loaded. A page that polls (the history, a running job) may never fall
        // quiet on a busy machine, so the quiet is waited for only a while.
        await page.waitForLoadState("networkidle", { timeout: 3000 }).catch(() => undefined);
        await page.waitForFunction(() => !document.querySelector(".loading"), undefined, { timeout: 30_000 });
        await auditHere(path);
      };
      // Pages as they are after use: an upload listed on the home page, a tool's finished run, and
      // (below) the history that lists it.
      const picture = { name: "green.jpg", mimeType: "image/jpeg", buffer: await plainJpeg(120, 80, 5) };
      await page.goto(`${srv.baseUrl}/`);
      await page.locator("input[type=file]").first().setInputFiles(picture);
      await page.getByRole("link", { name: "Open image page for green.jpg" }).waitFor({ timeout: 30_000 });
      await auditHere("/ after an upload");
      await page.goto(`${srv.baseUrl}/tools/strip?on=server`);
      await page.getByLabel("Choose files for this tool").setInputFiles(picture);
      await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
      await page.getByRole("status").filter({ hasText: /^Done$/ }).waitFor({ timeout: 60_000 });
      await auditHere("/tools/strip after a run on the server");
      await page.goto(`${srv.baseUrl}/i/${imageId}`);
      await page.getByText("Report this image").click();
      await page.getByLabel("What is wrong with it").selectOption({ label: "It infringes my copyright" });
      await page.getByLabel(/I believe in good faith/).waitFor();
      await auditHere("a viewer's copyright notice form");
      for (const path of ["/", "/tools", "/tools/compress", "/tools/crop", "/tools/upscale", "/tools/ocr", "/tools/history", `/i/${imageId}`, "/privacy", "/contact", "/account/sign-in", "/account/sign-up", "/account/forgot"]) await audit(path);
      // Signed in: the dashboard and the settings.
      const signUp = await page.evaluate(
        async ([email, password]) => (await fetch("/api/auth/sign-up/email", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password, name: "Reader" }) })).status,
        [uniqueEmail("a11y"), PASSWORD] as const,
      );
      expect(signUp).toBe(200);
      for (const path of ["/account", "/account/settings"]) await audit(path);
      expect(found).toEqual([]);
      expect(log.pageErrors).toEqual([]);
      await context.close();
    });
  }
});
