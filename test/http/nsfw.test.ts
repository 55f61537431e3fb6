import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/common/errors.js";
import { NSFW_CLASSES, type NsfwScores } from "../../src/common/tools/nsfw.js";
import { loadConfig } from "../../src/config.js";
import { type Core, createCore } from "../../src/core.js";
import type { ClassifyPixels } from "../../src/images/nsfw.js";
import { type Pixhaven, serveCore } from "../../src/server.js";
import { upload } from "../helpers/http.js";
import { freePort } from "../helpers/server.js";
import { photoJpeg } from "../tools/harness.js";

interface Served {
  baseUrl: string;
  core: Core;
  px: Pixhaven;
  stop(): Promise<void>;
}

/** A server whose classifier the test may replace (dependency injection, no files touched). */
async function serve(classifyNsfw?: ClassifyPixels): Promise<Served> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-nsfw-"));
  const port = await freePort();
  const config = loadConfig({}, { dataDir, port, host: "127.0.0.1", publicUrl: `http://127.0.0.1:${port}`, uploadRateLimit: null, modelWorkers: 1 });
  config.databaseUrl = `sqlite:${path.join(dataDir, "pixhaven.sqlite")}`;
  const core = await createCore(config, classifyNsfw ? { classifyNsfw } : {});
  const px = await serveCore(core, { logger: false });
  await px.app.listen({ port, host: "127.0.0.1" });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    core,
    px,
    async stop() {
      await px.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

function sweepRule(core: Core) {
  const rule = core.retention.rules.find((r) => r.name === "nsfw_unclassified");
  if (!rule) throw new Error("no nsfw sweep among the scheduled rules");
  return rule;
}

function expectClassified(nsfw: { label: string; score: number; scores: Record<string, number> } | null): void {
  expect(nsfw).not.toBeNull();
  const { label, score, scores } = nsfw!;
  expect(Object.keys(scores).sort()).toEqual([...NSFW_CLASSES].sort());
  expect(Math.abs(Object.values(scores).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-3);
  expect(Math.max(...Object.values(scores))).toBe(score);
  expect(scores[label]).toBe(score);
}

describe("P9: every hosted image gets a classifier result stored with it", () => {
  let srv: Served;
  beforeAll(async () => {
    srv = await serve();
  });
  afterAll(() => srv.stop());

  it("classifies an upload after storing it: the row holds label, score and the five scores, GET returns them", async () => {
    const uploaded = await upload(srv.baseUrl, await photoJpeg(320, 240));
    expect(uploaded.status).toBe(201);
    expect(uploaded.body.nsfw).toBeNull(); // answered before the classifier ran
    await srv.core.nsfw.idle();
    const row = await srv.core.db.db.selectFrom("images").selectAll().where("id", "=", uploaded.body.id).executeTakeFirstOrThrow();
    expect(NSFW_CLASSES).toContain(row.nsfw_label);
    expect(row.nsfw_score).toBeGreaterThan(0);
    const stored = JSON.parse(row.nsfw_scores!) as NsfwScores;
    expect(stored[row.nsfw_label as keyof NsfwScores]).toBe(row.nsfw_score);
    const got = await (await fetch(`${srv.baseUrl}/api/v1/images/${uploaded.body.id}`)).json();
    expectClassified(got.nsfw);
    expect(got.nsfw).toEqual({ label: row.nsfw_label, score: row.nsfw_score, scores: stored });
  });

  it("publishes the threshold in /api/v1/config and lists the nsfw tool as available", async () => {
    const config = await (await fetch(`${srv.baseUrl}/api/v1/config`)).json();
    expect(config.nsfwThreshold).toBe(0.7);
    const tools = (await (await fetch(`${srv.baseUrl}/api/v1/tools`)).json()).tools as Array<{ name: string; available: boolean; runsOn: string }>;
    expect(tools.find((t) => t.name === "nsfw")).toMatchObject({ available: true, runsOn: "server" });
    expect(tools.find((t) => t.name === "ocr")).toMatchObject({ available: true, runsOn: "server" });
  });

  it("runs nsfw as a job: a report and no output file; ocr as a job: a report and its .txt download", async () => {
    srv.core.jobWorker.start();
    const submit = async (tool: string, params: unknown, bytes: Uint8Array) => {
      const form = new FormData();
      form.append("tool", tool);
      form.append("params", JSON.stringify(params));
      form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), "scan.png");
      const body = (await (await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form })).json()) as { jobs: Array<{ url: string }> };
      for (let i = 0; i < 300; i++) {
        const job = await (await fetch(body.jobs[0]!.url)).json();
        if (job.status === "succeeded" || job.status === "failed") return job;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("job did not end");
    };
    const nsfw = await submit("nsfw", {}, await photoJpeg(100, 80));
    expect(nsfw).toMatchObject({ status: "succeeded", outputs: [] });
    expectClassified(nsfw.report);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="90"><rect width="100%" height="100%" fill="#fff"/><text x="20" y="58" font-family="DejaVu Sans" font-size="34">Hello Pixhaven</text></svg>`;
    const ocr = await submit("ocr", { languages: ["eng"] }, await sharp(Buffer.from(svg)).png().toBuffer());
    expect(ocr).toMatchObject({ status: "succeeded", report: { languages: ["eng"] }, outputs: [{ name: "scan.txt", mime: "text/plain; charset=utf-8" }] });
    expect(ocr.report.text.trim()).toBe("Hello Pixhaven");
    const download = await fetch(ocr.outputs[0].url);
    expect(download.headers.get("content-type")).toMatch(/^text\/plain/);
    expect((await download.text()).trim()).toBe("Hello Pixhaven");
  });
});

describe("P9: an upload never waits for the classifier", () => {
  let srv: Served;
  let mode: "down" | "slow" | "up" = "down";
  let release: () => void = () => undefined;
  const calls: string[] = [];
  const fake: NsfwScores = { Drawing: 0.05, Hentai: 0.05, Neutral: 0.1, Porn: 0.6, Sexy: 0.2 };
  beforeAll(async () => {
    srv = await serve(async (pixels) => {
      expect(pixels.length).toBe(224 * 224 * 3);
      calls.push(mode);
      if (mode === "down") throw new AppError("model_not_installed", 503, "The model for this tool is not installed on this server.");
      if (mode === "slow") await new Promise<void>((resolve) => (release = resolve));
      return fake;
    });
  });
  afterAll(() => srv.stop());

  it("answers 201 at once while the classifier is unavailable, and the sweep classifies the image later", async () => {
    const uploaded = await upload(srv.baseUrl, await photoJpeg(64, 48));
    expect(uploaded.status).toBe(201);
    await srv.core.nsfw.idle();
    expect(calls).toEqual(["down"]);
    expect((await (await fetch(`${srv.baseUrl}/api/v1/images/${uploaded.body.id}`)).json()).nsfw).toBeNull();
    // Still down: the sweep stops at the first failure, leaving the row for the next one.
    expect(await sweepRule(srv.core).run()).toBe(0);
    mode = "up";
    expect(await sweepRule(srv.core).run()).toBe(1);
    const got = await (await fetch(`${srv.baseUrl}/api/v1/images/${uploaded.body.id}`)).json();
    expect(got.nsfw).toEqual({ label: "Porn", score: 0.6, scores: fake });
    expect(await sweepRule(srv.core).run()).toBe(0); // nothing left
  });

  it("answers 201 while the classifier is still busy with it", async () => {
    mode = "slow";
    const started = Date.now();
    const uploaded = await upload(srv.baseUrl, await photoJpeg(64, 48));
    expect(uploaded.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect.poll(() => calls.at(-1)).toBe("slow"); // the classifier holds it now
    expect((await (await fetch(`${srv.baseUrl}/api/v1/images/${uploaded.body.id}`)).json()).nsfw).toBeNull();
    release();
    await srv.core.nsfw.idle();
    expect((await (await fetch(`${srv.baseUrl}/api/v1/images/${uploaded.body.id}`)).json()).nsfw.label).toBe("Porn");
  });
});
