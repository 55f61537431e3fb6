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
 *
 * For a look on a busy machine, fewer or smaller photos and one codec, in one run:
 *   BENCH_PHOTOS=4 BENCH_WIDTH=2016 BENCH_CODECS=jpeg npm run bench:browser
 * (BENCH_WIDTH sets the width, the height keeps 4:3; BENCH_CODECS is webp, jpeg or both, comma-separated.)
 */
import { readFileSync, readdirSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import { launchChromium } from "../test/helpers/browser.js";
import { startTestServer } from "../test/helpers/server.js";

const QUICK = process.env.BENCH_QUICK === "1";
const PHOTOS = positive(process.env.BENCH_PHOTOS) ?? (QUICK ? 2 : 12);
const WIDTH = positive(process.env.BENCH_WIDTH) ?? 4032;
const HEIGHT = Math.round((WIDTH * 3) / 4);
const CODECS = (process.env.BENCH_CODECS ?? "webp,jpeg").split(",").map((c) => c.trim());
for (const c of CODECS) if (c !== "webp" && c !== "jpeg") throw new Error(`BENCH_CODECS: ${c} is neither webp nor jpeg`);
const QUALITY = 75;

type Codec = "webp" | "jpeg";

function positive(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive whole number, got ${value}`);
  return n;
}

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

/**
 * What else the machine did during a batch (Linux, from /proc): the CPU other processes took, and how
 * long the web workers' threads were ready to run but waited for a core. A pool can only be as fast
 * as the cores it gets: with another job busy on the same cores the speed-up reads low, and these
 * figures say by how much the run was disturbed.
 */
interface Load {
  /** CPU seconds the whole machine spent busy, and what this benchmark's processes (Chromium included) took of it */
  busy: number;
  ours: number;
  /** per web worker thread: seconds on a core, seconds waiting for one */
  workers: Map<string, { run: number; wait: number }>;
}

const TICKS = 100; // USER_HZ on Linux

function readLoad(): Load | null {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const busy = (cpu.reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!) / TICKS;
    const parents = new Map<number, number>();
    const times = new Map<number, number>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        parents.set(Number(entry), Number(fields[1]));
        times.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICKS);
      } catch {
        // gone meanwhile
      }
    }
    const isOurs = (pid: number): boolean => {
      for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parents.get(p), hops++) if (p === process.pid) return true;
      return false;
    };
    let ours = 0;
    const workers = new Map<string, { run: number; wait: number }>();
    for (const [pid, time] of times) {
      if (!isOurs(pid)) continue;
      ours += time;
      if (pid === process.pid) continue;
      try {
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
          if (!readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").startsWith("DedicatedWorker")) continue;
          const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").trim().split(" ").map(Number);
          workers.set(`${pid}/${tid}`, { run: run! / 1e9, wait: wait! / 1e9 });
        }
      } catch {
        // gone meanwhile
      }
    }
    return { busy, ours, workers };
  } catch {
    return null;
  }
}

interface Disturbance {
  /** cores other processes kept busy, on average */
  otherCores: number;
  /** share of their time the web workers were ready to run but waited for a core */
  workerWait: number;
  /**
   * The batch without that wait: the web worker that finished last, its wait taken away. An
   * estimate of a quiet machine, where Chromium's own threads still share the cores.
   */
  withoutWaitSeconds: number;
  /** CPU seconds this benchmark's processes took (Chromium, all its threads, and this one), and the web workers' share */
  ourCpuSeconds: number;
  workerCpuSeconds: number;
}

function disturbance(before: Load | null, after: Load | null, seconds: number): Disturbance | null {
  if (!before || !after) return null;
  const otherCores = Math.max(0, after.busy - before.busy - (after.ours - before.ours)) / seconds;
  let run = 0;
  let wait = 0;
  let withoutWaitSeconds = 0;
  for (const [thread, now] of after.workers) {
    const then = before.workers.get(thread) ?? { run: 0, wait: 0 };
    if (now.run - then.run < 0.05) continue; // a web worker that did not take part
    run += now.run - then.run;
    wait += now.wait - then.wait;
    withoutWaitSeconds = Math.max(withoutWaitSeconds, seconds - (now.wait - then.wait));
  }
  return { otherCores, workerWait: run + wait > 0 ? wait / (run + wait) : 0, withoutWaitSeconds, ourCpuSeconds: after.ours - before.ours, workerCpuSeconds: run };
}

interface Batch {
  seconds: number;
  outputs: Record<string, Uint8Array>;
  load: Disturbance | null;
}

async function runBatch(page: Page, baseUrl: string, files: string[], codec: Codec, workers: number | null): Promise<Batch> {
  await page.goto(`${baseUrl}/tools/compress${workers ? `?workers=${workers}` : ""}`);
  await page.getByLabel("Output format").selectOption(codec);
  await page.getByRole("slider", { name: /^Quality/ }).fill(String(QUALITY));
  await page.getByText(/^Ready: /).waitFor({ timeout: 60_000 });
  await page.getByLabel("Choose pictures for this tool").setInputFiles(files);
  const run = page.getByRole("button", { name: `Run on ${files.length} ${files.length === 1 ? "file" : "files"} on this device` });
  await run.waitFor();
  const before = readLoad();
  const started = performance.now();
  await run.click();
  await page.waitForFunction((n) => Array.from(document.querySelectorAll("[role=status]")).filter((e) => e.textContent === "Done").length === n, files.length, {
    timeout: 600_000,
    polling: 50,
  });
  const seconds = (performance.now() - started) / 1000;
  const load = disturbance(before, readLoad(), seconds);
  const failed = await page.getByRole("alert").allTextContents();
  if (failed.length > 0) throw new Error(`the page reported: ${failed.join("; ")}`);
  const [zip] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download all as ZIP" }).click()]);
  const outputs = unzipSync(new Uint8Array(await fs.readFile((await zip.path())!)));
  return { seconds, outputs, load };
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
    const estimates: string[] = [];
    let loaded = false;
    const summary: Record<string, unknown> = { photos: PHOTOS, megapixels: (WIDTH * HEIGHT) / 1e6, cores };
    for (const codec of CODECS as Codec[]) {
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
      const disturbed = (b: Batch) => (b.load ? `${b.load.otherCores.toFixed(2)} cores, ${(b.load.workerWait * 100).toFixed(0)}%` : "n/a");
      rows.push(
        `| ${label} | ${single.seconds.toFixed(1)} s | ${pool.seconds.toFixed(1)} s | ${(PHOTOS / pool.seconds).toFixed(2)} | ${speedup.toFixed(2)}× | ${(((browserBytes - sharpTotal) / sharpTotal) * 100).toFixed(2)}% | ${(worst * 100).toFixed(2)}% | ${disturbed(single)} / ${disturbed(pool)} |`,
      );
      if ([single, pool].some((b) => b.load && (b.load.otherCores > 0.1 || b.load.workerWait > 0.1))) loaded = true;
      if (single.load && pool.load) {
        const [a, b] = [single.load.withoutWaitSeconds, pool.load.withoutWaitSeconds];
        estimates.push(
          `${label} without the web workers' wait for a core (an estimate): ${a.toFixed(1)} s against ${b.toFixed(1)} s, ${(a / b).toFixed(2)}×; ` +
            `CPU of the batch (Chromium and this process): ${single.load.ourCpuSeconds.toFixed(1)} s with one web worker, ${pool.load.ourCpuSeconds.toFixed(1)} s with the pool.`,
        );
      }
      summary[codec] = {
        oneWorkerSeconds: single.seconds,
        poolSeconds: pool.seconds,
        speedup,
        browserBytes,
        sharpBytes: sharpTotal,
        worstFileDifference: worst,
        oneWorkerLoad: single.load,
        poolLoad: pool.load,
      };
    }
    console.log(`\n${PHOTOS} photos of ${WIDTH}×${HEIGHT} (${((WIDTH * HEIGHT) / 1e6).toFixed(1)} MP), headless Chromium, ${cores} cores: pool of ${cores} web workers against one.\n`);
    console.log("| codec | 1 web worker | pool | photos/s (pool) | speed-up | bytes vs sharp (total) | worst file | other processes; workers waiting for a core (1 / pool) |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const row of rows) console.log(row);
    if (loaded) {
      console.log(
        "\nOther processes kept the cores busy during this run: the web workers waited for a core instead of working, " +
          "so the times are longer and the speed-up lower than on a quiet machine. Run it again with nothing else running for figures to publish.",
      );
      for (const line of estimates) console.log(line);
    }
    console.log(`\n${JSON.stringify(summary)}`);
  } finally {
    await browser?.close();
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
