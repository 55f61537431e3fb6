import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import sharp from "sharp";
import { launchChromium, openWatchedPage, skipBrowser } from "../helpers/browser.js";
import { startTestServer } from "../helpers/server.js";

interface Owned {
  id: string;
  deleteToken: string;
  url: string;
  createdAt: string;
}

const HEADING = "Your uploads on this device";

(skipBrowser ? describe.skip : describe)("home page list of this browser's uploads", () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let green: Buffer;
  let blue: Buffer;
  const requests: string[] = [];
  const cspReports: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    green = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#3a7" } }).jpeg().toBuffer();
    blue = await sharp({ create: { width: 300, height: 500, channels: 3, background: "#37a" } }).png().toBuffer();
    srv = await startTestServer();
    browser = await launchChromium();
    ({ context, page } = await openWatchedPage(browser, { requests, cspReports, pageErrors }));
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  function owned(): Promise<Owned[]> {
    return page.evaluate(() => JSON.parse(localStorage.getItem("pixhaven.uploads") ?? "[]"));
  }

  function region(): Locator {
    return page.getByRole("region", { name: HEADING });
  }

  function rows(): Locator {
    return region().getByRole("listitem");
  }

  function rowFor(id: string): Locator {
    return rows().filter({ has: page.getByRole("textbox", { name: `Link to image ${id}`, exact: true }) });
  }

  async function listedIds(): Promise<string[]> {
    const links = region().getByRole("textbox", { name: /^Link to image / });
    return links.evaluateAll((els) => els.map((el) => (el.getAttribute("aria-label") ?? "").replace("Link to image ", "")));
  }

  async function rawStatus(id: string): Promise<number> {
    return (await fetch(`${srv.baseUrl}/i/${id}/raw`)).status;
  }

  async function uploadThroughApi(count: number): Promise<Owned[]> {
    const uploaded: Owned[] = [];
    for (let i = 0; i < count; i++) {
      const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: i, g: 90, b: 160 } } }).png().toBuffer();
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(png)], { type: "image/png" }), `tiny-${i}.png`);
      const res = await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form });
      expect(res.status).toBe(201);
      const { id, deleteToken, url, createdAt } = (await res.json()) as Owned;
      uploaded.push({ id, deleteToken, url, createdAt });
    }
    return uploaded;
  }

  it("shows nothing while this browser has no uploads", async () => {
    const home = await page.goto(srv.baseUrl + "/");
    expect(home?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.getByRole("button", { name: /Drop images here/ }).waitFor();
    expect(await page.getByRole("heading", { name: HEADING }).count()).toBe(0);
  });

  it("lists uploads at once and after a reload, with thumbnails, links and dates", async () => {
    await page.locator("input[type=file]").setInputFiles([
      { name: "green.jpg", mimeType: "image/jpeg", buffer: green },
      { name: "blue.png", mimeType: "image/png", buffer: blue },
    ]);
    await expect.poll(async () => (await owned()).length, { timeout: 30_000 }).toBe(2);
    // Uploads of this page session join the list without a reload.
    await expect.poll(async () => (await listedIds()).length).toBe(2);

    await page.reload();
    await page.getByRole("heading", { name: HEADING }).waitFor();
    await region().getByText("nothing is sent to the server to build this list").waitFor();
    const entries = await owned();
    const newestFirst = [...entries].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt)).map((e) => e.id);
    expect(await listedIds()).toEqual(newestFirst);

    for (const entry of entries) {
      const row = rowFor(entry.id);
      const thumb = row.locator("img");
      expect(await thumb.getAttribute("src")).toBe(`/i/${entry.id}/thumb`);
      expect(await thumb.getAttribute("loading")).toBe("lazy");
      expect(Number(await thumb.getAttribute("width"))).toBeGreaterThan(0);
      expect(Number(await thumb.getAttribute("height"))).toBeGreaterThan(0);
      await expect
        .poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 15_000 })
        .toBeGreaterThan(0);
      expect(await row.getByRole("textbox").inputValue()).toBe(entry.url);
      expect(await row.getByRole("link", { name: `Open image page for image ${entry.id}` }).getAttribute("href")).toBe(`/i/${entry.id}`);
      expect(await row.locator("time").getAttribute("datetime")).toBe(entry.createdAt);
      await row.getByRole("button", { name: `Copy link to image ${entry.id}` }).waitFor();
    }
  });

  it("deletes an image from the list after confirmation", async () => {
    const [first, second] = await owned();
    await page.getByRole("button", { name: `Delete image ${first!.id}`, exact: true }).click();
    // Cancelling keeps everything.
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    expect(await rawStatus(first!.id)).toBe(200);

    await page.getByRole("button", { name: `Delete image ${first!.id}`, exact: true }).click();
    await page.getByRole("button", { name: `Yes, delete image ${first!.id}` }).click();
    await rowFor(first!.id).waitFor({ state: "detached" });
    expect([404, 410]).toContain(await rawStatus(first!.id));
    expect((await owned()).map((e) => e.id)).toEqual([second!.id]);

    await page.reload();
    await rowFor(second!.id).waitFor();
    expect(await listedIds()).toEqual([second!.id]);
  });

  it("drops an entry whose image was deleted elsewhere", async () => {
    const [entry] = await owned();
    // Deleted behind the page's back, while its thumbnail sits in the browser cache.
    const res = await fetch(`${srv.baseUrl}/api/v1/images/${entry!.id}`, {
      method: "DELETE",
      headers: { "X-Delete-Token": entry!.deleteToken },
    });
    expect(res.status).toBe(204);

    await page.reload();
    await page.getByRole("button", { name: /Drop images here/ }).waitFor();
    await expect.poll(async () => (await owned()).length, { timeout: 15_000 }).toBe(0);
    await page.getByRole("heading", { name: HEADING }).waitFor({ state: "detached" });
  });

  it("drops an entry whose thumbnail fails to load because the image is gone", async () => {
    const [alive, gone] = await uploadThroughApi(2);
    const res = await fetch(`${srv.baseUrl}/api/v1/images/${gone!.id}`, {
      method: "DELETE",
      headers: { "X-Delete-Token": gone!.deleteToken },
    });
    expect(res.status).toBe(204);
    await page.evaluate((entries) => localStorage.setItem("pixhaven.uploads", JSON.stringify(entries)), [alive, gone]);

    await page.reload();
    await rowFor(alive!.id).waitFor();
    await expect.poll(async () => (await owned()).map((e) => e.id), { timeout: 15_000 }).toEqual([alive!.id]);
    expect(await listedIds()).toEqual([alive!.id]);
    await page.evaluate(() => localStorage.removeItem("pixhaven.uploads"));
  });

  it("shows the 50 newest until asked, and forgets all without deleting anything", async () => {
    const uploaded = await uploadThroughApi(60);
    await page.evaluate((entries) => localStorage.setItem("pixhaven.uploads", JSON.stringify(entries)), uploaded);
    await page.reload();
    await page.getByRole("heading", { name: HEADING }).waitFor();
    const newestFirst = [...uploaded].reverse().map((e) => e.id);
    expect(await listedIds()).toEqual(newestFirst.slice(0, 50));

    await page.getByRole("button", { name: "Show all 60" }).click();
    await expect.poll(async () => (await listedIds()).length).toBe(60);
    expect(await listedIds()).toEqual(newestFirst);

    const forget = page.getByRole("button", { name: /^Forget all/ });
    expect(await forget.getAttribute("title")).toMatch(/images stay online/);
    expect(await forget.textContent()).toMatch(/images stay online/);
    await forget.click();
    await page.getByRole("button", { name: "Yes, forget all" }).click();
    await page.getByRole("heading", { name: HEADING }).waitFor({ state: "detached" });
    expect(await owned()).toEqual([]);
    await page.reload();
    await page.getByRole("button", { name: /Drop images here/ }).waitFor();
    expect(await page.getByRole("heading", { name: HEADING }).count()).toBe(0);

    const statuses = await Promise.all(uploaded.map((e) => rawStatus(e.id)));
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it("stayed on its own origin without CSP violations or script errors", () => {
    const origin = new URL(srv.baseUrl).origin;
    const network = requests.filter((url) => !url.startsWith("data:") && !url.startsWith("blob:"));
    expect(network.length).toBeGreaterThan(0);
    expect(network.some((url) => url.endsWith("/thumb"))).toBe(true);
    expect(network.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(cspReports).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
