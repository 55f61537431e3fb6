/**
 * Tools benchmark: each server tool on a 4032×3024 phone photo (JPEG 4:2:0 with EXIF, XMP, IPTC
 * and a comment; pdf-to-images on three A4 pages), through the HTTP job API of a real Pixhaven
 * process (POST /api/v1/jobs, then the job's Server-Sent Events until it succeeds) beside the same
 * tool called in this process through the ToolRunner the CLI builds, the two taking turns, at
 * concurrency 1 and 4. For
 * convert to WebP it prints the HTTP overhead (target: at most 10% at concurrency 4). Then the
 * queue latency (submitted → startedAt) on SQLite and on PostgreSQL, /healthz while four tool jobs
 * run, and the server's peak RSS, as Markdown tables.
 *
 *   npm run bench:tools                 (builds first; BENCH_JOBS=n per level, default 12)
 *   BENCH_QUICK=1 npm run bench:tools   (a smoke run: 2 MP, two tools, 3 jobs per level)
 *   BENCH_POSTGRES=postgres://user@host:port/db  (default postgres://postgres@127.0.0.1:5432/test;
 *                                        a schema bench_<random> is created and dropped)
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { Agent } from "node:http";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import sharp from "sharp";
import { openLocalRunner } from "../src/cli/local-runner.js";
import { loadConfig } from "../src/config.js";
import { addJpegMetadata } from "../test/fixtures/metadata.js";
import { A4, pdfWithPages } from "../test/fixtures/pdf.js";
import { jobBody, post, waitForEnd } from "./job-client.js";
import { measure as timeRuns, probeHealth, quantile } from "./measure.js";
import { startServer } from "./server-process.js";

const QUICK = process.env.BENCH_QUICK === "1";
const JOBS = Number(process.env.BENCH_JOBS ?? (QUICK ? 3 : 12));
const LEVELS = [1, 4];
const PHOTO = QUICK ? { width: 1632, height: 1224 } : { width: 4032, height: 3024 };
const POSTGRES = process.env.BENCH_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";

interface Case {
  label: string;
  tool: string;
  params: Record<string, unknown>;
  input: "photo" | "pdf";
}

const ALL_CASES: Case[] = [
  { label: "convert → WebP", tool: "convert", params: { format: "webp" }, input: "photo" },
  { label: "compress, JPEG quality 70", tool: "compress", params: { quality: 70 }, input: "photo" },
  { label: "resize to 1920 wide", tool: "resize", params: { width: 1920 }, input: "photo" },
  { label: "crop 16:9, centre", tool: "crop", params: { aspect: "16:9" }, input: "photo" },
  { label: "strip metadata", tool: "strip", params: {}, input: "photo" },
  { label: "pdf-to-images, 3 A4 pages at 150 DPI", tool: "pdf-to-images", params: {}, input: "pdf" },
];
const CASES = QUICK ? ALL_CASES.filter((c) => c.tool === "convert" || c.tool === "strip") : ALL_CASES;
/** The cases run again on PostgreSQL, for its queue latency. */
const PG_CASES = CASES.filter((c) => c.tool === "convert" || c.tool === "strip");

interface Run {
  perSecond: number;
  queueMs: number[];
}

/**
 * Runs `JOBS` tasks, `concurrency` at a time; a task may return its queue latency. First
 * `concurrency` untimed ones, so that the threads each side starts on demand are running.
 */
async function measure(concurrency: number, task: () => Promise<number | void>, count = JOBS): Promise<Run> {
  await Promise.all(Array.from({ length: concurrency }, () => task()));
  const queueMs: number[] = [];
  const { perSecond } = await timeRuns(count, concurrency, async () => {
    const waited = await task();
    if (typeof waited === "number") queueMs.push(waited);
  });
  return { perSecond, queueMs };
}

/**
 * Two ways of doing the same work measured in turns, A B B A, each half of `JOBS`: this machine's
 * speed drifts by a quarter within minutes, and measured one after the other the two would not see
 * the same machine.
 */
async function inTurns(concurrency: number, a: () => Promise<number | void>, b: () => Promise<number | void>, aroundA = (run: () => Promise<Run>) => run()): Promise<[Run, Run]> {
  const half = Math.max(concurrency, Math.round(JOBS / 2));
  const runs: [Run[], Run[]] = [[], []];
  for (const side of [0, 1, 1, 0] as const) runs[side].push(side === 0 ? await aroundA(() => measure(concurrency, a, half)) : await measure(concurrency, b, half));
  const joined = (rs: Run[]): Run => ({ perSecond: (half * rs.length) / rs.reduce((s, r) => s + half / r.perSecond, 0), queueMs: rs.flatMap((r) => r.queueMs) });
  return [joined(runs[0]), joined(runs[1])];
}

async function makeInputs(dir: string): Promise<Record<Case["input"], { path: string; name: string; bytes: Buffer }>> {
  // Blurred noise compresses like a detailed photo (several MB at quality 90), unlike a flat fill.
  const noise = await sharp({ create: { ...PHOTO, channels: 3, background: "#000", noise: { type: "gaussian", mean: 128, sigma: 60 } } })
    .blur(1.5)
    .jpeg({ quality: 90 })
    .toBuffer();
  const photo = Buffer.from(await addJpegMetadata(noise, 1));
  const pdf = Buffer.from(pdfWithPages([A4, A4, A4]));
  const files = { photo: { name: "IMG_0001.jpg", bytes: photo }, pdf: { name: "report.pdf", bytes: pdf } };
  const out = {} as Record<Case["input"], { path: string; name: string; bytes: Buffer }>;
  for (const [kind, file] of Object.entries(files) as Array<[Case["input"], { name: string; bytes: Buffer }]>) {
    const at = path.join(dir, file.name);
    await fs.writeFile(at, file.bytes);
    out[kind] = { path: at, ...file };
  }
  return out;
}

async function httpJob(agent: Agent, port: number, body: Buffer): Promise<number> {
  const { jobs } = await post(agent, port, body);
  const job = await waitForEnd(agent, port, jobs[0]!.id);
  if (job.status !== "succeeded") throw new Error(`job ${job.status}: ${JSON.stringify(job.error)}`);
  return Date.parse(job.startedAt!) - Date.parse(job.createdAt);
}

/** `quantile` of values in any order; NaN when there are none. */
function quantileOf(values: number[], q: number): number {
  return values.length ? quantile([...values].sort((a, b) => a - b), q) : NaN;
}

/** Every case at every level through the HTTP API of the server on `port` (PostgreSQL's run). */
async function runHttp(port: number, cases: Case[], inputs: Awaited<ReturnType<typeof makeInputs>>): Promise<Map<string, Run>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const runs = new Map<string, Run>();
  try {
    for (const c of cases) {
      // The body is built once: the figures measure the server, not the client's encoder.
      const body = jobBody(c.tool, c.params, inputs[c.input]);
      for (const level of LEVELS) {
        runs.set(`${c.label}/${level}`, await measure(level, () => httpJob(agent, port, body)));
      }
    }
  } finally {
    agent.destroy();
  }
  return runs;
}

async function main() {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-tools-"));
  const inputs = await makeInputs(work);
  console.log(
    `input: ${PHOTO.width}×${PHOTO.height} JPEG, ${(inputs.photo.bytes.length / 1e6).toFixed(2)} MB with EXIF/XMP/IPTC; a 3-page A4 PDF; ` +
      `${JOBS} jobs per level${QUICK ? " (BENCH_QUICK)" : ""}; ${os.availableParallelism()} cores, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}\n`,
  );

  // Each case and level: in this process as the CLI runs tools (the same runner, limits and
  // threads, no HTTP, no queue), and through the HTTP API of a server process, in turns.
  const inProcess = new Map<string, Run>();
  const http = new Map<string, Run>();
  const health: number[] = [];
  let peak = 0;
  let end = 0;
  {
    const server = await startServer({ dataDir: path.join(work, "sqlite") });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    try {
      for (const c of CASES) {
        // The body is built once: the figures measure the server, not the client's encoder.
        const body = jobBody(c.tool, c.params, inputs[c.input]);
        for (const level of LEVELS) {
          const local = openLocalRunner(loadConfig({ ...process.env, LOG_LEVEL: "silent" }), level);
          const out = path.join(work, "out");
          // An event loop blocked by image work would show as slow health checks while four jobs run.
          const probed = async (run: () => Promise<Run>) => {
            if (level !== 4) return run();
            const probe = probeHealth(server.port);
            try {
              return await run();
            } finally {
              await probe.stop();
              health.push(...probe.latencies);
            }
          };
          try {
            const [viaHttp, local_] = await inTurns(
              level,
              () => httpJob(agent, server.port, body),
              async () => {
                await local.runner.run({ tool: c.tool, input: { path: inputs[c.input].path, name: inputs[c.input].name }, params: c.params, outputDir: out });
              },
              probed,
            );
            http.set(`${c.label}/${level}`, viaHttp);
            inProcess.set(`${c.label}/${level}`, local_);
          } finally {
            await local.close();
            await fs.rm(out, { recursive: true, force: true });
          }
        }
      }
      peak = server.peakRssMb();
      end = server.rssMb();
    } finally {
      agent.destroy();
      await server.stop();
    }
  }

  let postgres: Map<string, Run> | string;
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: POSTGRES });
  try {
    await admin.connect();
    const url = new URL(POSTGRES);
    url.searchParams.set("schema", schema);
    const server = await startServer({ dataDir: path.join(work, "postgres"), env: { DATABASE_URL: url.toString() } });
    try {
      postgres = await runHttp(server.port, PG_CASES, inputs);
    } finally {
      await server.stop();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  } catch (err) {
    postgres = `skipped: ${(err as Error).message}`;
  } finally {
    await admin.end().catch(() => undefined);
  }
  await fs.rm(work, { recursive: true, force: true });

  const f = (n: number) => n.toFixed(2);
  const ms = (n: number) => `${Math.round(n)} ms`;
  console.log("| tool | concurrency | HTTP jobs/s | in-process jobs/s | HTTP ÷ in-process |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const c of CASES) {
    for (const level of LEVELS) {
      const h = http.get(`${c.label}/${level}`)!;
      const p = inProcess.get(`${c.label}/${level}`)!;
      console.log(`| ${c.label} | ${level} | ${f(h.perSecond)} | ${f(p.perSecond)} | ${Math.round((100 * h.perSecond) / p.perSecond)}% |`);
    }
  }
  const webp = (m: Map<string, Run>) => m.get(`${CASES[0]!.label}/4`)!.perSecond;
  const overhead = 100 * (webp(inProcess) / webp(http) - 1);
  console.log(`\nconvert → WebP at concurrency 4: HTTP overhead ${overhead.toFixed(1)}% over in-process (target ≤ 10%: ${overhead <= 10 ? "met" : "NOT met"})`);

  // At concurrency 1 the queue is empty: its own latency. At 4, jobs may also wait for a free slot
  // (TOOL_CONCURRENCY defaults to the number of cores).
  const latencies = (m: Map<string, Run>, level: number) => [...m].filter(([key]) => key.endsWith(`/${level}`)).flatMap(([, r]) => r.queueMs);
  const latencyRows = (name: string, m: Map<string, Run>) => {
    for (const level of LEVELS) {
      const values = latencies(m, level);
      console.log(`| ${name} | ${level} | ${values.length} | ${ms(quantileOf(values, 0.5))} | ${ms(quantileOf(values, 0.99))} |`);
    }
  };
  console.log("\n| database | concurrency | jobs | queue latency p50 (submitted → started) | p99 |");
  console.log("| --- | --- | --- | --- | --- |");
  latencyRows("SQLite", http);
  if (typeof postgres === "string") {
    console.log(`| PostgreSQL | | | ${postgres} | |`);
  } else {
    latencyRows("PostgreSQL", postgres);
    console.log("\n| tool on PostgreSQL | concurrency | HTTP jobs/s |");
    console.log("| --- | --- | --- |");
    for (const [key, run] of postgres) console.log(`| ${key.replace(/\/(\d+)$/, " | $1")} | ${f(run.perSecond)} |`);
  }
  console.log(
    `\n/healthz while four tool jobs run (SQLite): p50 ${quantileOf(health, 0.5).toFixed(1)} ms, p99 ${quantileOf(health, 0.99).toFixed(1)} ms, max ${quantileOf(health, 1).toFixed(1)} ms (${health.length} probes)`,
  );
  console.log(`Pixhaven server (SQLite) after every HTTP run (TOOL_CONCURRENCY ${process.env.TOOL_CONCURRENCY ?? os.availableParallelism()}): peak RSS ${Math.round(peak)} MB, RSS at the end ${Math.round(end)} MB`);
}

await main();
