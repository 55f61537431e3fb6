/**
 * Accounts benchmark: sign-ins per second (argon2id verification, session creation, cookie) and
 * authenticated uploads (Authorization: Bearer, an API token looked up by its SHA-256) beside
 * anonymous ones, in the same run, against a real Pixhaven process. Anonymous and token rounds
 * alternate so that drift on a shared machine falls on both; the token check should cost ≤ 5 %.
 * Then `/healthz` latency while ten sign-ins run at once (target p99 under 50 ms: password hashing
 * must stay off the event loop).
 *
 *   npx tsx bench/accounts.ts                 (BENCH_SIGNINS=200, BENCH_UPLOADS=200 per kind)
 *   BENCH_QUICK=1 npx tsx bench/accounts.ts   (a smoke run: checks that it runs)
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { packageRoot } from "../src/config.js";
import { freePort } from "../test/helpers/server.js";
import { measure, quantile } from "./measure.js";
import { startServer } from "./server-process.js";

const QUICK = process.env.BENCH_QUICK === "1";
const SIGNINS = Number(process.env.BENCH_SIGNINS ?? (QUICK ? 12 : 200));
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? (QUICK ? 8 : 200));
const ROUNDS = QUICK ? 2 : 5;
const CONCURRENCY = 4;
const main = path.join(packageRoot(), "src", "main.ts");

/** Makes the benchmark's account from the shell, as an operator would, then starts the server. */
async function start(dataDir: string, port: number) {
  const env = { PUBLIC_URL: `http://127.0.0.1:${port}`, SIGN_IN_RATE_LIMIT: "off" };
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", main, "users", "add", "bench@example.org"], {
    env: { ...process.env, ...env, DATA_DIR: dataDir, LOG_LEVEL: "warn" },
    cwd: packageRoot(),
  });
  const password = /one-time password: (\S+)/.exec(stdout)![1]!;
  return { password, server: await startServer({ dataDir, port, env, args: ["--import", "tsx", main, "serve"] }) };
}

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-accounts-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const { password, server } = await start(dataDir, port);
try {
  const signIn = async () => {
    const res = await fetch(`${base}/api/auth/sign-in/email`, { method: "POST", headers: { origin: base, "content-type": "application/json" }, body: JSON.stringify({ email: "bench@example.org", password }) });
    if (res.status !== 200) throw new Error(`sign-in answered ${res.status}`);
    await res.arrayBuffer();
    return res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  };
  await signIn(); // warm
  const signIns = await measure(SIGNINS, CONCURRENCY, async () => void (await signIn()));

  // Ten sign-ins at once, again and again, while one client probes /healthz back to back.
  let hashing = true;
  const tenAtOnce = Promise.all(Array.from({ length: 10 }, async () => {
    for (let i = 0; i < (QUICK ? 2 : 12); i++) await signIn();
  })).finally(() => (hashing = false));
  const probes: number[] = [];
  while (hashing) {
    const t0 = performance.now();
    if (!(await fetch(`${base}/healthz`)).ok) throw new Error("/healthz failed");
    probes.push(performance.now() - t0);
  }
  await tenAtOnce;

  const cookie = await signIn();
  const created = await fetch(`${base}/api/v1/me/tokens`, { method: "POST", headers: { cookie, origin: base, "content-type": "application/json" }, body: JSON.stringify({ name: "bench" }) });
  const { token } = (await created.json()) as { token: string };
  const photo = await sharp({ create: { width: 1200, height: 900, channels: 3, background: "#6a8" } }).jpeg({ quality: 85 }).toBuffer();
  const upload = (headers: Record<string, string>) => async () => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(photo)]), "bench.jpg");
    const res = await fetch(`${base}/api/v1/images`, { method: "POST", body: form, headers });
    if (res.status !== 201) throw new Error(`upload answered ${res.status}`);
    await res.arrayBuffer();
  };
  await upload({})(); // warm
  const anonymous: number[] = [];
  const withToken: number[] = [];
  let anonSeconds = 0;
  let tokenSeconds = 0;
  const perRound = Math.max(1, Math.round(UPLOADS / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    const a = await measure(perRound, CONCURRENCY, upload({}));
    const t = await measure(perRound, CONCURRENCY, upload({ authorization: `Bearer ${token}` }));
    anonymous.push(...a.latencies);
    withToken.push(...t.latencies);
    anonSeconds += perRound / a.perSecond;
    tokenSeconds += perRound / t.perSecond;
  }
  const p = (values: number[], q: number) => quantile([...values].sort((x, y) => x - y), q);
  const anonRate = (perRound * ROUNDS) / anonSeconds;
  const tokenRate = (perRound * ROUNDS) / tokenSeconds;
  console.log(`\n## Accounts (${os.availableParallelism()} cores, concurrency ${CONCURRENCY}${QUICK ? ", BENCH_QUICK" : ""})\n`);
  console.log("| path | per second | p50 ms | p99 ms |\n| --- | --- | --- | --- |");
  console.log(`| sign-in (argon2id verify, new session) × ${SIGNINS} | ${signIns.perSecond.toFixed(1)} | ${signIns.p50.toFixed(1)} | ${signIns.p99.toFixed(1)} |`);
  console.log(`| upload 1200×900 JPEG, anonymous × ${perRound * ROUNDS} | ${anonRate.toFixed(1)} | ${p(anonymous, 0.5).toFixed(1)} | ${p(anonymous, 0.99).toFixed(1)} |`);
  console.log(`| upload 1200×900 JPEG, API token × ${perRound * ROUNDS} | ${tokenRate.toFixed(1)} | ${p(withToken, 0.5).toFixed(1)} | ${p(withToken, 0.99).toFixed(1)} |`);
  console.log(`| /healthz while ten sign-ins run × ${probes.length} probes | | ${p(probes, 0.5).toFixed(1)} | ${p(probes, 0.99).toFixed(1)} |`);
  console.log(`\ntoken check overhead: ${((anonRate / tokenRate - 1) * 100).toFixed(1)} % of upload throughput (target ≤ 5 %)`);
} finally {
  await server.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
}
