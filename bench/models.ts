/**
 * AI model benchmark. For each case (a tool and the model behind it), with 1 and then 2 model
 * threads: images per second and the server's peak RSS through the job API of a real Pixhaven
 * process (upload, queue, run, then the job's events until it ends: what a client sees), beside
 * the same tool run in a process of its own through the ToolRunner the CLI builds, with the
 * server's allocator settings (decoding,
 * pre- and post-processing included, no HTTP, no queue: the job system's overhead is the gap
 * between these two, target ≤ 10%; the two take turns in rounds, so a machine's drift weighs on
 * both alike), and the model alone called in a loop (ModelThreads.run on
 * pixels prepared beforehand). Every column loads the model once per thread before the clock
 * starts (one warm-up image per thread).
 *
 *   npm run bench:models            (builds first; BENCH_IMAGES=n per measurement, default 16)
 *   BENCH_QUICK=1 npx tsx bench/models.ts   (2 images, 1 thread: checks that it runs)
 *   BENCH_CASES=nsfw,ocr ...        (only these cases)
 *   BENCH_JOBS_AT_ONCE=n ...         (jobs run at once by the server, TOOL_CONCURRENCY, and by the
 *                                     in-process runner; default: as many as model threads)
 *   MODEL_COMPUTE_THREADS=1 ...      (ONNX Runtime on one core per model thread in every column, so
 *                                     that 1 against 2 threads measures the threads alone; by
 *                                     default one thread gets both cores)
 *
 * Adding a section: append a ModelCase to CASES below (a tool name and params, an input maker, and
 * the direct call of its model), nothing else.
 */
import { spawn } from "node:child_process";
import { Agent } from "node:http";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { NSFW_INPUT_SIZE, classifyNsfw } from "../src/models/nsfw.js";
import { recogniseText } from "../src/models/ocr.js";
import { ModelThreads } from "../src/models/pool.js";
import { openLocalRunner } from "../src/cli/local-runner.js";
import { loadConfig } from "../src/config.js";
import { jobBody, post, waitForBatch } from "./job-client.js";
import { measure } from "./measure.js";
import { SERVER_MALLOC_ENV, SERVER_NODE_FLAGS, startServer } from "./server-process.js";
import { removeBackgroundCase } from "./models-remove-background.js";
import { upscaleCases } from "./models-upscale.js";
import { addJpegMetadata } from "../test/fixtures/metadata.js";

interface BenchInput {
  bytes: Uint8Array;
  name: string;
}

export interface ModelCase {
  /** section name, also what BENCH_CASES selects */
  name: string;
  /** the tool the job API runs, and its params */
  tool: string;
  params: Record<string, unknown>;
  /** one input file, made here (no fixtures on disk) */
  makeInput(): Promise<BenchInput>;
  /**
   * The model alone: what the direct column calls in a loop, on the same input. `prepare` runs
   * once, outside the clock (decoding, resizing: the main thread's share of the tool); `call`
   * runs the model once on a fresh copy of what `prepare` made.
   */
  direct: {
    prepare(input: BenchInput): Promise<Uint8Array>;
    call(models: ModelThreads, prepared: Uint8Array): Promise<unknown>;
  };
}

async function textImage(lines: string[]): Promise<Buffer> {
  const text = lines.map((line, i) => `<text x="24" y="${60 + i * 48}" font-family="DejaVu Sans, sans-serif" font-size="30">${line}</text>`).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="${40 + lines.length * 48}"><rect width="100%" height="100%" fill="#fff"/>${text}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function photo(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: "#000", noise: { type: "gaussian", mean: 128, sigma: 50 } } })
    .blur(2)
    .jpeg({ quality: 88 })
    .toBuffer();
}

/** What a phone sends: 12 MP, with EXIF, XMP and IPTC, stored sideways with orientation 6. */
async function phonePhoto(): Promise<Uint8Array> {
  return addJpegMetadata(await photo(4032, 3024), 6);
}

/** NSFW's model input, made as the tool makes it (upright, squashed to 224², RGB). */
async function nsfwPrepared(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(bytes).rotate().resize(NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, { fit: "fill" }).removeAlpha().raw().toBuffer());
}

export const CASES: ModelCase[] = [
  {
    name: "nsfw",
    tool: "nsfw",
    params: {},
    makeInput: async () => ({ bytes: await photo(1600, 1200), name: "photo.jpg" }),
    direct: {
      prepare: ({ bytes }) => nsfwPrepared(bytes),
      call: (models, pixels) => classifyNsfw(models, pixels.slice(), 60_000),
    },
  },
  {
    name: "nsfw-phone",
    tool: "nsfw",
    params: {},
    makeInput: async () => ({ bytes: await phonePhoto(), name: "IMG_0001.jpg" }),
    direct: {
      prepare: ({ bytes }) => nsfwPrepared(bytes),
      call: (models, pixels) => classifyNsfw(models, pixels.slice(), 60_000),
    },
  },
  {
    name: "ocr",
    tool: "ocr",
    params: { languages: ["eng"], textFile: false },
    makeInput: async () => ({
      bytes: await textImage([
        "Pixhaven keeps your pictures private.",
        "Every hosted image is stripped of its metadata,",
        "classified, and served from your own server.",
        "Tools run in the browser or on this server.",
        "Files sent to a server tool are deleted soon.",
      ]),
      name: "page.png",
    }),
    direct: {
      prepare: async ({ bytes }) => new Uint8Array(await sharp(bytes).greyscale().png({ compressionLevel: 1 }).toBuffer()),
      call: (models, png) => recogniseText(models, png.slice(), ["eng"], 120_000),
    },
  },
  removeBackgroundCase,
  // upscale (fast 4x on 1 MP), restore-fast (12 MP), restore-ai (0.25 MP); more in bench/models-upscale.ts run directly
  ...upscaleCases,
  // More sections: { name: "upscale", tool: "upscale", params: {...}, makeInput, direct } ...
];

const QUICK = process.env.BENCH_QUICK === "1";
const IMAGES = QUICK ? 2 : Number(process.env.BENCH_IMAGES ?? 16);
const THREADS = QUICK ? [1] : [1, 2];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Measured {
  perSecond: number;
  msPerImage: number;
  peakRssMiB: number;
}

/** Jobs run at once, by the server (TOOL_CONCURRENCY) and by the in-process runner alike. */
const jobsAtOnce = (threads: number) => (process.env.BENCH_JOBS_AT_ONCE ? Number(process.env.BENCH_JOBS_AT_ONCE) : threads);

/** Runs `task` `count` times (IMAGES by default), `concurrency` at a time. */
async function timed(concurrency: number, task: () => Promise<void>, count = IMAGES): Promise<{ perSecond: number; msPerImage: number; ms: number }> {
  const { perSecond } = await measure(count, concurrency, task);
  const ms = (count * 1000) / perSecond;
  return { perSecond, msPerImage: ms / count, ms };
}

/** The job API and the in-process runner take turns, so a machine that drifts slower or faster
 * (a shared one does) weighs on both columns alike. */
const ROUNDS = QUICK ? 1 : 4;

/** Peak resident memory of a process (Linux: VmHWM), in MiB. */
function peakRss(pid: number | "self"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

// ---- the direct column: a child process of this script, so its peak memory is its own ----

async function directChild(caseName: string, threads: number): Promise<void> {
  const c = CASES.find((x) => x.name === caseName)!;
  const prepared = await c.direct.prepare(await c.makeInput());
  const models = new ModelThreads(threads, { computeThreads: loadConfig({ ...process.env, MODEL_WORKERS: String(threads) }).modelComputeThreads });
  await Promise.all(Array.from({ length: threads }, () => c.direct.call(models, prepared))); // load the model in each thread
  const run = await timed(threads, async () => void (await c.direct.call(models, prepared)));
  const result: Measured = { ...run, peakRssMiB: peakRss("self") };
  await models.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * The tool itself, as the CLI runs it: same runner, limits and model threads; no HTTP, no queue.
 * Stays up between rounds: `{ run: n }` runs n images and answers `{ ms }`; `{ stop: true }`
 * answers its peak RSS and ends.
 */
async function localChild(caseName: string, threads: number): Promise<void> {
  const c = CASES.find((x) => x.name === caseName)!;
  const input = await c.makeInput();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-models-local-"));
  const file = path.join(work, input.name);
  await fs.writeFile(file, input.bytes);
  const local = openLocalRunner(loadConfig({ ...process.env, LOG_LEVEL: "silent", MODEL_WORKERS: String(threads) }), threads);
  const once = async () => {
    const outputDir = await fs.mkdtemp(path.join(work, "out-"));
    await local.runner.run({ tool: c.tool, input: { path: file, name: input.name }, params: c.params, outputDir });
    await fs.rm(outputDir, { recursive: true, force: true });
  };
  await Promise.all(Array.from({ length: threads }, once)); // load the model in each thread
  process.send!({ ready: true });
  process.on("message", (message: { run?: number; stop?: boolean }) => {
    if (message.run) void timed(jobsAtOnce(threads), once, message.run).then(({ ms }) => process.send!({ ms }));
    if (message.stop) {
      void local
        .close()
        .then(() => fs.rm(work, { recursive: true, force: true }))
        .then(() => process.send!({ peakRssMiB: peakRss("self") }, () => process.exit(0)));
    }
  });
}

/** The local runner's process, driven over IPC. */
async function startLocal(caseName: string, threads: number) {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, "--import", "tsx", fileURLToPath(import.meta.url), "--local", caseName, String(threads)], {
    cwd: root,
    env: { ...SERVER_MALLOC_ENV, ...process.env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = () =>
    new Promise<Record<string, number | boolean>>((resolve, reject) => {
      child.once("message", resolve);
      child.once("exit", (code) => reject(new Error(`the in-process runner exited with ${code}`)));
    });
  await next();
  return {
    async run(count: number): Promise<number> {
      child.send({ run: count });
      return (await next()).ms as number;
    },
    async stop(): Promise<number> {
      child.send({ stop: true });
      return (await next()).peakRssMiB as number;
    },
  };
}

async function measureChild(mode: "--direct", caseName: string, threads: number): Promise<Measured> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, "--import", "tsx", fileURLToPath(import.meta.url), mode, caseName, String(threads)], {
    cwd: root,
    env: { ...SERVER_MALLOC_ENV, ...process.env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`${mode} run of ${caseName} exited with ${code}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as Measured;
}

// ---- the job API column: a real server process ----

async function runJob(agent: Agent, port: number, body: Buffer, c: ModelCase): Promise<void> {
  const { batchId, jobs } = await post(agent, port, body);
  const ended = await waitForBatch(agent, port, batchId);
  if (ended.length !== jobs.length) throw new Error(`the batch's events named ${ended.length} jobs of ${jobs.length}`);
  for (const job of ended) if (job.status !== "succeeded") throw new Error(`${c.tool} job ${job.status}: ${job.error?.message ?? ""}`);
}

/**
 * The job API of a server process and the in-process runner, in alternating rounds. Each round
 * of the job API is one batch (one request with every image of the round, as a client sending a
 * folder does), followed on the batch's event stream until every job has ended; the runner runs the
 * same number of images, as many at once as there are threads. A single image's job is also timed alone: what a
 * user waits for one image.
 */
async function measureJobsAndLocal(c: ModelCase, input: BenchInput, threads: number): Promise<{ jobs: Measured; local: Measured; singleMs: number }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-models-"));
  const server = await startServer({ dataDir, stdio: "ignore", env: { LOG_LEVEL: "silent", MODEL_WORKERS: String(threads), TOOL_CONCURRENCY: String(jobsAtOnce(threads)) } });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const single = jobBody(c.tool, c.params, { name: input.name, bytes: Buffer.from(input.bytes) });
  const local = await startLocal(c.name, threads);
  try {
    await Promise.all(Array.from({ length: threads }, () => runJob(agent, server.port, single, c))); // warm each thread
    const perRound = Math.max(threads, Math.round(IMAGES / ROUNDS));
    const batch = jobBody(c.tool, c.params, { name: input.name, bytes: Buffer.from(input.bytes) }, perRound);
    let jobMs = 0;
    let localMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const viaJobs = async () => (jobMs += (await timed(1, () => runJob(agent, server.port, batch, c), 1)).ms);
      const inProcess = async () => (localMs += await local.run(perRound));
      if (round % 2 === 0) await viaJobs().then(inProcess);
      else await inProcess().then(viaJobs);
    }
    const singles: number[] = [];
    for (let i = 0; i < 3; i++) singles.push((await timed(1, () => runJob(agent, server.port, single, c), 1)).ms);
    const images = perRound * ROUNDS;
    const measured = (ms: number, peakRssMiB: number): Measured => ({ perSecond: (images * 1000) / ms, msPerImage: ms / images, peakRssMiB });
    return { jobs: measured(jobMs, server.peakRssMb()), local: measured(localMs, await local.stop()), singleMs: singles.sort((a, b) => a - b)[1]! };
  } finally {
    agent.destroy();
    await server.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_CASES?.split(",");
  const cases = CASES.filter((c) => !only || only.includes(c.name));
  console.log(`# Model benchmark (${IMAGES} images per measurement, ${os.availableParallelism()} cores, ONNX Runtime threads per model thread: ${process.env.MODEL_COMPUTE_THREADS ?? "cores ÷ model threads"}${QUICK ? ", quick mode" : ""})\n`);
  for (const c of cases) {
    const input = await c.makeInput();
    const { width, height } = await sharp(input.bytes).metadata();
    console.log(`## ${c.name}: ${c.tool} ${JSON.stringify(c.params)} on ${input.name} ${width}×${height}\n`);
    console.log("| threads | job API: images/s | ms/image | server peak RSS | in process: images/s | ms/image | peak RSS | job API overhead | model alone: images/s | ms/image | peak RSS | one image's job alone |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const threads of THREADS) {
      const { jobs, local, singleMs } = await measureJobsAndLocal(c, input, threads);
      const direct = await measureChild("--direct", c.name, threads);
      const row = (m: Measured) => `${m.perSecond.toFixed(2)} | ${m.msPerImage.toFixed(0)} | ${m.peakRssMiB.toFixed(0)} MiB`;
      const overhead = `${((100 * jobs.msPerImage) / local.msPerImage - 100).toFixed(1)}%`;
      console.log(`| ${threads} | ${row(jobs)} | ${row(local)} | ${overhead} | ${row(direct)} | ${singleMs.toFixed(0)} ms |`);
    }
    console.log("");
  }
}

const at = process.argv.indexOf("--direct");
const localAt = process.argv.indexOf("--local");
if (at >= 0) await directChild(process.argv[at + 1]!, Number(process.argv[at + 2]));
else if (localAt >= 0) await localChild(process.argv[localAt + 1]!, Number(process.argv[localAt + 2]));
else await main();
