/**
 * upscale and restore. Two parts:
 *
 * - `upscaleCases`, appended to CASES in bench/models.ts: the shared table (job API beside the model
 *   called directly, 1 and 2 model threads) for upscale fast 4x on a 1 MP photo, restore fast on
 *   12 MP and restore ai on 0.25 MP. These are slow: run them with few images, e.g.
 *   `BENCH_IMAGES=2 BENCH_CASES=upscale,restore-fast,restore-ai npm run bench:models`.
 * - run directly, `npx tsx bench/models-upscale.ts`: one 1 MP picture upscaled 4x with each model
 *   on 1 and then 2 model threads (seconds, speed-up, peak RSS; the tiles of one picture spread over
 *   the threads, so 2 threads should be at least 1.8x faster: run it with MODEL_COMPUTE_THREADS=1 so
 *   that ONNX Runtime holds each thread to one core), and /healthz latency (p50, p99) of
 *   a server running four upscales at once. BENCH_QUICK=1 checks it runs (128² input, fast model
 *   only); BENCH_MODELS=fast,balanced selects models (best takes minutes a picture); BENCH_ROUNDS
 *   rounds of 1 against 2 threads, taking turns (default 4).
 */
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import { Agent } from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { RESTORE_AI_MARGIN, RESTORE_AI_TILE, fastFilters } from "../src/tools/restore.js";
import { UPSCALE_MARGIN, UPSCALE_SIZES, UPSCALE_TILE } from "../src/tools/upscale.js";
import { runTiled } from "../src/tools/upscale-tiles.js";
import { MAXIM_DENOISE_MODEL, MAXIM_MULTIPLE } from "../src/models/maxim-models.js";
import { loadConfig } from "../src/config.js";
import { esrganModelName } from "../src/models/esrgan-models.js";
import { ModelThreads } from "../src/models/pool.js";
import type { UpscaleModel } from "../src/common/tools/upscale.js";
import { jobBody, post, waitForEnd } from "./job-client.js";
import type { ModelCase } from "./models.js";
import { startServer } from "./server-process.js";

const QUICK = process.env.BENCH_QUICK === "1";
/** rounds of 1 against 2 threads per model (BENCH_ROUNDS; best, at minutes a picture, gets one) */
const ROUNDS = QUICK ? 1 : Number(process.env.BENCH_ROUNDS ?? 4);

/** A photo-like picture: smooth shapes, texture and hard edges, so the models have detail to redraw. */
async function photo(width: number, height: number, noise = 0): Promise<Buffer> {
  const shapes = Array.from({ length: 40 }, (_, i) => {
    const x = (i * 7919) % width;
    const y = (i * 104729) % height;
    const r = 10 + ((i * 31) % Math.max(11, Math.round(Math.min(width, height) / 6)));
    return `<circle cx="${x}" cy="${y}" r="${r}" fill="hsl(${(i * 47) % 360},60%,${35 + (i % 5) * 9}%)"/>`;
  }).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#8aa"/>${shapes}</svg>`;
  let image = sharp(Buffer.from(svg)).blur(0.8);
  if (noise > 0) {
    const grain = await sharp({ create: { width, height, channels: 3, background: "#000", noise: { type: "gaussian", mean: 128, sigma: noise } } }).png().toBuffer();
    image = sharp(await image.png().toBuffer()).composite([{ input: grain, blend: "overlay" }]);
  }
  return image.jpeg({ quality: 92 }).toBuffer();
}

/** RGB bytes with the size in front (the shared harness hands `direct.call` one Uint8Array). */
async function framedRgb(bytes: Uint8Array): Promise<Uint8Array> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(8 + data.length);
  new DataView(out.buffer).setUint32(0, info.width);
  new DataView(out.buffer).setUint32(4, info.height);
  out.set(data, 8);
  return out;
}

function unframe(framed: Uint8Array) {
  const view = new DataView(framed.buffer, framed.byteOffset);
  return { data: framed.slice(8), width: view.getUint32(0), height: view.getUint32(4) };
}

const side = { upscale: QUICK ? 128 : 1000, restoreFast: (QUICK ? [1000, 750] : [4000, 3000]) as [number, number], restoreAi: QUICK ? 64 : 500 };

export const upscaleCases: ModelCase[] = [
  {
    name: "upscale",
    tool: "upscale",
    params: { scale: 4, model: "fast" },
    makeInput: async () => ({ bytes: await photo(side.upscale, side.upscale), name: "photo.jpg" }),
    direct: {
      prepare: ({ bytes }) => framedRgb(bytes),
      call: (models, framed) =>
        runTiled(unframe(framed), { models, model: esrganModelName("slim", 4), scale: 4, tile: UPSCALE_TILE, margin: UPSCALE_MARGIN, concurrency: 1, timeoutMs: 600_000 }),
    },
  },
  {
    name: "restore-fast",
    tool: "restore",
    params: { mode: "fast" },
    makeInput: async () => ({ bytes: await photo(side.restoreFast[0], side.restoreFast[1], 30), name: "noisy.jpg" }),
    direct: {
      // No model: the filters alone, in libvips.
      prepare: async ({ bytes }) => new Uint8Array(bytes),
      call: (_models, jpeg) => fastFilters(sharp(jpeg), { denoise: "light", normalise: false, sharpen: true }, { width: side.restoreFast[0], height: side.restoreFast[1] }).jpeg().toBuffer(),
    },
  },
  {
    name: "restore-ai",
    tool: "restore",
    params: { mode: "ai" },
    makeInput: async () => ({ bytes: await photo(side.restoreAi, side.restoreAi, 30), name: "noisy.jpg" }),
    direct: {
      prepare: ({ bytes }) => framedRgb(bytes),
      call: (models, framed) =>
        runTiled(unframe(framed), {
          models,
          model: MAXIM_DENOISE_MODEL,
          scale: 1,
          tile: RESTORE_AI_TILE,
          margin: RESTORE_AI_MARGIN,
          align: MAXIM_MULTIPLE,
          concurrency: 1,
          timeoutMs: 30 * 60_000,
        }),
    },
  },
];

// ---- run directly: one picture over 1 and 2 threads, and the server's responsiveness ----

function rssMiB(): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);
  return kb / 1024;
}

/** Seconds for one picture upscaled 4x with `threads` threads (models loaded first), and the peak RSS seen. */
async function onePicture(model: UpscaleModel, threads: number, rgb: { data: Uint8Array; width: number; height: number }) {
  // ONNX Runtime threads per model thread as the server would set them (MODEL_COMPUTE_THREADS=1
  // holds each model thread to one core, which is how 1 against 2 threads compares threads).
  const models = new ModelThreads(threads, { computeThreads: loadConfig({ ...process.env, MODEL_WORKERS: String(threads) }).modelComputeThreads });
  const name = esrganModelName(UPSCALE_SIZES[model], 4);
  // A whole tile, so that each thread's memory arena has grown to a tile's working set.
  const side = UPSCALE_TILE + 2 * UPSCALE_MARGIN;
  const warm = { data: new Uint8Array(side * side * 3), width: side, height: side };
  await Promise.all(Array.from({ length: threads }, () => models.run(name, { ...warm, data: warm.data.slice() }, { timeoutMs: 120_000 })));
  let peak = rssMiB();
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 100);
  const started = performance.now();
  await runTiled(rgb, { models, model: name, scale: 4, tile: UPSCALE_TILE, margin: UPSCALE_MARGIN, concurrency: threads, timeoutMs: 3_600_000 });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await models.close();
  return { seconds, peakMiB: Math.max(peak, rssMiB()) };
}

/**
 * /healthz of a server process (as `npm start` runs it, its own event loop) while `jobs` upscales
 * run at once on its two model threads; the jobs are followed by their events, the probes sent
 * back to back with a 20 ms pause.
 */
async function healthUnderLoad(jobs: number, bytes: Buffer): Promise<{ p50: number; p99: number; max: number; seconds: number }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-health-"));
  const server = await startServer({ dataDir, stdio: "ignore", env: { MODEL_WORKERS: "2", TOOL_CONCURRENCY: String(jobs) } });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  try {
    const body = jobBody("upscale", { scale: 4, model: "fast" }, { name: "photo.jpg", bytes });
    const started = performance.now();
    let running = true;
    const all = Promise.all(
      Array.from({ length: jobs }, async () => {
        const job = await waitForEnd(agent, server.port, (await post(agent, server.port, body)).jobs[0]!.id);
        if (job.status !== "succeeded") throw new Error(`upscale job ${job.status}: ${job.error?.message ?? ""}`);
      }),
    ).finally(() => (running = false));
    const latencies: number[] = [];
    while (running) {
      const t = performance.now();
      const health = await fetch(`${server.base}/healthz`);
      await health.arrayBuffer();
      latencies.push(performance.now() - t);
      if (!health.ok) throw new Error(`/healthz answered ${health.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await all;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    return { p50: at(0.5), p99: at(0.99), max: latencies.at(-1)!, seconds: (performance.now() - started) / 1000 };
  } finally {
    agent.destroy();
    await server.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const models = (process.env.BENCH_MODELS?.split(",") ?? (QUICK ? ["fast"] : ["fast", "balanced", "best"])) as UpscaleModel[];
  const input = await photo(side.upscale, side.upscale);
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgb = { data: new Uint8Array(data), width: info.width, height: info.height };
  console.log(`# upscale 4x, one ${info.width}×${info.height} picture${QUICK ? " (quick mode)" : ""}\n`);
  // 1 and 2 threads take turns (1 2, then 2 1, ...), so a machine drifting slower or faster
  // weighs on both alike; the speed-up is that of the summed times, each round's in brackets.
  console.log(`| model | 1 thread | 2 threads | speed-up (${ROUNDS} rounds) | peak RSS (2 threads) |`);
  console.log("| --- | --- | --- | --- | --- |");
  for (const model of models) {
    const rounds: Array<{ one: number; two: number }> = [];
    let peakMiB = 0;
    for (let round = 0; round < (model === "best" ? 1 : ROUNDS); round++) {
      const measured: Record<number, number> = {};
      for (const threads of round % 2 === 0 ? [1, 2] : [2, 1]) {
        const run = await onePicture(model, threads, rgb);
        measured[threads] = run.seconds;
        if (threads === 2) peakMiB = Math.max(peakMiB, run.peakMiB);
      }
      rounds.push({ one: measured[1]!, two: measured[2]! });
    }
    const one = rounds.reduce((sum, r) => sum + r.one, 0) / rounds.length;
    const two = rounds.reduce((sum, r) => sum + r.two, 0) / rounds.length;
    const each = rounds.map((r) => (r.one / r.two).toFixed(2)).join(", ");
    console.log(`| ${model} | ${one.toFixed(1)} s | ${two.toFixed(1)} s | ${(one / two).toFixed(2)}x (${each}) | ${peakMiB.toFixed(0)} MiB |`);
  }
  const health = await healthUnderLoad(4, input);
  console.log(`\n/healthz while 4 upscales (fast, 4x) run on 2 model threads: p50 ${health.p50.toFixed(1)} ms, p99 ${health.p99.toFixed(1)} ms, max ${health.max.toFixed(1)} ms; all four done in ${health.seconds.toFixed(1)} s`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
