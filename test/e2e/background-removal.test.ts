import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import sharp from "sharp";
import { launchChromium, openWatchedPage, type PageLog, skipBrowser } from "../helpers/browser.js";
import { startTestServer } from "../helpers/server.js";

const PAGE = "/tools/remove-background/local";

describe("background-removal page headers", () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it("the relaxed script policy applies to the background-removal page only", async () => {
    const policy = async (url: string) => (await fetch(srv.baseUrl + url)).headers.get("content-security-policy") ?? "";
    const relaxed = await policy(PAGE);
    expect(relaxed).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval' blob:(;|$)/);
    expect(relaxed).toMatch(/connect-src 'self' blob:(;|$)/);
    // Everything else in it stays as strict as elsewhere.
    expect(relaxed).toContain("object-src 'none'");
    expect(relaxed).toContain("frame-ancestors 'none'");
    // The same directives as the strict policy, only those two widened.
    const strictHome = (await policy("/")).split(";").map((d) => d.split(" ")[0]);
    expect(relaxed.split(";").map((d) => d.split(" ")[0])).toEqual(strictHome);
    for (const url of ["/", "/tools", "/tools/remove-background", "/tools/history", "/i/xxxxxxxxxxx", "/api/v1/config", "/theme.js"]) {
      const strict = await policy(url);
      expect(strict, url).toContain("script-src 'self' 'wasm-unsafe-eval';");
      expect(strict, url).not.toContain("'unsafe-eval'");
      expect(strict, url).not.toMatch(/script-src[^;]*blob:/);
      expect(strict, url).toMatch(/connect-src 'self'(;|$)/);
    }
    // The model's content-addressed chunks are cached for good; their index is revalidated.
    const index = await fetch(srv.baseUrl + "/models/background-removal/resources.json");
    expect(index.status).toBe(200);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const resources = (await index.json()) as Record<string, { chunks: { hash: string }[] }>;
    expect(Object.keys(resources)).toEqual(expect.arrayContaining(["/models/medium", "/models/small", "/onnxruntime-web/ort-wasm-simd-threaded.wasm"]));
    expect(Object.keys(resources).some((k) => k.includes("jsep") || k.includes("training"))).toBe(false);
    const chunk = await fetch(`${srv.baseUrl}/models/background-removal/${resources["/models/medium"]!.chunks[0]!.hash}`, { method: "HEAD" });
    expect(chunk.status).toBe(200);
    expect(chunk.headers.get("cache-control")).toContain("immutable");
  });
});

(skipBrowser ? describe.skip : describe)("background removal in Chromium", () => {
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

  it("P2: background removal runs in the browser with its model from Pixhaven's own origin", { timeout: 240_000 }, async () => {
    // A dark subject on a plain light background.
    const width = 640;
    const height = 480;
    const photo = await sharp(
      Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
          `<rect width="100%" height="100%" fill="#f2f2ef"/>` +
          `<ellipse cx="320" cy="250" rx="120" ry="160" fill="#2a2320"/>` +
          `<circle cx="320" cy="120" r="60" fill="#3b2f2a"/></svg>`,
      ),
    )
      .jpeg({ quality: 92 })
      .toBuffer();

    const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };
    const { context, page } = await openWatchedPage(browser, log);
    // The context sees the page's requests and its workers' (ONNX Runtime runs in one).
    const sent: { method: string; url: string; body: boolean }[] = [];
    context.on("request", (req) => sent.push({ method: req.method(), url: req.url(), body: req.postDataBuffer() !== null }));

    const response = await page.goto(srv.baseUrl + PAGE);
    expect(response?.status()).toBe(200);
    await page.getByRole("heading", { name: "Remove background", level: 1 }).waitFor();
    const started = Date.now();
    await page.locator("input[type=file]").setInputFiles({ name: "subject.jpg", mimeType: "image/jpeg", buffer: photo });
    // The first run downloads the model: a progress bar says how far along it is.
    await page.getByRole("progressbar").first().waitFor({ timeout: 20_000 });
    let modelLoaded = 0;
    await page.getByRole("progressbar", { name: "Removing the background…" }).waitFor({ timeout: 180_000 }).then(() => (modelLoaded = Date.now()));
    const download = page.getByTestId("cutout-download");
    await download.waitFor({ timeout: 180_000 });
    const finished = Date.now();

    const alpha = await download.evaluate(async (a: HTMLAnchorElement) => {
      const bitmap = await createImageBitmap(await (await fetch(a.href)).blob());
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(bitmap, 0, 0);
      const at = (x: number, y: number) => ctx.getImageData(x, y, 1, 1).data[3]!;
      return {
        size: [bitmap.width, bitmap.height],
        subject: [at(320, 250), at(320, 200), at(320, 320), at(320, 120)],
        background: [at(10, 10), at(630, 10), at(10, 470), at(630, 470), at(80, 250), at(560, 250)],
      };
    });
    expect(alpha.size).toEqual([width, height]);
    for (const a of alpha.subject) expect(a).toBeGreaterThanOrEqual(250);
    for (const a of alpha.background) expect(a).toBeLessThanOrEqual(5);

    // P2: every request went to Pixhaven's own origin, as a GET without a body; the photo never left.
    const network = sent.filter((r) => r.url.startsWith("http"));
    for (const r of network) {
      expect(new URL(r.url).origin, r.url).toBe(srv.baseUrl);
      expect(r.method, r.url).toBe("GET");
      expect(r.body, r.url).toBe(false);
    }
    const modelRequests = network.filter((r) => r.url.includes("/models/background-removal/"));
    expect(modelRequests.length).toBeGreaterThan(10);
    expect(log.cspReports).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    console.log(
      `background removal: ${network.length} requests (${modelRequests.length} model files), ` +
        `model loaded after ${((modelLoaded - started) / 1000).toFixed(1)} s, ` +
        `inference and output ${((finished - modelLoaded) / 1000).toFixed(1)} s`,
    );
    await context.close();
  });
});
