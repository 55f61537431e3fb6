/**
 * Memory under hostile files: the whole hostile corpus (test/fixtures/hostile.ts, with the heavy,
 * legal-but-expensive files) uploaded to a real `pixhaven serve` process at its default settings,
 * BENCH_ROUNDS times, by BENCH_CLIENTS clients at once (more than the server's upload
 * concurrency, so its queue stays full). Prints the server's peak RSS, /healthz latency during the
 * run, and, beside it in this process, the peak RSS of plain sharp making the same thumbnails with
 * its own default limits (what a host that trusts sharp's defaults would go through).
 *
 *   npm run bench:hostile
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { hostileCorpus } from "../test/fixtures/hostile.js";
import { startServer } from "./server-process.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);

async function main() {
  const corpus = await hostileCorpus({ heavy: true });
  console.log(`${corpus.length} hostile files, ${ROUNDS} rounds, ${CLIENTS} clients; ${os.availableParallelism()} cores, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}\n`);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-"));
  const server = await startServer({ dataDir });
  const port = server.port;
  const statuses = new Map<string, number>();
  const health: number[] = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const t0 = performance.now();
      await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.arrayBuffer());
      health.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
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
    probing = false;
    await probe;
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
}

await main();
