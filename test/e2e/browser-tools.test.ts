import { readFile } from "node:fs/promises";
import { unzipSync } from "fflate";
import type { Browser, BrowserContext, Download, Page, Request } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRETS, jpegWithMetadata } from "../fixtures/metadata.js";
import { plainJpeg, pngClaiming } from "../fixtures/images.js";
import { readHeader, uprightSize } from "../../web/src/tools/header.js";
import { launchChromium, openWatchedPage, skipBrowser } from "../helpers/browser.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const PRIVACY = "Nothing leaves your device";
const TWELVE_MP = { width: 4000, height: 3008 }; // 16-pixel multiples: the lossless turn is possible

/** What the browser sent, web workers included: the P1 tests fail on any of it. */
interface Sent {
  method: string;
  url: string;
  body: boolean;
}

type File = { name: string; mimeType: string; buffer: Buffer };

async function pixel(image: Buffer, fx: number, fy: number): Promise<[number, number, number, number]> {
  const { data, info } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (Math.floor(fy * info.height) * info.width + Math.floor(fx * info.width)) * 4;
  return [data[at]!, data[at + 1]!, data[at + 2]!, data[at + 3]!];
}

const isRed = ([r, g, b]: number[]) => r! > 200 && g! < 70 && b! < 70;

(skipBrowser ? describe.skip : describe)("browser tools run on the device (P1)", () => {
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const log = { requests: [] as string[], cspReports: [] as string[], pageErrors: [] as string[] };
  const sent: Sent[] = [];
  let bigJpeg: Buffer;
  let smallSideways: Buffer;
  let alphaPng: Buffer;
  let green: Buffer;
  let heic: Buffer;

  beforeAll(async () => {
    bigJpeg = Buffer.from(await jpegWithMetadata({ ...TWELVE_MP, orientation: 6 }));
    // 70 × 50 is not a whole number of 16-pixel blocks: this one cannot be turned losslessly.
    smallSideways = Buffer.from(await jpegWithMetadata({ width: 70, height: 50, orientation: 6 }));
    alphaPng = await sharp({ create: { width: 80, height: 60, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .composite([{ input: { create: { width: 40, height: 30, channels: 4, background: { r: 220, g: 20, b: 20, alpha: 1 } } }, left: 0, top: 0 }])
      .png()
      .toBuffer();
    green = await plainJpeg(640, 480);
    heic = await readFile(new URL("../fixtures/photo.heic", import.meta.url));
    srv = await startTestServer();
    browser = await launchChromium();
    ({ context, page } = await openWatchedPage(browser, log));
    // The context sees the page's requests and its web workers' (scripts, wasm, anything they fetch).
    context.on("request", (req: Request) => sent.push({ method: req.method(), url: req.url(), body: req.postDataBuffer() !== null }));
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  function expectNothingSent() {
    const origin = new URL(srv.baseUrl).origin;
    const network = sent.filter((r) => !r.url.startsWith("blob:") && !r.url.startsWith("data:"));
    expect(network.length).toBeGreaterThan(0);
    expect(network.filter((r) => r.method !== "GET" && r.method !== "HEAD")).toEqual([]);
    expect(network.filter((r) => r.body)).toEqual([]);
    expect(network.filter((r) => new URL(r.url).origin !== origin)).toEqual([]);
  }

  async function open(tool: string) {
    await page.goto(`${srv.baseUrl}/tools/${tool}`);
    await page.getByRole("heading", { name: PRIVACY }).waitFor();
    expect(await page.getByRole("radio", { name: "On this device" }).isChecked()).toBe(true);
    // Cross-origin isolated (COOP + COEP from the server): AVIF and OxiPNG get their threaded builds.
    await page.getByText(/^Ready: \d+ web workers?, multi-threaded AVIF and PNG\./).waitFor({ timeout: 30_000 });
  }

  async function runOn(files: File[]) {
    await page.getByLabel("Choose pictures for this tool").setInputFiles(files);
    const label = `Run on ${files.length} ${files.length === 1 ? "file" : "files"} on this device`;
    await page.getByRole("button", { name: label }).click();
    const done = page.getByRole("status").filter({ hasText: /^Done$/ });
    await expect.poll(() => done.count(), { timeout: 45_000 }).toBe(files.length);
    expect(await page.getByRole("alert").count()).toBe(0);
  }

  async function download(name: string): Promise<{ download: Download; bytes: Buffer }> {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: `Download ${name}` }).click()]);
    return { download, bytes: await readFile((await download.path())!) };
  }

  it("P1: compress keeps each format, turns a 12 MP photo upright, keeps PNG alpha, and sends nothing", async () => {
    await open("compress");
    await runOn([
      { name: "photo.jpg", mimeType: "image/jpeg", buffer: bigJpeg },
      { name: "alpha.png", mimeType: "image/png", buffer: alphaPng },
    ]);
    const jpeg = (await download("photo.jpg")).bytes;
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", TWELVE_MP.height, TWELVE_MP.width]);
    expect(meta.exif).toBeUndefined();
    expect(jpeg.length).toBeLessThan(bigJpeg.length);
    // Stored sideways with its red quarter top-left: upright, that quarter is top-right.
    expect(isRed(await pixel(jpeg, 0.75, 0.25))).toBe(true);
    expect(isRed(await pixel(jpeg, 0.25, 0.25))).toBe(false);

    const png = (await download("alpha.png")).bytes;
    const pngMeta = await sharp(png).metadata();
    expect([pngMeta.format, pngMeta.width, pngMeta.height, pngMeta.hasAlpha]).toEqual(["png", 80, 60, true]);
    expect((await pixel(png, 0.25, 0.25))[3]).toBe(255);
    expect((await pixel(png, 0.75, 0.75))[3]).toBe(0);

    await page.getByText(/^3008 × 4000$/).waitFor();
    await page.getByText(/% smaller, .* saved\)$/).first().waitFor();
    const slider = page.getByRole("slider", { name: "Compare the original with the result" }).first();
    await slider.fill("30");

    const [zip] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download all as ZIP" }).click()]);
    expect(zip.suggestedFilename()).toBe("pixhaven-compress-2.zip");
    const entries = unzipSync(new Uint8Array(await readFile((await zip.path())!)));
    expect(Object.keys(entries).sort()).toEqual(["alpha.png", "photo.jpg"]);
    expect(Buffer.from(entries["photo.jpg"]!).equals(jpeg)).toBe(true);
    expectNothingSent();
  });

  it("P1: convert reads HEIC in a web worker and writes WebP and AVIF", async () => {
    await open("convert");
    await page.getByLabel("Output format").selectOption("webp");
    await runOn([{ name: "phone.heic", mimeType: "", buffer: heic }]);
    const webp = (await download("phone.webp")).bytes;
    const meta = await sharp(webp).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 96, 64]);
    expect(isRed(await pixel(webp, 0.2, 0.2))).toBe(true);
    expect(isRed(await pixel(webp, 0.8, 0.8))).toBe(false);

    await page.getByRole("button", { name: "Clear the list" }).click();
    await page.getByLabel("Output format").selectOption("avif");
    await page.getByText(/^Ready: /).waitFor({ timeout: 30_000 });
    await runOn([{ name: "green.jpg", mimeType: "image/jpeg", buffer: green }]);
    const avif = (await download("green.avif")).bytes;
    const avifMeta = await sharp(avif).metadata();
    expect([avifMeta.format, avifMeta.width, avifMeta.height]).toEqual(["heif", 640, 480]);
    expect(avifMeta.compression).toBe("av1");
    expectNothingSent();
  });

  it("P1: resize to a social media preset from the shared list, and by percentage", async () => {
    await open("resize");
    await page.getByRole("radio", { name: "Social media preset" }).check();
    await page.getByLabel("Social media size").selectOption("instagram-portrait");
    await runOn([{ name: "green.jpg", mimeType: "image/jpeg", buffer: green }]);
    const out = (await download("green-1080x1350.jpg")).bytes;
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 1080, 1350]);

    await page.getByRole("button", { name: "Clear the list" }).click();
    await page.getByRole("radio", { name: "Percentage" }).check();
    await page.getByLabel("Scale (%)").fill("25");
    await page.getByLabel("Output format").selectOption("png");
    await runOn([{ name: "alpha.png", mimeType: "image/png", buffer: alphaPng }]);
    const png = (await download("alpha-20x15.png")).bytes;
    const pngMeta = await sharp(png).metadata();
    expect([pngMeta.format, pngMeta.width, pngMeta.height, pngMeta.hasAlpha]).toEqual(["png", 20, 15, true]);
    expectNothingSent();
  });

  it("words a settings mistake from the catalogue, in the page's language", async () => {
    await open("resize");
    await page.getByLabel("Choose pictures for this tool").setInputFiles({ name: "green.jpg", mimeType: "image/jpeg", buffer: green });
    // The form's own checks (min, max) stop the rest; a size left empty is the spec's to refuse.
    await page.getByRole("radio", { name: "Width and height" }).check();
    await page.getByLabel("Width (pixels)").fill("");
    await page.getByLabel("Height (pixels)").fill("");
    await page.getByRole("button", { name: "Run on 1 file on this device" }).click();
    await page.getByText("Check the settings: Give a width or a height, a percentage, or a social media size.").waitFor();
    await page.getByLabel("Language").selectOption("fr");
    try {
      await page.getByRole("button", { name: /Lancer/ }).click();
      await page.getByText("Vérifiez les réglages : Indiquez une largeur ou une hauteur, un pourcentage, ou un format réseaux sociaux.").waitFor();
    } finally {
      await page.getByLabel("Langue").selectOption("en");
    }
    await page.getByRole("radio", { name: "Social media preset" }).check();
    await page.getByRole("button", { name: "Clear the list" }).click();
    expect(log.pageErrors).toEqual([]);
  });

  it("P1: crop to a square, turned right, from the rectangle drawn on the first picture", async () => {
    await open("crop");
    const sideways = { name: "small.jpg", mimeType: "image/jpeg", buffer: smallSideways };
    await page.getByLabel("Choose pictures for this tool").setInputFiles(sideways);
    await page.getByRole("slider", { name: "Area to keep" }).waitFor();
    await page.getByLabel("Aspect ratio").selectOption("1:1");
    await page.getByRole("button", { name: "Turn right" }).click();
    await page.getByText(/^Keeping 100% × 71% from 0%, 14%, turned 90°$/).waitFor();
    await page.getByRole("button", { name: "Run on 1 file on this device" }).click();
    await page.getByRole("status").filter({ hasText: /^Done$/ }).waitFor({ timeout: 30_000 });
    const out = (await download("small.jpg")).bytes;
    const meta = await sharp(out).metadata();
    // Upright the photo is 50 × 70; the square is its middle 50 × 50, then turned a quarter right.
    expect([meta.format, meta.width, meta.height, meta.orientation]).toEqual(["jpeg", 50, 50, undefined]);
    expect(isRed(await pixel(out, 0.8, 0.8))).toBe(true);
    expect(isRed(await pixel(out, 0.2, 0.2))).toBe(false);
    expectNothingSent();
  });

  it("P1: strip shows the location, camera and dates it found, removes them, proves it, and turns the photo upright losslessly", async () => {
    await open("strip");
    await runOn([
      { name: "holiday.jpg", mimeType: "image/jpeg", buffer: bigJpeg },
      { name: "small.jpg", mimeType: "image/jpeg", buffer: smallSideways },
    ]);
    const big = page.getByRole("listitem").filter({ hasText: "holiday.jpg" });
    const report = (await big.textContent()) ?? "";
    expect(report).toContain(`${SECRETS.gpsLatitude.toFixed(5)}, ${SECRETS.gpsLongitude.toFixed(5)}`);
    expect(report).toContain(`${SECRETS.make} ${SECRETS.model}`);
    expect(report).toContain(SECRETS.dateOriginal);
    expect(report).toContain("no location, camera, dates, author or other metadata is left");
    expect(report).toContain("turned upright losslessly");
    const small = (await page.getByRole("listitem").filter({ hasText: "small.jpg" }).textContent()) ?? "";
    expect(small).toContain("could not be turned losslessly, so it was turned upright and re-encoded at high quality");

    const { bytes } = await download("holiday.jpg");
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", TWELVE_MP.height, TWELVE_MP.width]);
    expect([meta.exif, meta.xmp, meta.iptc, meta.orientation]).toEqual([undefined, undefined, undefined, undefined]);
    const text = bytes.toString("latin1");
    for (const secret of [SECRETS.make, SECRETS.model, SECRETS.serial, SECRETS.dateOriginal, SECRETS.xmp, SECRETS.iptc, SECRETS.comment]) expect(text).not.toContain(secret);
    expect(isRed(await pixel(bytes, 0.75, 0.25))).toBe(true);
    expect(isRed(await pixel(bytes, 0.25, 0.25))).toBe(false);

    const smallOut = (await download("small.jpg")).bytes;
    const smallMeta = await sharp(smallOut).metadata();
    expect([smallMeta.width, smallMeta.height, smallMeta.exif]).toEqual([50, 70, undefined]);
    expect(isRed(await pixel(smallOut, 0.75, 0.25))).toBe(true);
    expectNothingSent();
  });

  it("refuses a picture above this device's pixel budget from its header, with a clear message, before decoding it", async () => {
    await open("compress");
    await page.getByLabel("Choose pictures for this tool").setInputFiles({ name: "bomb.png", mimeType: "image/png", buffer: pngClaiming(20_000, 20_000) });
    await page.getByRole("button", { name: "Run on 1 file on this device" }).click();
    await page.getByRole("alert").filter({ hasText: /^This picture is 400 megapixels \(20000 × 20000\); this browser can take up to \d+ megapixels\./ }).waitFor();
    // The web worker reported a code and its values, not a sentence: the page words it again in another language.
    await page.getByLabel("Language").selectOption("fr");
    try {
      await page.getByRole("alert").filter({ hasText: /^Cette image fait 400 mégapixels \(20000 × 20000\) ; ce navigateur en accepte au plus \d+\./ }).waitFor();
    } finally {
      await page.getByLabel("Langue").selectOption("en");
    }
    expect(log.pageErrors).toEqual([]);
  });

  it("P1: compress still works with the network cut after the page loaded", async () => {
    await open("compress");
    await page.getByLabel("Output format").selectOption("webp");
    await page.getByText(/^Ready: /).waitFor({ timeout: 30_000 });
    await context.setOffline(true);
    try {
      await runOn([{ name: "green.jpg", mimeType: "image/jpeg", buffer: green }]);
      const webp = (await download("green.webp")).bytes;
      expect((await sharp(webp).metadata()).format).toBe("webp");
    } finally {
      await context.setOffline(false);
    }
    expectNothingSent();
  });

  it("the server version is one switch away and shows the upload notice; no page reported a CSP violation", async () => {
    await open("resize");
    await page.getByRole("radio", { name: "On the server" }).check();
    await page.getByRole("region", { name: "Your files are uploaded to this server" }).waitFor();
    expect(new URL(page.url()).search).toBe("?on=server");
    await page.goto(`${srv.baseUrl}/tools`);
    await expect.poll(() => page.getByText("Runs on your device").count()).toBe(5);
    expect(log.cspReports).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expectNothingSent();
  });
});

describe("picture headers read before decoding", () => {
  it("gives the format and the upright size of every input type from its first bytes", async () => {
    const raw = { create: { width: 30, height: 20, channels: 3 as const, background: "#808080" } };
    const sideways = readHeader(new Uint8Array(await jpegWithMetadata({ width: 64, height: 48, orientation: 6 })))!;
    expect(sideways).toEqual({ format: "jpeg", width: 64, height: 48, orientation: 6 });
    expect(uprightSize(sideways)).toEqual({ width: 48, height: 64 });
    for (const [format, bytes] of [
      ["png", await sharp(raw).png().toBuffer()],
      ["webp", await sharp(raw).webp().toBuffer()],
      ["webp", await sharp(raw).webp({ lossless: true }).toBuffer()],
      ["gif", await sharp(raw).gif().toBuffer()],
      ["avif", await sharp(raw).avif().toBuffer()],
    ] as const) {
      expect(readHeader(new Uint8Array(bytes))).toEqual({ format, width: 30, height: 20, orientation: 1 });
    }
    const heic = readHeader(new Uint8Array(await readFile(new URL("../fixtures/photo.heic", import.meta.url))));
    expect(heic).toMatchObject({ format: "heic", width: 96, height: 64 });
    expect(readHeader(new Uint8Array(pngClaiming(20_000, 20_000)))).toMatchObject({ width: 20_000, height: 20_000 });
    expect(readHeader(new TextEncoder().encode("not a picture at all"))).toBeNull();
  });
});
