/**
 * Memory under hostile files: the whole hostile corpus (test/fixtures/hostile.ts, with the heavy,
 * legal-but-expensive files) uploaded to a real `pixhaven serve` process at its default settings,
 * BENCH_ROUNDS times, by BENCH_CLIENTS clients at once (more than the server's upload
 * concurrency, so its queue stays full). Prints the server's peak RSS, /healthz latency during the
 * run, and, beside it in this process, the peak RSS of plain sharp making the same thumbnails with
 * its own default limits (what a host that trusts sharp's defaults would go through). Then, on a
 * fresh server, three 12 MP HEIC photos at once (phones' format, decoded by libheif in
 * WebAssembly: the heaviest legal upload per pixel), when Debian's heif-enc is there to make them.
 *
 *   npm run bench:hostile        (BENCH_HEIC=0 skips the HEIC part; BENCH_HEIC=only runs just it)
 */
import fs from "node:fs/promises";
import { execFile } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { hostileCorpus } from "../test/fixtures/hostile.js";
import { probeHealth } from "./measure.js";
import { startServer } from "./server-process.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);

async function main() {
  if (process.env.BENCH_HEIC === "only") return heicAtOnce(3);
  const corpus = await hostileCorpus({ heavy: true });
  console.log(`${corpus.length} hostile files, ${ROUNDS} rounds, ${CLIENTS} clients; ${os.availableParallelism()} cores, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}\n`);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-"));
  const server = await startServer({ dataDir });
  const port = server.port;
  const statuses = new Map<string, number>();
  const probe = probeHealth(port);
  const health = probe.latencies;
  const queue = Array.from({ length: ROUNDS }, () => corpus).flat();
  const started = performance.now();
  let serverRss = 0;
  try {
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let item = queue.shift(); item; item = queue.shift()) {
          const form = new FormData();
          form.append("file", new Blob([item.bytes as Uint8Array<ArrayBuffer>]), item.filename);
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/images`, { method: "POST", body: form });
          await res.arrayBuffer();
          statuses.set(`${res.status}`, (statuses.get(`${res.status}`) ?? 0) + 1);
          if (res.status >= 500) console.error(`5xx on ${item.name}`);
        }
      }),
    );
  } finally {
    await probe.stop();
    serverRss = server.peakRssMb();
    await server.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  health.sort((a, b) => a - b);
  const q = (p: number) => health[Math.floor(p * (health.length - 1))]!.toFixed(1);
  console.log(`answers: ${[...statuses].map(([s, n]) => `${n}× ${s}`).join(", ")} in ${seconds.toFixed(1)} s`);
  console.log(`Pixhaven server peak RSS: ${Math.round(serverRss)} MB (DECODE_MEMORY ${process.env.DECODE_MEMORY ?? "default"}, UPLOAD_CONCURRENCY ${process.env.UPLOAD_CONCURRENCY ?? os.availableParallelism()})`);
  console.log(`/healthz during the run: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms (${health.length} probes)`);

  // Baseline: plain sharp with its defaults (268 MP input limit, animation as sharp reads it), the
  // same files, the same number at once, in this process.
  const baselineStart = process.resourceUsage().maxRSS / 1024;
  const files = corpus.slice();
  let refused = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let item = files.shift(); item; item = files.shift()) {
        await Promise.resolve()
          .then(() => sharp(item.bytes, { animated: true }).rotate().resize(400, 400, { fit: "inside" }).webp().toBuffer())
          .catch(() => refused++);
      }
    }),
  );
  console.log(`plain sharp (defaults) on the same files: peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB (${Math.round(baselineStart)} MB before), ${refused} files refused`);
  if (process.env.BENCH_HEIC !== "0") await heicAtOnce(3);
}

/** `count` 12 MP HEIC photos uploaded at once, twice over, to a fresh server: its peak RSS. */
async function heicAtOnce(count: number): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-heic-"));
  try {
    const png = path.join(work, "photo.png");
    await sharp({ create: { width: 4032, height: 3024, channels: 3, background: "#000", noise: { type: "gaussian", mean: 128, sigma: 50 } } }).blur(1.2).png().toFile(png);
    const heic = path.join(work, "photo.heic");
    try {
      await promisify(execFile)("heif-enc", ["-q", "80", "--no-alpha", "-o", heic, png]);
    } catch {
      console.log("\nHEIC: skipped (heif-enc not found; Debian: apt-get install libheif-examples)");
      return;
    }
    const bytes = await fs.readFile(heic);
    const server = await startServer({ dataDir: path.join(work, "data") });
    const statuses: number[] = [];
    let seconds = 0;
    let peak = 0;
    try {
      const started = performance.now();
      for (let round = 0; round < 2; round++) {
        await Promise.all(
          Array.from({ length: count }, async () => {
            const form = new FormData();
            form.append("file", new Blob([bytes]), "IMG_0001.HEIC");
            const res = await fetch(`${server.base}/api/v1/images`, { method: "POST", body: form });
            await res.arrayBuffer();
            statuses.push(res.status);
          }),
        );
      }
      seconds = (performance.now() - started) / 1000;
      peak = server.peakRssMb();
    } finally {
      await server.stop();
    }
    console.log(`\nHEIC: ${count} photos of 4032×3024 (${(bytes.length / 1e6).toFixed(1)} MB) at once, twice: answers ${statuses.join(", ")} in ${seconds.toFixed(1)} s; server peak RSS ${Math.round(peak)} MB`);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
