import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunTool } from "../../src/jobs/worker.js";
import { plainJpeg } from "../fixtures/images.js";
import { describeEachDialect } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const JOBS = 24;

/**
 * A tool that copies its input, slowly enough for two workers to contend, and counts its runs per
 * job: the queue's own behaviour is under test here, not a tool's.
 */
function countingTool(runs: Map<string, number>, who: string, ran: Map<string, number>): RunTool {
  return async (_tool, input, _params, ctx) => {
    const key = input.name;
    runs.set(key, (runs.get(key) ?? 0) + 1);
    ran.set(who, (ran.get(who) ?? 0) + 1);
    // Long enough that a worker learning of work only by its poll (SQLite, another process) gets some.
    await new Promise((r) => setTimeout(r, 200));
    ctx.progress(0.5);
    await fs.mkdir(ctx.workDir, { recursive: true });
    const out = path.join(ctx.workDir, "out.jpg");
    await fs.copyFile(input.path, out);
    return { outputs: [{ path: out, name: "out.jpg", mime: "image/jpeg", bytes: (await fs.stat(out)).size }] };
  };
}

describeEachDialect("the job queue shared by two processes", (dialect) => {
  let first: TestServer;
  let second: TestServer;
  const runs = new Map<string, number>();
  const ran = new Map<string, number>();
  beforeAll(async () => {
    first = await startTestServer({ dialect, jobWorker: true, runTool: countingTool(runs, "first", ran), config: { toolConcurrency: 2 } });
    // Another process on the same database and storage (as two worker machines would be).
    second = await startTestServer({
      jobWorker: true,
      runTool: countingTool(runs, "second", ran),
      config: { dataDir: first.dataDir, databaseUrl: first.px.config.databaseUrl, toolConcurrency: 2 },
    });
  });
  afterAll(async () => {
    await second.stop();
    await first.stop();
  });

  it("runs every job exactly once, spread over both, each with exactly one output", async () => {
    const jpeg = await plainJpeg(16, 16);
    const form = new FormData();
    form.append("tool", "convert");
    form.append("params", JSON.stringify({ format: "jpeg" }));
    for (let i = 0; i < JOBS; i++) form.append("file", new Blob([jpeg as Uint8Array<ArrayBuffer>]), `f${i}.jpg`);
    const res = await fetch(`${first.baseUrl}/api/v1/jobs`, { method: "POST", body: form });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(202);
    const { batchId } = body;
    const until = Date.now() + 60_000;
    let batch: any;
    do {
      await new Promise((r) => setTimeout(r, 100));
      batch = await (await fetch(`${second.baseUrl}/api/v1/batches/${batchId}`)).json();
    } while (batch.jobs.some((j: any) => j.status !== "succeeded") && Date.now() < until);
    expect(batch.jobs.map((j: any) => j.status)).toEqual(Array(JOBS).fill("succeeded"));
    expect(batch.jobs.every((j: any) => j.outputs.length === 1 && j.attempts === 1)).toBe(true);
    expect([...runs.values()]).toEqual(Array(JOBS).fill(1));
    expect(ran.get("first")).toBeGreaterThan(0);
    expect(ran.get("second")).toBeGreaterThan(0);
  });
});
