import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/config.js";
import { freePort } from "../helpers/server.js";
import { jobKeys } from "../../src/jobs/keys.js";

const main = path.join(packageRoot(), "src", "main.ts");

async function startServe(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", main, "serve", "--role", "all"], {
    cwd: packageRoot(),
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "silent", JOB_LEASE: "2s", TOOL_CONCURRENCY: "1", UPLOAD_RATE_LIMIT: "off" },
    stdio: "ignore",
  });
  for (let i = 0; i < 300; i++) {
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error("server did not start");
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a job whose process is killed", () => {
  const children: ChildProcess[] = [];
  let dataDir = "";
  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("is taken back after its lease and ends succeeded exactly once, with one set of outputs", async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-crash-"));
    const port = await freePort();
    const first = await startServe(dataDir, port);
    children.push(first);
    // Slow enough to be caught running: a detailed picture to AVIF at the highest effort.
    const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: "#000", noise: { type: "gaussian", mean: 128, sigma: 50 } } }).jpeg().toBuffer();
    const form = new FormData();
    form.append("tool", "convert");
    form.append("params", JSON.stringify({ format: "avif", effort: 9 }));
    form.append("file", new Blob([photo as Uint8Array<ArrayBuffer>]), "slow.jpg");
    const submitted = await (await fetch(`http://127.0.0.1:${port}/api/v1/jobs`, { method: "POST", body: form })).json();
    const jobUrl = `http://127.0.0.1:${port}/api/v1/jobs/${submitted.jobs[0].id}`;
    await waitFor(async () => ((await (await fetch(jobUrl)).json()).status === "running" ? true : undefined), 20_000);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));

    const second = await startServe(dataDir, port);
    children.push(second);
    const job = await waitFor(async () => {
      const current = await (await fetch(jobUrl)).json();
      return ["succeeded", "failed"].includes(current.status) ? current : undefined;
    }, 60_000);
    expect(job).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(job.outputs).toHaveLength(1);
    expect((await sharp(Buffer.from(await (await fetch(job.outputs[0].url)).arrayBuffer())).metadata()).format).toBe("heif");
    // The killed attempt's files are gone; only the winning attempt's output is stored.
    const prefix = jobKeys.ofJob(job.id);
    const stored = (await fs.readdir(path.join(dataDir, "blobs", path.dirname(prefix)))).filter((name) => name.startsWith(path.basename(prefix)));
    expect(stored).toEqual([expect.stringMatching(/-out-a2-0\.avif$/)]);
  }, 120_000);
});
