import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import sharp from "sharp";
import { launchChromium, openWatchedPage, skipBrowser } from "../helpers/browser.js";
import { startTestServer } from "../helpers/server.js";

const SHARE_LINK = /\/i\/[A-Za-z0-9_-]{11}$/;
// Small enough that an incompressible test image goes over it.
const MAX_UPLOAD_BYTES = 1_000_000;

(skipBrowser ? describe.skip : describe)("web UI in Chromium", () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let jpeg: Buffer;
  const requests: string[] = [];
  const cspReports: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#3a7" } })
      .jpeg()
      .toBuffer();
    srv = await startTestServer({ config: { maxUploadBytes: MAX_UPLOAD_BYTES } });
    browser = await launchChromium();
    ({ context, page } = await openWatchedPage(browser, { requests, cspReports, pageErrors }));
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: srv.baseUrl });
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  async function shareLinks(): Promise<string[]> {
    const fields = page.getByLabel("Share link", { exact: true });
    return fields.evaluateAll((els) => els.map((el) => (el as HTMLInputElement).value));
  }

  it("uploads with the picker and by dropping, then views and deletes", async () => {
    const home = await page.goto(srv.baseUrl + "/");
    expect(home?.status()).toBe(200);
    // Without the header the CSP checks below would prove nothing.
    expect(home?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.getByText("Location, camera and date metadata is removed").waitFor();
    // P12's period, as the server applies it.
    await page.getByText("An image nobody views for 180 days is deleted.").waitFor();
    await page.getByRole("button", { name: /Drop images here/ }).waitFor();

    await page.locator("input[type=file]").setInputFiles({ name: "green.jpg", mimeType: "image/jpeg", buffer: jpeg });
    await page.getByLabel("Share link", { exact: true }).first().waitFor();
    const [shareUrl] = await shareLinks();
    expect(shareUrl).toMatch(SHARE_LINK);
    const rawUrl = await page.getByLabel("Direct link", { exact: true }).first().inputValue();
    expect(rawUrl).toMatch(/\/i\/[A-Za-z0-9_-]{11}\/raw$/);

    const copy = page.getByRole("button", { name: "Copy share link" }).first();
    await copy.click();
    await page.getByRole("button", { name: "Copied share link" }).first().waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(shareUrl);

    // A real drop: the DataTransfer is built inside the page, as the browser would.
    const dataTransfer = await page.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], "dropped.jpg", { type: "image/jpeg" }));
      return dt;
    }, jpeg.toString("base64"));
    await page.getByRole("button", { name: /Drop images here/ }).dispatchEvent("drop", { dataTransfer });
    await expect.poll(async () => (await shareLinks()).length, { timeout: 30_000 }).toBe(2);
    const links = await shareLinks();
    expect(links[1]).toMatch(SHARE_LINK);
    expect(links[1]).not.toBe(shareUrl);

    const owned = await page.evaluate(() => JSON.parse(localStorage.getItem("pixhaven.uploads") ?? "[]"));
    expect(owned).toHaveLength(2);
    expect(owned[0]).toMatchObject({ url: shareUrl, id: shareUrl!.split("/").pop() });
    expect(typeof owned[0].deleteToken).toBe("string");

    // In-app navigation first, then a full load of the same address from the server.
    await page.getByRole("link", { name: "Open image page for green.jpg" }).click();
    await page.waitForURL(shareUrl!);
    const image = page.getByRole("img", { name: /^Uploaded image / });
    await image.waitFor();
    await page.reload();
    await image.waitFor();
    await expect
      .poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 15_000 })
      .toBe(640);
    await page.getByText("640 × 480", { exact: true }).waitFor();

    await page.getByRole("button", { name: "Delete image" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByRole("heading", { name: "Deleted" }).waitFor();

    const remaining = await page.evaluate(() => JSON.parse(localStorage.getItem("pixhaven.uploads") ?? "[]"));
    expect(remaining.map((e: { url: string }) => e.url)).toEqual([links[1]]);
    expect([404, 410]).toContain((await fetch(rawUrl)).status);

    await page.reload();
    await page.getByText("This image does not exist or was deleted").waitFor();
  });

  it("refuses an oversized file before sending it", async () => {
    const noise = await sharp({
      create: { width: 800, height: 800, channels: 3, background: "#000", noise: { type: "gaussian", mean: 128, sigma: 60 } },
    })
      .png()
      .toBuffer();
    expect(noise.length).toBeGreaterThan(MAX_UPLOAD_BYTES);
    await page.goto(srv.baseUrl + "/");
    const posts: string[] = [];
    const onRequest = (req: Request) => {
      if (req.method() === "POST") posts.push(req.url());
    };
    page.on("request", onRequest);
    await page.locator("input[type=file]").setInputFiles({ name: "noise.png", mimeType: "image/png", buffer: noise });
    await page.getByText(/^Too large: .* The limit is 977 KB per image\.$/).waitFor();
    page.off("request", onRequest);
    expect(posts).toEqual([]);
  });

  it("uploads an image pasted from the clipboard", async () => {
    await page.goto(srv.baseUrl + "/");
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const clipboardData = new DataTransfer();
      clipboardData.items.add(new File([bytes], "image.jpeg", { type: "image/jpeg" }));
      document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData, bubbles: true, cancelable: true }));
    }, jpeg.toString("base64"));
    await page.getByLabel("Share link", { exact: true }).first().waitFor();
    expect(await shareLinks()).toEqual([expect.stringMatching(SHARE_LINK)]);
  });

  it("P3: the theme choice survives a reload and travels in no request", async () => {
    const sent: Array<{ url: string; headers: Record<string, string>; body: string | null }> = [];
    const record = (req: Request) => sent.push({ url: req.url(), headers: req.headers(), body: req.postData() });
    page.on("request", record);
    await page.goto(srv.baseUrl + "/");
    const html = page.locator("html");
    expect(await html.getAttribute("data-theme")).toBeNull();
    await page.getByRole("button", { name: /^Theme: System/ }).click();
    expect(await html.getAttribute("data-theme")).toBe("light");
    await page.getByRole("button", { name: /^Theme: Light/ }).click();
    expect(await html.getAttribute("data-theme")).toBe("dark");
    expect(await page.evaluate(() => localStorage.getItem("pixhaven.theme"))).toBe("dark");
    await page.reload();
    expect(await html.getAttribute("data-theme")).toBe("dark");
    page.off("request", record);
    // Kept in localStorage only: no cookie exists, and no URL, header or body mentions it.
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(sent.length).toBeGreaterThan(0);
    for (const req of sent) {
      expect(new URL(req.url).search).toBe("");
      expect(JSON.stringify(req.headers)).not.toMatch(/dark|light/i);
      expect(req.body).toBeNull();
      expect(req.headers.cookie).toBeUndefined();
    }
    await page.getByRole("button", { name: /^Theme: Dark/ }).click();
    expect(await html.getAttribute("data-theme")).toBeNull();
    expect(await page.evaluate(() => localStorage.getItem("pixhaven.theme"))).toBeNull();
  });

  it("opening the API's deleteUrl offers deletion and takes the token out of the address bar", async () => {
    const form = new FormData();
    form.append("file", new Blob([jpeg as Uint8Array<ArrayBuffer>]), "from-api.jpg");
    const uploaded = await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form })).json();
    const fresh = await context.newPage();
    const sent: string[] = [];
    fresh.on("request", (req) => sent.push(req.url()));
    await fresh.goto(uploaded.deleteUrl.replace(/^https?:\/\/[^/]+/, srv.baseUrl));
    await fresh.getByRole("button", { name: "Delete image" }).waitFor();
    expect(new URL(fresh.url()).hash).toBe("");
    expect(sent.join(" ")).not.toContain(uploaded.deleteToken); // fragments never reach the server
    await fresh.getByRole("button", { name: "Delete image" }).click();
    await fresh.getByRole("button", { name: "Yes, delete" }).click();
    await fresh.getByRole("heading", { name: "Deleted" }).waitFor();
    expect((await fetch(uploaded.rawUrl)).status).toBe(410);
    await fresh.close();
  });

  it("a visitor reports an image from its page: a copyright notice asks for what it needs and reaches the moderators", async () => {
    const form = new FormData();
    form.append("file", new Blob([jpeg as Uint8Array<ArrayBuffer>]), "reported.jpg");
    const uploaded = await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form })).json();
    const visitor = await context.newPage();
    await visitor.goto(`${srv.baseUrl}/i/${uploaded.id}`);
    await visitor.getByText("Report this image").click();
    await visitor.getByLabel("What is wrong with it").selectOption({ label: "It infringes my copyright" });
    await visitor.getByText("deleted 365 days after the report is dealt with").waitFor();
    // A notice needs the work, an address and the statement: the browser asks before sending.
    const send = visitor.getByRole("button", { name: "Send the report" });
    await send.click();
    expect(await srv.px.core.reports.list("open")).toEqual([]);
    await visitor.getByLabel("The work it copies, and who holds its rights").fill("My photograph 'Green field' (2025); I hold its rights.");
    await visitor.getByLabel("Your e-mail address").fill("owner@example.org");
    await visitor.getByLabel(/I believe in good faith/).check();
    await send.click();
    await visitor.getByRole("status").filter({ hasText: "Your report was sent to this server's moderators" }).waitFor();
    expect(await srv.px.core.reports.list("open")).toEqual([
      expect.objectContaining({ image_id: uploaded.id, reason: "copyright", contact: "owner@example.org", details: "My photograph 'Green field' (2025); I hold its rights." }),
    ]);
    await visitor.close();
  });

  it("stayed on its own origin without CSP violations or script errors", () => {
    const origin = new URL(srv.baseUrl).origin;
    const network = requests.filter((url) => !url.startsWith("data:") && !url.startsWith("blob:"));
    expect(network.length).toBeGreaterThan(0);
    expect(network.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(cspReports).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

(skipBrowser ? describe.skip : describe)("uploads when the server asks for a proof of work, in Chromium", () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;

  beforeAll(async () => {
    srv = await startTestServer({ config: { proofOfWorkBits: 12 }, jobWorker: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it("P16: the upload page and a server tool's page solve the server's challenge in a worker, and the anonymous uploads pass the check", async () => {
    const log = { requests: [] as string[], cspReports: [] as string[], pageErrors: [] as string[] };
    const { context, page } = await openWatchedPage(browser, log);
    const proofs: string[] = [];
    page.on("request", (req: Request) => {
      if (req.url().endsWith("/api/v1/images") && req.method() === "POST") proofs.push(req.headers()["x-proof-of-work"] ?? "");
    });
    await page.goto(srv.baseUrl + "/");
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#37a" } }).jpeg().toBuffer();
    await page.locator("input[type=file]").setInputFiles({ name: "checked.jpg", mimeType: "image/jpeg", buffer: jpeg });
    await page.getByLabel("Share link", { exact: true }).first().waitFor({ timeout: 30_000 });
    expect(proofs).toHaveLength(1);
    expect(proofs[0]).toMatch(/^\d{13}\.12\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}:\d+$/);
    expect(log.requests.some((url) => url.endsWith("/api/v1/pow"))).toBe(true);

    // A server tool's page does the same for the files it sends.
    await page.goto(`${srv.baseUrl}/tools/strip?on=server`);
    const sentJobs: string[] = [];
    page.on("request", (req: Request) => {
      if (req.url().endsWith("/api/v1/jobs") && req.method() === "POST") sentJobs.push(req.headers()["x-proof-of-work"] ?? "");
    });
    await page.getByLabel("Choose files for this tool").setInputFiles({ name: "tool.jpg", mimeType: "image/jpeg", buffer: jpeg });
    await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
    await page.getByRole("status").filter({ hasText: /^Done$/ }).waitFor({ timeout: 30_000 });
    expect(sentJobs).toHaveLength(1);
    expect(sentJobs[0]).toMatch(/:\d+$/);
    expect(log.cspReports).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    await context.close();
  });
});
