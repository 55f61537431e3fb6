/**
 * Upload path benchmark: a 12-megapixel JPEG carrying EXIF, XMP, IPTC and a comment, uploaded over
 * HTTP to a real Pixhaven process at concurrency 1, 2 and 4; beside it, in this process, raw sharp
 * doing the work a host must do at minimum (decode for the thumbnail), and the strip-by-re-encode
 * that most hosts do. Prints uploads/s, p50/p99 latency and peak RSS as a Markdown table.
 *
 *   npm run bench:upload            (builds first; BENCH_UPLOADS=n per level, default 24)
 */
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { freePort } from "../test/helpers/server.js";
import { addJpegMetadata } from "../test/fixtures/metadata.js";

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 24);
const LEVELS = [1, 2, 4];

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
}

async function makePhoto(): Promise<Uint8Array> {
  // Blurred noise compresses like a detailed photo (several MB at quality 90), unlike a flat fill.
  const noise = await sharp({ create: { width: 4000, height: 3000, channels: 3, noise: { type: "gaussian", mean: 128, sigma: 60 } } })
    .blur(1.5)
    .jpeg({ quality: 90 })
    .toBuffer();
  return addJpegMetadata(noise, 1);
}

async function measure(concurrency: number, task: () => Promise<void>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < UPLOADS) {
        const t0 = performance.now();
        await task();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { perSecond: UPLOADS / seconds, p50: at(0.5), p99: at(0.99) };
}

const thumbnailOnly = (photo: Uint8Array) => async () => {
  await sharp(photo).rotate().resize(400, 400, { fit: "inside" }).webp({ quality: 75 }).toBuffer();
};
const reencodeAndThumbnail = (photo: Uint8Array) => async () => {
  const stripped = await sharp(photo).rotate().keepIccProfile().jpeg({ quality: 92 }).toBuffer();
  await sharp(stripped).resize(400, 400, { fit: "inside" }).webp({ quality: 75 }).toBuffer();
};

const BOUNDARY = "pixhaven-bench-boundary";

function postMultipart(agent: Agent, port: number, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/api/v1/images", method: "POST", agent, headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, "content-length": body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => (res.statusCode === 201 ? resolve() : reject(new Error(`upload answered ${res.statusCode}: ${Buffer.concat(chunks)}`))));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function startServer(dataDir: string, port: number) {
  const main = path.join(import.meta.dirname, "..", "dist", "src", "main.js");
  const child = spawn(process.execPath, [main, "serve"], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "warn", UPLOAD_RATE_LIMIT: "off" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error("server did not start");
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function main() {
  const photo = await makePhoto();
  const meta = await sharp(photo).metadata();
  console.log(`input: ${meta.width}×${meta.height} JPEG, ${(photo.length / 1e6).toFixed(2)} MB with EXIF/XMP/IPTC; ${UPLOADS} uploads per level; ${os.availableParallelism()} cores, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}\n`);

  const baseline = new Map<number, [Run, Run]>();
  for (const c of LEVELS) baseline.set(c, [await measure(c, thumbnailOnly(photo)), await measure(c, reencodeAndThumbnail(photo))]);
  const baselineRss = process.resourceUsage().maxRSS / 1024;

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-"));
  const port = await freePort();
  const server = await startServer(dataDir, port);
  const http = new Map<number, Run>();
  // The body is encoded once, so the figures measure the server rather than a client's encoder.
  const body = Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="IMG_0001.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`),
    photo,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const healthLatencies: number[] = [];
  let probing = true;
  // An event loop blocked by image work would show here as slow health checks.
  const probe = (async () => {
    while (probing) {
      const t0 = performance.now();
      await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.arrayBuffer());
      healthLatencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    for (const c of LEVELS) {
      http.set(
        c,
        await measure(c, () => postMultipart(agent, port, body)),
      );
    }
  } finally {
    probing = false;
    await probe;
    var serverRss = peakRssMb(server.pid!);
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    await fs.rm(dataDir, { recursive: true, force: true });
  }

  const f = (n: number) => n.toFixed(2);
  const ms = (n: number) => `${Math.round(n)} ms`;
  console.log("| concurrency | Pixhaven HTTP uploads/s | p50 | p99 | raw sharp thumbnail only /s | HTTP ÷ thumbnail only | raw sharp re-encode + thumbnail /s | HTTP ÷ re-encode |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const c of LEVELS) {
    const h = http.get(c)!;
    const [thumb, reenc] = baseline.get(c)!;
    console.log(`| ${c} | ${f(h.perSecond)} | ${ms(h.p50)} | ${ms(h.p99)} | ${f(thumb.perSecond)} | ${Math.round((100 * h.perSecond) / thumb.perSecond)}% | ${f(reenc.perSecond)} | ${Math.round((100 * h.perSecond) / reenc.perSecond)}% |`);
  }
  healthLatencies.sort((a, b) => a - b);
  const q = (p: number) => healthLatencies[Math.floor(p * (healthLatencies.length - 1))]!;
  console.log(`\n/healthz during the uploads: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${q(1).toFixed(1)} ms (${healthLatencies.length} probes)`);
  console.log(`peak RSS: Pixhaven server ${Math.round(serverRss)} MB; this process (raw sharp baseline + HTTP client) ${Math.round(baselineRss)} MB`);
}

await main();
