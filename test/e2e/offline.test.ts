import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import sharp from "sharp";
import { plainJpeg } from "../fixtures/images.js";
import { launchChromium, openWatchedPage, type PageLog, skipBrowser } from "../helpers/browser.js";
import { startTestServer } from "../helpers/server.js";

(skipBrowser ? describe.skip : describe)("offline and installable", () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;

  beforeAll(async () => {
    srv = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it("serves a valid manifest with its icons and the service worker as uncached JavaScript", async () => {
    const manifest = await fetch(srv.baseUrl + "/manifest.webmanifest");
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get("content-type")).toMatch(/^application\/manifest\+json/);
    const m = (await manifest.json()) as { name: string; start_url: string; display: string; theme_color: string; icons: { src: string; sizes: string; type: string }[] };
    expect(m).toMatchObject({ name: "Pixhaven", start_url: "/", display: "standalone" });
    expect(m.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    expect(m.icons.map((i) => i.sizes).sort()).toEqual(["192x192", "512x512"]);
    for (const icon of m.icons) {
      const res = await fetch(srv.baseUrl + icon.src);
      expect(res.status, icon.src).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect(`${meta.width}x${meta.height}`).toBe(icon.sizes);
    }
    const html = await (await fetch(srv.baseUrl + "/")).text();
    expect(html).toContain('<link rel="manifest" href="/manifest.webmanifest"');

    const sw = await fetch(srv.baseUrl + "/sw.js");
    expect(sw.status).toBe(200);
    expect(sw.headers.get("content-type")).toMatch(/^(application|text)\/javascript/);
    expect(sw.headers.get("cache-control")).toBe("no-cache");
    const code = await sw.text();
    expect(code).not.toContain("__PIXHAVEN_PRECACHE__");
    expect(code).not.toMatch(/^\s*(import|export)\b/m); // a classic script
  });

  it("once loaded, the app shell, the background-removal page and a device tool never opened before work with the network off", { timeout: 120_000 }, async () => {
    const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };
    const { context, page } = await openWatchedPage(browser, log, { serviceWorker: true });
    await page.goto(srv.baseUrl + "/");
    await page.getByRole("heading", { name: "Share an image" }).waitFor();
    // Installed and activated (it stores the app's files first), then a reload puts the page under its control.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.reload();
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const urls: string[] = [];
      for (const name of names) for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
      return urls;
    });
    expect(cached).toEqual(expect.arrayContaining(["/", "/tools/remove-background/local", "/manifest.webmanifest"]));
    expect(cached.some((u) => u.endsWith(".wasm"))).toBe(true);
    // Privacy: nothing from the API or the image pages is kept.
    expect(cached.filter((u) => u.startsWith("/api/") || u.startsWith("/i/"))).toEqual([]);

    await context.setOffline(true);
    await page.reload();
    await page.getByRole("heading", { name: "Share an image" }).waitFor();
    await page.getByRole("button", { name: /Drop images here/ }).waitFor();

    await page.goto(srv.baseUrl + "/tools/remove-background/local");
    await page.getByRole("heading", { name: "Remove background", level: 1 }).waitFor();
    await page.getByRole("button", { name: /Drop a photo here/ }).waitFor();
    // Served from the cache with its own policy, as the server sent it.
    const policy = await page.evaluate(async () => (await fetch(location.href)).headers.get("content-security-policy"));
    expect(policy).toContain("'unsafe-eval'");

    await page.goto(srv.baseUrl + "/tools");
    await page.getByRole("heading", { name: "Image tools", level: 1 }).waitFor();

    // P1: a device tool opened for the first time with the network cut (only the home page was
    // visited online) opens, loads its encoders from the cache and runs. It asks the server for
    // nothing: its spec is part of the app, not the API's tool list.
    const cutAt = log.requests.length;
    await page.goto(srv.baseUrl + "/tools/resize");
    await page.getByRole("heading", { name: "Resize image", level: 1 }).waitFor();
    await page.getByText(/^Ready: \d+ web workers?/).waitFor({ timeout: 30_000 });
    expect(await page.title()).toBe("Resize image · Pixhaven");
    await page.getByRole("radio", { name: "Percentage" }).check();
    await page.getByLabel("Scale (%)").fill("25");
    await page.getByLabel("Choose pictures for this tool").setInputFiles([{ name: "offline.jpg", mimeType: "image/jpeg", buffer: await plainJpeg(640, 480) }]);
    await page.getByRole("button", { name: "Run on 1 file on this device" }).click();
    await page.getByRole("status").filter({ hasText: /^Done$/ }).waitFor({ timeout: 45_000 });
    expect(await page.getByRole("alert").count()).toBe(0);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: /^Download offline/ }).click()]);
    const meta = await sharp(await readFile((await download.path())!)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 160, 120]);
    expect(log.requests.slice(cutAt).filter((u) => new URL(u).pathname.startsWith("/api/"))).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    await context.setOffline(false);
    await context.close();
  });
});
