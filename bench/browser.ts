/**
 * Browser tools benchmark: twelve 12-megapixel photos compressed on the device, in headless
 * Chromium through the compress page itself (pick, decode, encode, ZIP), to WebP q75 and MozJPEG
 * q75, once with the pool (one web worker per core) and once with a single web worker (how Squoosh
 * works), in the same run. The output bytes are compared with sharp at the same settings, in this
 * process. Prints a Markdown table: seconds per batch, photos/s, the pool's speed-up, and how far
 * the browser's bytes are from sharp's.
 *
 *   npm run bench:browser            (builds first)
 *   BENCH_QUICK=1 npm run bench:browser    (two photos: checks that it runs)
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import { launchChromium } from "../test/helpers/browser.js";
import { startTestServer } from "../test/helpers/server.js";

const QUICK = process.env.BENCH_QUICK === "1";
const PHOTOS = QUICK ? 2 : 12;
const WIDTH = 4032;
const HEIGHT = 3024;
const QUALITY = 75;

type Codec = "webp" | "jpeg";

/** A photo-like picture: smooth light, a few shapes, fine texture and sensor-like noise, different per seed. */
async function photo(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(WIDTH * HEIGHT * 3);
  let state = seed * 2654435761;
  const noise = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return ((state >>> 16) & 0xff) / 255 - 0.5;
  };
  const cx = (0.3 + 0.1 * (seed % 5)) * WIDTH;
  const cy = (0.4 + 0.05 * (seed % 7)) * HEIGHT;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      const sky = y < HEIGHT * (0.45 + 0.05 * Math.sin(x / 300 + seed));
      const d = Math.hypot(x - cx, y - cy) / WIDTH;
      const texture = 18 * Math.sin(x / (7 + (seed % 3))) * Math.cos(y / 11);
      const n = 14 * noise();
      raw[i] = clamp((sky ? 110 : 90 + 60 * Math.sin(x / 900)) + 120 * Math.max(0, 0.25 - d) + texture + n);
      raw[i + 1] = clamp((sky ? 160 : 120 + 30 * Math.cos(y / 700)) + texture * 0.6 + n);
      raw[i + 2] = clamp((sky ? 220 - y / 30 : 70) + 80 * Math.max(0, 0.2 - d) + n);
    }
  }
  return sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

async function runBatch(page: Page, baseUrl: string, files: string[], codec: Codec, workers: number | null): Promise<{ seconds: number; outputs: Record<string, Uint8Array> }> {
  await page.goto(`${baseUrl}/tools/compress${workers ? `?workers=${workers}` : ""}`);
  await page.getByLabel("Output format").selectOption(codec);
  await page.getByRole("slider", { name: /^Quality/ }).fill(String(QUALITY));
  await page.getByText(/^Ready: /).waitFor({ timeout: 60_000 });
  await page.getByLabel("Choose pictures for this tool").setInputFiles(files);
  const run = page.getByRole("button", { name: `Run on ${files.length} ${files.length === 1 ? "file" : "files"} on this device` });
  await run.waitFor();
  const started = performance.now();
  await run.click();
  await page.waitForFunction((n) => Array.from(document.querySelectorAll("[role=status]")).filter((e) => e.textContent === "Done").length === n, files.length, {
    timeout: 600_000,
    polling: 50,
  });
  const seconds = (performance.now() - started) / 1000;
  const failed = await page.getByRole("alert").allTextContents();
  if (failed.length > 0) throw new Error(`the page reported: ${failed.join("; ")}`);
  const [zip] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download all as ZIP" }).click()]);
  const outputs = unzipSync(new Uint8Array(await fs.readFile((await zip.path())!)));
  return { seconds, outputs };
}

async function sharpBytes(file: string, codec: Codec): Promise<number> {
  const image = sharp(file).rotate();
  const out = codec === "webp" ? await image.webp({ quality: QUALITY }).toBuffer() : await image.jpeg({ quality: QUALITY, mozjpeg: true }).toBuffer();
  return out.length;
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-browser-"));
  const server = await startTestServer();
  let browser: Browser | undefined;
  try {
    console.error(`Making ${PHOTOS} photos of ${WIDTH}×${HEIGHT}…`);
    const files: string[] = [];
    for (let i = 0; i < PHOTOS; i++) {
      const file = path.join(dir, `photo-${String(i + 1).padStart(2, "0")}.jpg`);
      await fs.writeFile(file, await photo(i + 1));
      files.push(file);
    }
    browser = await launchChromium();
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const rows: string[] = [];
    const summary: Record<string, unknown> = { photos: PHOTOS, megapixels: (WIDTH * HEIGHT) / 1e6, cores };
    for (const codec of ["webp", "jpeg"] as const) {
      const single = await runBatch(page, server.baseUrl, files, codec, 1);
      const pool = await runBatch(page, server.baseUrl, files, codec, null);
      let browserBytes = 0;
      let sharpTotal = 0;
      let worst = 0;
      for (const file of files) {
        const name = path.basename(file).replace(/\.jpg$/, codec === "webp" ? ".webp" : ".jpg");
        const ours = pool.outputs[name]?.length;
        if (!ours) throw new Error(`no ${name} in the ZIP`);
        const theirs = await sharpBytes(file, codec);
        browserBytes += ours;
        sharpTotal += theirs;
        worst = Math.max(worst, Math.abs(ours - theirs) / theirs);
      }
      const speedup = single.seconds / pool.seconds;
      const label = codec === "webp" ? `WebP q${QUALITY}` : `MozJPEG q${QUALITY}`;
      rows.push(
        `| ${label} | ${single.seconds.toFixed(1)} s | ${pool.seconds.toFixed(1)} s | ${(PHOTOS / pool.seconds).toFixed(2)} | ${speedup.toFixed(2)}× | ${(((browserBytes - sharpTotal) / sharpTotal) * 100).toFixed(2)}% | ${(worst * 100).toFixed(2)}% |`,
      );
      summary[codec] = { oneWorkerSeconds: single.seconds, poolSeconds: pool.seconds, speedup, browserBytes, sharpBytes: sharpTotal, worstFileDifference: worst };
    }
    console.log(`\n${PHOTOS} photos of ${WIDTH}×${HEIGHT} (${((WIDTH * HEIGHT) / 1e6).toFixed(1)} MP), headless Chromium, ${cores} cores: pool of ${cores} web workers against one.\n`);
    console.log("| codec | 1 web worker | pool | photos/s (pool) | speed-up | bytes vs sharp (total) | worst file |");
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    for (const row of rows) console.log(row);
    console.log(`\n${JSON.stringify(summary)}`);
  } finally {
    await browser?.close();
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
