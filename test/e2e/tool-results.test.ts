import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fillRectangle, launchChromium, openWatchedPage, skipBrowser } from "../helpers/browser.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

// Models start cold in a fresh server; the machine running the suite may be busy.
const JOB_TIMEOUT = 150_000;

/** Black text on white, drawn by librsvg here (the server itself never rasterises SVG), as a PNG. */
async function textPicture(lines: string[]): Promise<Buffer> {
  const height = 40 + lines.length * 64;
  const text = lines
    .map((line, i) => `<text x="32" y="${72 + i * 64}" font-family="DejaVu Sans, sans-serif" font-size="40" fill="#111">${line}</text>`)
    .join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${height}">${text}</svg>`;
  return sharp(Buffer.from(svg)).flatten({ background: "#ffffff" }).png().toBuffer();
}

(skipBrowser ? describe.skip : describe)("tool result views in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const log = { requests: [] as string[], cspReports: [] as string[], pageErrors: [] as string[] };

  beforeAll(async () => {
    srv = await startTestServer({ jobWorker: true, config: { modelWorkers: 1 } });
    browser = await launchChromium();
    ({ context, page } = await openWatchedPage(browser, log));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await srv?.stop();
  });

  async function runTool(tool: string, file: { name: string; mimeType: string; buffer: Buffer }, settings?: () => Promise<void>): Promise<void> {
    await page.goto(`${srv.baseUrl}/tools/${tool}?on=server`);
    await settings?.();
    await page.getByLabel("Choose files for this tool").setInputFiles(file);
    await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
    await page.getByRole("status").filter({ hasText: /^Done$/ }).waitFor({ timeout: JOB_TIMEOUT });
  }

  it(
    "OCR: the recognised text in a text area, the words outlined over the picture with their confidence, lines on demand, and the .txt download",
    async () => {
      const picture = await textPicture(["Hello Pixhaven", "private images"]);
      await runTool("ocr", { name: "note.png", mimeType: "image/png", buffer: picture });

      const text = page.getByLabel("Recognised text", { exact: true });
      await text.waitFor();
      const value = await text.inputValue();
      expect(value).toContain("Hello");
      expect(value).toContain("Pixhaven");
      expect(await text.evaluate((el) => (el as HTMLTextAreaElement).readOnly)).toBe(true);

      // The overlay: an SVG in the input's pixels, laid exactly over the shown picture.
      const overlay = page.getByRole("group", { name: "Outlines of the recognised text" });
      await overlay.waitFor();
      expect(await overlay.getAttribute("viewBox")).toBe("0 0 760 168");
      const boxes = overlay.locator("rect.box");
      await expect.poll(() => boxes.count()).toBeGreaterThanOrEqual(2);
      const image = page.getByRole("img", { name: "note.png, with the recognised text outlined" });
      const [imageBox, overlayBox] = await Promise.all([image.boundingBox(), overlay.boundingBox()]);
      expect(imageBox && overlayBox).toBeTruthy();
      expect(Math.abs(imageBox!.width - overlayBox!.width)).toBeLessThan(1);
      expect(Math.abs(imageBox!.height - overlayBox!.height)).toBeLessThan(1);
      expect(imageBox!.width / imageBox!.height).toBeCloseTo(760 / 168, 1);

      // Each box says its word and confidence, as a tooltip and when pointed at or focused.
      const hello = overlay.getByRole("img", { name: /^“Hello”: \d+% confidence$/ });
      expect(await hello.locator("title").textContent()).toMatch(/^“Hello”: \d+% confidence$/);
      await hello.hover();
      await page.locator(".readout").filter({ hasText: /^“Hello”: \d+% confidence$/ }).waitFor();
      // A box sits where its word was drawn: the first line's words above the second line's.
      const first = await hello.boundingBox();
      const later = await overlay.getByRole("img", { name: /^“private”/ }).boundingBox();
      expect(first && later && first.y + first.height <= later.y).toBe(true);
      // One tab stop; the arrow keys move between the outlines.
      await hello.focus();
      await page.keyboard.press("ArrowRight");
      expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toMatch(/^“Pixhaven”: \d+% confidence$/);
      expect(await overlay.locator("rect[tabindex='0']").count()).toBe(1);

      await page.getByRole("radio", { name: "Lines" }).check();
      await expect.poll(() => boxes.count()).toBe(2);
      await overlay.getByRole("img", { name: /^“Hello Pixhaven”: \d+% confidence$/ }).waitFor();

      await page.getByRole("button", { name: "Copy the recognised text" }).waitFor();
      const download = page.getByRole("link", { name: "Download note.txt" });
      await download.waitFor();
      const res = await fetch(srv.baseUrl + (await download.getAttribute("href")));
      expect(res.headers.get("content-type")).toContain("text/plain");
      expect(await res.text()).toBe(value);
    },
    JOB_TIMEOUT + 30_000,
  );

  it(
    "OCR: the languages of the text are ticked on the page (English by default), and the job reads with them",
    async () => {
      const picture = await textPicture(["Un été très doux", "à la fenêtre"]);
      await runTool("ocr", { name: "lettre.png", mimeType: "image/png", buffer: picture }, async () => {
        const languages = page.getByRole("group", { name: "Languages of the text" });
        expect(await languages.getByRole("checkbox", { name: "English" }).isChecked()).toBe(true);
        expect(await languages.getByRole("checkbox", { name: "German" }).isChecked()).toBe(false);
        await languages.getByRole("checkbox", { name: "French" }).check();
        await languages.getByRole("checkbox", { name: "English" }).uncheck();
      });
      const text = page.getByLabel("Recognised text", { exact: true });
      await text.waitFor();
      // French data knows its accents; English data reads "ete" or worse.
      expect(await text.inputValue()).toMatch(/été/);
      // The job the page remembered ran with French alone.
      const remembered = JSON.parse((await page.evaluate(() => localStorage.getItem("pixhaven.jobs"))) ?? "[]") as Array<{ id: string; tool: string; createdAt: string }>;
      const last = remembered.filter((j) => j.tool === "ocr").sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1)!;
      expect((await (await fetch(`${srv.baseUrl}/api/v1/jobs/${last.id}`)).json()).params.languages).toEqual(["fra"]);
    },
    JOB_TIMEOUT + 30_000,
  );

  it(
    "NSFW check: five labelled bars, the likeliest class stated and marked",
    async () => {
      const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: "#6a8" } }).jpeg().toBuffer();
      await runTool("nsfw", { name: "field.jpg", mimeType: "image/jpeg", buffer: photo });

      const meters = page.locator("section.nsfw meter");
      await expect.poll(() => meters.count()).toBe(5);
      for (const name of ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]) {
        const meter = page.getByRole("meter", { name, exact: true });
        const value = Number(await meter.getAttribute("value"));
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
      }
      // A report and no file: nothing to put in a ZIP, so no ZIP is offered.
      expect(await page.getByRole("link", { name: "Download all as ZIP" }).count()).toBe(0);
      const values = await meters.evaluateAll((els) => els.map((el) => (el as HTMLMeterElement).value));
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
      const top = page.locator("section.nsfw li.top");
      expect(await top.count()).toBe(1);
      const label = (await top.locator("label").textContent())!.trim();
      expect(values[["Drawing", "Hentai", "Neutral", "Porn", "Sexy"].indexOf(label)]).toBe(Math.max(...values));
      await page.getByText(new RegExp(`^Likeliest: ${label} \\(\\d+(\\.\\d)?%\\)$`)).waitFor();
      // The bars are drawn: each meter has a width and the page set no style attribute for it.
      expect(await meters.first().evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(20);
    },
    JOB_TIMEOUT + 30_000,
  );

  it(
    "remove background on the server: transparent by default (no colour is sent until one is chosen), and the page leads to the browser version",
    async () => {
      // A dark square on a plain light background.
      const picture = await sharp({ create: { width: 160, height: 120, channels: 3, background: "#e8e4dc" } })
        .composite([{ input: await sharp({ create: { width: 60, height: 60, channels: 3, background: "#203040" } }).png().toBuffer(), left: 50, top: 30 }])
        .png()
        .toBuffer();
      await runTool("remove-background", { name: "square.png", mimeType: "image/png", buffer: picture }, async () => {
        expect(await page.getByRole("link", { name: /Remove the background on this device instead/ }).getAttribute("href")).toBe("/tools/remove-background/local");
        const colour = page.getByLabel("Background colour", { exact: true });
        expect(await colour.isDisabled()).toBe(true);
        expect(await page.getByRole("checkbox", { name: /Use a colour/ }).isChecked()).toBe(false);
      });
      const remembered = JSON.parse((await page.evaluate(() => localStorage.getItem("pixhaven.jobs"))) ?? "[]") as Array<{ id: string; tool: string }>;
      const job = await (await fetch(`${srv.baseUrl}/api/v1/jobs/${remembered.find((j) => j.tool === "remove-background")!.id}`)).json();
      expect(job.params.background).toBeUndefined();
      const cutout = await fetch(`${srv.baseUrl}${new URL(job.outputs[0].url).pathname}`);
      const { data, info } = await sharp(Buffer.from(await cutout.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(4);
      expect(data[3]).toBeLessThan(32); // the corner: background, see-through
    },
    JOB_TIMEOUT + 30_000,
  );

  it(
    "restore of a rectangle: the comparison shows the same rectangle of the original, not the whole picture",
    async () => {
      const photo = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#8a6" } })
        .jpeg()
        .toBuffer();
      await runTool("restore", { name: "field.jpg", mimeType: "image/jpeg", buffer: photo }, async () => {
        await fillRectangle(page, { x: 30, y: 20, width: 150, height: 100 });
      });
      const before = page.locator("figure.compare img.before");
      await before.waitFor();
      // 30/300 = 10% from the left, 20/200 = 10% from the top, 120/300 = 40% from the right, 80/200 = 40% from the bottom.
      expect(await before.evaluate((el) => el.style.getPropertyValue("object-view-box"))).toBe("inset(10% 40% 40% 10%)");
    },
    JOB_TIMEOUT + 30_000,
  );

  it("in French, a tool's page speaks French: its texts, an AI tool's title, description, settings, hints and choices, and sizes come from the one catalogue", async () => {
    await page.goto(`${srv.baseUrl}/tools/compress`);
    await page.getByLabel("Language").selectOption("fr");
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("fr");
    await page.getByRole("heading", { name: "Rien ne quitte votre appareil" }).waitFor();
    await page.getByText("Sur cet appareil", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Lancer sur cet appareil" }).waitFor();
    await page.getByLabel("Choisir des images pour cet outil").waitFor({ state: "attached" });
    const body = (await page.locator("main").textContent()) ?? "";
    for (const english of ["Nothing leaves your device", "Drop pictures", "Run on this device", "Output format", "Settings"]) {
      expect(body).not.toContain(english);
    }
    // An AI tool's title, description, settings, their hints and choices, and sizes come from the same catalogue.
    await page.goto(`${srv.baseUrl}/tools/restore?on=server`);
    await page.getByLabel("Mode", { exact: true }).waitFor();
    await page.getByRole("heading", { level: 1, name: "Restaurer une photo" }).waitFor();
    expect(await page.title()).toBe("Restaurer une photo · Pixhaven");
    // The limit in force on this server, in French.
    await page.getByText(/d’au plus 250\s000 pixels \(p\. ex\. 500×500\) \(RESTORE_MAX_PIXELS\)/).waitFor();
    await page.getByText("Mode rapide : filtre médian de 3 (léger) ou 5 (fort) pixels, ou aucun.").waitFor();
    const restorePage = (await page.locator("main").textContent()) ?? "";
    for (const english of ["Restore photo", "Cleans up", "median filter", "Output format:"]) expect(restorePage).not.toContain(english);
    expect(await page.getByLabel("Débruitage").locator("option").allTextContents()).toEqual(["Aucun", "Léger", "Fort"]);
    await page.getByLabel("Étirer le contraste").waitFor();
    await page.getByLabel("Choisir des fichiers pour cet outil").setInputFiles({ name: "a.jpg", mimeType: "image/jpeg", buffer: Buffer.alloc(1536, 1) });
    await page.getByText("1,5 Ko", { exact: true }).waitFor();
    // The list of tools too.
    await page.goto(`${srv.baseUrl}/tools`);
    await page.getByRole("link", { name: "Agrandir (IA)" }).waitFor();
    await page.getByRole("link", { name: "Supprimer les métadonnées" }).waitFor();
    await page.getByLabel("Langue").selectOption("en");
    await page.getByRole("link", { name: "Upscale (AI)" }).waitFor();
  });

  it("stayed on its own origin without CSP violations or script errors", () => {
    const network = log.requests.filter((url) => !url.startsWith("data:") && !url.startsWith("blob:"));
    expect(network.length).toBeGreaterThan(0);
    expect(network.filter((url) => new URL(url).origin !== new URL(srv.baseUrl).origin)).toEqual([]);
    expect(log.cspReports).toEqual([]);
    expect(log.pageErrors).toEqual([]);
  });
});
