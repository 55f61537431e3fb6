import { readFile } from "node:fs/promises";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import sharp from "sharp";
import { parseCidr } from "../../src/net/ip.js";
import { fillRectangle, launchChromium, openWatchedPage, skipBrowser } from "../helpers/browser.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { startLocalServer, type LocalServer } from "../net/local-server.js";

// Not the default (60 minutes), so the notice can only be right if it reads the configuration.
const RETENTION_MINUTES = 45;
const NOTICE = "Your files are uploaded to this server";

interface ToolsResponse {
  retentionSeconds: number;
  tools: { name: string; title: string; runsOn: string; available: boolean }[];
}

function expectSameOriginAndClean(origin: string, log: { requests: string[]; cspReports: string[]; pageErrors: string[] }) {
  const network = log.requests.filter((url) => !url.startsWith("data:") && !url.startsWith("blob:"));
  expect(network.length).toBeGreaterThan(0);
  expect(network.filter((url) => new URL(url).origin !== origin)).toEqual([]);
  expect(log.cspReports).toEqual([]);
  expect(log.pageErrors).toEqual([]);
}

(skipBrowser ? describe.skip : describe)("tools pages in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let green: Buffer;
  let blue: Buffer;
  const log = { requests: [] as string[], cspReports: [] as string[], pageErrors: [] as string[] };
  const eventStreams: string[] = [];

  beforeAll(async () => {
    green = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#3a7" } }).jpeg().toBuffer();
    blue = await sharp({ create: { width: 300, height: 500, channels: 3, background: "#37a" } }).png().toBuffer();
    srv = await startTestServer({ jobWorker: true, config: { toolRetentionMs: RETENTION_MINUTES * 60_000 } });
    browser = await launchChromium();
    ({ context, page } = await openWatchedPage(browser, log));
    page.on("request", (req) => {
      if (req.resourceType() === "eventsource") eventStreams.push(req.url());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  async function storedJobs(): Promise<{ id: string; batchId: string; tool: string; deleteToken: string; createdAt: string }[]> {
    return page.evaluate(() => JSON.parse(localStorage.getItem("pixhaven.jobs") ?? "[]"));
  }

  it("P4: every server tool page says files are uploaded and deleted after the configured retention, before anything is sent", async () => {
    const catalogue = (await (await fetch(`${srv.baseUrl}/api/v1/tools`)).json()) as ToolsResponse;
    expect(catalogue.retentionSeconds).toBe(RETENTION_MINUTES * 60);
    const serverTools = catalogue.tools.filter((t) => t.available && t.runsOn !== "browser");
    expect(serverTools.map((t) => t.name)).toEqual(expect.arrayContaining(["convert", "resize", "pdf-to-images"]));

    const sent: string[] = [];
    const onRequest = (req: Request) => {
      if (req.method() !== "GET" || req.url().includes("/api/v1/jobs")) sent.push(`${req.method()} ${req.url()}`);
    };
    page.on("request", onRequest);

    // Reached from the header, then every tool page loaded from the server by its address.
    const home = await page.goto(srv.baseUrl + "/");
    expect(home?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tools" }).click();
    await page.waitForURL(`${srv.baseUrl}/tools`);
    for (const tool of serverTools) await page.getByRole("link", { name: tool.title, exact: true }).waitFor();

    for (const tool of serverTools) {
      const res = await page.goto(`${srv.baseUrl}/tools/${tool.name}?on=server`);
      expect(res?.status()).toBe(200);
      await page.getByRole("heading", { level: 1, name: tool.title }).waitFor();
      const notice = page.getByRole("region", { name: NOTICE });
      const text = (await notice.textContent()) ?? "";
      expect(text).toContain(`deleted automatically ${RETENTION_MINUTES} minutes after the job ends`);
      expect(text).toContain("uploaded here when you press the run button");
      // The notice comes before the form's run button in the page.
      const order = await page.evaluate((name) => {
        const region = Array.from(document.querySelectorAll("section")).find((s) => s.textContent?.includes(name));
        const button = document.querySelector("button[type=submit]");
        return region && button ? region.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING : 0;
      }, NOTICE);
      expect(order).toBeTruthy();
    }
    page.off("request", onRequest);
    expect(sent).toEqual([]);
    expect(await storedJobs()).toEqual([]);
  });

  it("converts two files as one batch: live progress over SSE, before/after slider, one download and the ZIP", async () => {
    const streamsBefore = eventStreams.length;
    await page.goto(`${srv.baseUrl}/tools/convert?on=server`);
    await page.getByRole("region", { name: NOTICE }).waitFor();
    await page.getByLabel("Output format").selectOption("webp");
    await page.getByLabel("Choose files for this tool").setInputFiles([
      { name: "green.jpg", mimeType: "image/jpeg", buffer: green },
      { name: "blue.png", mimeType: "image/png", buffer: blue },
    ]);
    await page.getByText("Selected: 2 files").waitFor();
    await page.getByRole("button", { name: "Upload and run on 2 files" }).click();

    const badges = page.getByRole("status").filter({ hasText: /^Done$/ });
    await expect.poll(() => badges.count(), { timeout: 30_000 }).toBe(2);
    // One event stream follows the whole batch.
    expect(eventStreams.slice(streamsBefore).filter((url) => /\/api\/v1\/batches\/[A-Za-z0-9_-]+\/events$/.test(url))).toHaveLength(1);

    const jobs = await storedJobs();
    expect(jobs).toHaveLength(2);
    expect(new Set(jobs.map((j) => j.batchId)).size).toBe(1);
    expect(jobs.every((j) => j.tool === "convert" && j.deleteToken.length > 0)).toBe(true);

    // The comparison: a range input moving the clip of the result over the original.
    const sliders = page.getByRole("slider", { name: "Compare the original with the result" });
    await expect.poll(() => sliders.count(), { timeout: 15_000 }).toBe(2);
    const first = sliders.first();
    await first.fill("30");
    const clip = await page.locator("figure.compare").first().evaluate((fig) => getComputedStyle(fig.querySelector("img:last-of-type")!).clipPath);
    expect(clip).toContain("30%");
    await page.getByRole("img", { name: "Result for green.jpg" }).waitFor();
    await expect
      .poll(() => page.getByRole("img", { name: "Result for green.jpg" }).evaluate((img: HTMLImageElement) => img.naturalWidth))
      .toBe(640);
    await page.getByText(/^640 × 480 · /).first().waitFor();
    await page.getByText(/^300 × 500 · /).first().waitFor();

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download green.webp" }).first().click()]);
    expect(download.suggestedFilename()).toBe("green.webp");
    const saved = await readFile((await download.path())!);
    const meta = await sharp(saved).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 640, 480]);

    const zipHref = await page.getByRole("link", { name: "Download all as ZIP" }).getAttribute("href");
    expect(zipHref).toMatch(/^\/api\/v1\/batches\/[A-Za-z0-9_-]+\/zip$/);
    const zipRes = await fetch(srv.baseUrl + zipHref);
    expect(zipRes.status).toBe(200);
    const zipBytes = new Uint8Array(await zipRes.arrayBuffer());
    expect(Buffer.from(zipBytes.subarray(0, 4)).toString("latin1")).toBe("PK\x03\x04");
    expect(Object.keys(unzipSync(zipBytes)).sort()).toEqual(["blue.webp", "green.webp"]);
  });

  it("lists the jobs on the history page after a reload with the time left, and deletes one from there", async () => {
    const jobs = await storedJobs();
    expect(jobs).toHaveLength(2);
    await page.goto(`${srv.baseUrl}/tools/history`);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Tool history" }).waitFor();
    const rows = page.getByRole("listitem").filter({ hasText: "Convert image format" });
    await expect.poll(() => rows.count()).toBe(2);
    await expect.poll(() => rows.filter({ hasText: new RegExp(`Files deleted in (${RETENTION_MINUTES}|${RETENTION_MINUTES - 1}) minutes`) }).count()).toBe(2);

    const target = jobs[0]!;
    const job = await (await fetch(`${srv.baseUrl}/api/v1/jobs/${target.id}`)).json();
    const name: string = job.inputs[0].name;
    const outputUrl: string = job.outputs[0].url;
    expect((await fetch(outputUrl)).status).toBe(200);

    await page.getByRole("button", { name: `Delete now: ${name}, from the server` }).click();
    await page.getByRole("button", { name: `Yes, delete ${name}` }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect((await storedJobs()).map((j) => j.id)).toEqual(jobs.filter((j) => j.id !== target.id).map((j) => j.id));
    expect((await fetch(outputUrl)).status).toBe(410);

    await page.reload();
    await expect.poll(() => rows.count()).toBe(1);
  });

  it("drops a remembered job that the server no longer knows", async () => {
    await page.evaluate(() => {
      const jobs = JSON.parse(localStorage.getItem("pixhaven.jobs") ?? "[]");
      jobs.push({ id: "AAAAAAAAAAA", batchId: "BBBBBBBBBBB", tool: "convert", deleteToken: "x", createdAt: new Date().toISOString() });
      localStorage.setItem("pixhaven.jobs", JSON.stringify(jobs));
    });
    await page.reload();
    await expect.poll(async () => (await storedJobs()).map((j) => j.id)).not.toContain("AAAAAAAAAAA");
    expect(await storedJobs()).toHaveLength(1);
  });

  it("resizes to a social media preset with the preset list from the shared specs", async () => {
    await page.goto(`${srv.baseUrl}/tools/resize?on=server`);
    await page.getByRole("radio", { name: "Social media preset" }).check();
    const preset = page.getByLabel("Social media size");
    expect(await preset.locator("option", { hasText: "Instagram portrait post (1080 × 1350)" }).count()).toBe(1);
    await preset.selectOption("instagram-portrait");
    await page.getByLabel("Choose files for this tool").setInputFiles({ name: "green.jpg", mimeType: "image/jpeg", buffer: green });
    await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
    await page.getByText(/^1080 × 1350 · /).first().waitFor({ timeout: 30_000 });
  });

  it("crops to a rectangle given in grouped fields", async () => {
    await page.goto(`${srv.baseUrl}/tools/crop?on=server`);
    await page.getByRole("radio", { name: "A rectangle" }).check();
    await fillRectangle(page, { x: 10, y: 20, width: 120, height: 50 });
    await page.getByLabel("Rotate clockwise").selectOption("90");
    await page.getByLabel("Choose files for this tool").setInputFiles({ name: "green.jpg", mimeType: "image/jpeg", buffer: green });
    await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
    await page.getByRole("status").filter({ hasText: /^Done$/ }).waitFor({ timeout: 30_000 });
    const [latest] = await storedJobs().then((jobs) => jobs.slice(-1));
    const job = await (await fetch(`${srv.baseUrl}/api/v1/jobs/${latest!.id}`)).json();
    expect(job.params).toMatchObject({ rect: { x: 10, y: 20, width: 120, height: 50 }, rotate: 90 });
    expect(job.params.aspect).toBeUndefined();
    expect([job.outputs[0].width, job.outputs[0].height]).toEqual([50, 120]);
    // Turned, the result has no like in the original to compare with: it is shown alone.
    const card = page.locator("li.job").first();
    await card.locator("img.result").waitFor();
    expect(await card.locator("figure.compare").count()).toBe(0);
  });

  it("compares a crop with the same rectangle of the original", async () => {
    await page.goto(`${srv.baseUrl}/tools/crop?on=server`);
    await page.getByRole("radio", { name: "A rectangle" }).check();
    await fillRectangle(page, { x: 10, y: 20, width: 100, height: 50 });
    await page.getByLabel("Choose files for this tool").setInputFiles({ name: "green.jpg", mimeType: "image/jpeg", buffer: green });
    await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
    const before = page.locator("li.job").first().locator("figure.compare img.before");
    await before.waitFor({ timeout: 30_000 });
    // Of 640×480: 20 px from the top, 530 from the right, 410 from the bottom, 10 from the left.
    expect(await before.evaluate((el) => el.style.getPropertyValue("object-view-box"))).toBe("inset(4.1667% 82.8125% 85.4167% 1.5625%)");
  });

  it("gives a refused batch's files back to the form with the reason, so the settings can be corrected", async () => {
    await page.goto(`${srv.baseUrl}/tools/crop?on=server`);
    await page.getByRole("radio", { name: "A rectangle" }).check();
    // Half a rectangle: the server refuses the params (400) before storing anything.
    await page.getByRole("group", { name: "Rectangle to keep" }).getByLabel("Left (x)").fill("10");
    await page.getByLabel("Choose files for this tool").setInputFiles({ name: "green.jpg", mimeType: "image/jpeg", buffer: green });
    await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
    await page.locator("form.tool-form").getByRole("alert").filter({ hasText: /rect\.y: missing: a rectangle needs x, y, width and height/ }).waitFor();
    expect(await page.locator("ul.selected li").filter({ hasText: "green.jpg" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Upload and run on 1 file" }).isEnabled()).toBe(true);
  });

  it("shows the expected time from the measured seconds per megapixel once the server has one", async () => {
    const catalogue = (await (await fetch(`${srv.baseUrl}/api/v1/tools`)).json()) as { tools: { name: string; secondsPerMegapixel: number | null }[] };
    expect(catalogue.tools.find((t) => t.name === "convert")?.secondsPerMegapixel).toEqual(expect.any(Number));
    await page.goto(`${srv.baseUrl}/tools/convert?on=server`);
    await page.getByLabel("Choose files for this tool").setInputFiles({ name: "green.jpg", mimeType: "image/jpeg", buffer: green });
    await page.getByText(/^about \d+ seconds?$/).waitFor();
  });

  it("falls back to polling when the event stream fails, and shows the tool's report", async () => {
    const polls: string[] = [];
    const onRequest = (req: Request) => {
      if (/\/api\/v1\/batches\/[A-Za-z0-9_-]+$/.test(req.url())) polls.push(req.url());
    };
    page.on("request", onRequest);
    await page.route("**/api/v1/batches/*/events", (route) => route.fulfill({ status: 503, body: "" }));
    await page.goto(`${srv.baseUrl}/tools/strip?on=server`);
    await page.getByText("This tool has no settings.").waitFor();
    await page.getByLabel("Choose files for this tool").setInputFiles({ name: "plain.png", mimeType: "image/png", buffer: blue });
    await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
    await page.getByRole("status").filter({ hasText: /^Done$/ }).waitFor({ timeout: 30_000 });
    await page.unroute("**/api/v1/batches/*/events");
    page.off("request", onRequest);
    expect(polls.length).toBeGreaterThan(0);
    await page.getByText("Report", { exact: true }).click();
    await page.getByRole("link", { name: "Download plain.png" }).waitFor();
  });

  it("stayed on its own origin without CSP violations or script errors", () => {
    expectSameOriginAndClean(new URL(srv.baseUrl).origin, log);
  });
});

(skipBrowser ? describe.skip : describe)("hosting upload by URL in Chromium", () => {
  let srv: TestServer;
  let source: LocalServer;
  let browser: Browser;
  let page: Page;
  const log = { requests: [] as string[], cspReports: [] as string[], pageErrors: [] as string[] };

  beforeAll(async () => {
    const png = await sharp({ create: { width: 320, height: 200, channels: 3, background: "#a37" } }).png().toBuffer();
    source = await startLocalServer((_req, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": png.length });
      res.end(png);
    });
    srv = await startTestServer({ config: { urlImport: { enabled: true, timeoutMs: 10_000, allowList: [parseCidr("127.0.0.1/32")] } } });
    browser = await launchChromium();
    ({ page } = await openWatchedPage(browser, log));
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
    await source?.close();
  });

  it("uploads an image by its address from the home page and gives a share link", async () => {
    await page.goto(srv.baseUrl + "/");
    await page.getByLabel("Image address (URL)").fill(`${source.origin}/pictures/magenta.png`);
    await page.getByRole("button", { name: "Upload from URL" }).click();
    const share = page.getByLabel("Share link", { exact: true }).first();
    await share.waitFor({ timeout: 20_000 });
    expect(await share.inputValue()).toMatch(/\/i\/[A-Za-z0-9_-]{11}$/);
    expect(source.requests.map((r) => r.url)).toEqual(["/pictures/magenta.png"]);
    // The browser itself never contacted the other server.
    expectSameOriginAndClean(new URL(srv.baseUrl).origin, log);
    const owned = await page.evaluate(() => JSON.parse(localStorage.getItem("pixhaven.uploads") ?? "[]"));
    expect(owned).toHaveLength(1);
  });

  it("refuses an address that is not http(s) without sending anything", async () => {
    const posts: string[] = [];
    const onRequest = (req: Request) => req.method() === "POST" && posts.push(req.url());
    page.on("request", onRequest);
    await page.getByLabel("Image address (URL)").fill("ftp://example.com/a.png");
    await page.getByRole("button", { name: "Upload from URL" }).click();
    await page.getByText("Enter a full address starting with http:// or https://.").waitFor();
    page.off("request", onRequest);
    expect(posts).toEqual([]);
  });
});
