import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, openWatchedPage, skipBrowser } from "../helpers/browser.js";
import { upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { photoJpeg } from "../tools/harness.js";

const FILTER_KEY = "pixhaven.nsfwFilter";

(skipBrowser ? describe.skip : describe)("P9: the viewer blurs an image above the threshold until the visitor chooses to see it, and the preference stays in the browser", () => {
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let id = "";
  const log = { requests: [] as string[], cspReports: [] as string[], pageErrors: [] as string[] };
  const sent: Request[] = [];

  beforeAll(async () => {
    // Threshold 0: every classified image counts as sensitive, no explicit content needed.
    srv = await startTestServer({ config: { nsfwThreshold: 0, modelWorkers: 1 } });
    const uploaded = await upload(srv.baseUrl, await photoJpeg(320, 240));
    expect(uploaded.status).toBe(201);
    id = uploaded.body.id;
    await srv.px.core.nsfw.idle();
    expect((await (await fetch(`${srv.baseUrl}/api/v1/images/${id}`)).json()).nsfw).not.toBeNull();
    browser = await launchChromium();
    ({ context, page } = await openWatchedPage(browser, log));
    page.on("request", (r) => sent.push(r));
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  const image = () => page.getByRole("img", { name: `Uploaded image ${id}` });
  const filter = () => page.getByRole("combobox", { name: "Sensitive images" });

  it("blurs by default, and shows the image once the visitor asks", async () => {
    await page.goto(`${srv.baseUrl}/i/${id}`);
    const guard = page.locator("[data-nsfw=blurred]");
    await guard.waitFor();
    expect(await guard.locator(".content").evaluate((el) => getComputedStyle(el).filter)).toMatch(/blur\(/);
    expect(await filter().inputValue()).toBe("blur");
    // With the keyboard: the button goes with the cover, and focus moves to what it revealed.
    await page.getByRole("button", { name: "Show image" }).focus();
    await page.keyboard.press("Enter");
    await image().waitFor();
    expect(await page.evaluate(() => !!document.activeElement?.closest(".revealed")?.querySelector("img"))).toBe(true);
    expect(await page.locator("[data-nsfw]").count()).toBe(0);
    expect(await image().evaluate((el) => getComputedStyle(el.closest(".stage")!).filter)).toBe("none");
  });

  it("hides the image (not even loaded) when the visitor prefers, across a reload", async () => {
    await filter().selectOption("hide");
    expect(await page.evaluate((key) => localStorage.getItem(key), FILTER_KEY)).toBe("hide");
    const before = log.requests.length;
    await page.reload();
    await page.locator("[data-nsfw=hidden]").waitFor();
    expect(await filter().inputValue()).toBe("hide");
    expect(await image().count()).toBe(0);
    expect(log.requests.slice(before).some((url) => url.includes(`/i/${id}/raw`))).toBe(false);
    await page.getByRole("button", { name: "Show anyway" }).click();
    await image().waitFor();
  });

  it("shows it outright with the show preference, across a reload", async () => {
    await filter().selectOption("show");
    await page.reload();
    await image().waitFor();
    expect(await page.locator("[data-nsfw]").count()).toBe(0);
    expect(await page.evaluate((key) => localStorage.getItem(key), FILTER_KEY)).toBe("show");
  });

  it("P3: no request carries the preference", async () => {
    expect(sent.length).toBeGreaterThan(0);
    for (const request of sent) {
      const url = new URL(request.url());
      expect(url.origin).toBe(srv.baseUrl);
      expect(url.search).toBe("");
      const headers = await request.allHeaders();
      expect(headers.cookie).toBeUndefined();
      expect(JSON.stringify(headers)).not.toMatch(/nsfw|blur|hide/i);
      expect(request.postData()).toBeNull();
    }
    expect(log.pageErrors).toEqual([]);
    expect(log.cspReports).toEqual([]);
  });
});
