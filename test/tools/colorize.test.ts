import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageWorkers } from "../../src/images/workers.js";
import { ModelThreads } from "../../src/models/pool.js";
import { MemoryBudget } from "../../src/tools/memory-budget.js";
import { ToolRunner } from "../../src/tools/runner.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { addJpegMetadata } from "../fixtures/metadata.js";
import { pointwiseTanhModel } from "../fixtures/onnx.js";
import { LIMITS, expectNoMetadata } from "./harness.js";

// ---- A reference CIE Lab (D65) <-> sRGB, written out plainly, independent of the tool's tables.
const lin = (v: number) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
const gam = (c: number) => 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
const fi = (t: number) => (t ** 3 > 216 / 24389 ? t ** 3 : (116 * t - 16) / (24389 / 27));
function toLab([r, g, b]: number[]): number[] {
  const [R, G, B] = [lin(r!), lin(g!), lin(b!)];
  const X = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const Y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const Z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}
function toRgb([L, a, b]: number[]): number[] {
  const fy = (L! + 16) / 116;
  const [X, Y, Z] = [0.95047 * fi(fy + a! / 500), fi(fy), 1.08883 * fi(fy - b! / 200)];
  const rgb = [3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z, -0.969266 * X + 1.8760108 * Y + 0.041556 * Z, 0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z];
  return rgb.map((c) => Math.round(gam(Math.min(1, Math.max(0, c)))));
}

// ---- The tiny models: a 1×1 convolution and tanh, at every pixel.
const LAB_WEIGHTS = [[2.5], [-1.8]];
const LAB_BIAS = [0.4, 0.3];
/** lab manifest: the model takes (L - 50) / 100 and answers ab / 110 */
const labColour = (L: number) => LAB_WEIGHTS.map((w, o) => 110 * Math.tanh(LAB_BIAS[o]! + w[0]! * (L / 100 - 0.5)));
const RGB_WEIGHTS = [[0.9, 0.2, 0.1], [-0.3, 0.4, 0.2], [0.1, -0.5, -0.6]];
const RGB_BIAS = [0.2, -0.1, 0.3];
/** rgb manifest: the model takes v / 255 and answers (v - 127.5) / 127.5 */
const rgbColour = (grey: number) => RGB_WEIGHTS.map((w, o) => Math.round(Math.min(255, Math.max(0, 127.5 + 127.5 * Math.tanh(RGB_BIAS[o]! + w.reduce((s, wi) => s + (wi * grey) / 255, 0))))));

/** Four flat grey quarters, 256×192; stored as a JPEG full of metadata. */
const GREYS = [40, 100, 160, 220];
const CENTRES = [
  [64, 48],
  [192, 48],
  [64, 144],
  [192, 144],
];
async function greyPhoto(): Promise<Uint8Array> {
  const rects = GREYS.map((g, i) => `<rect x="${(i % 2) * 128}" y="${Math.floor(i / 2) * 96}" width="128" height="96" fill="rgb(${g},${g},${g})"/>`).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="192">${rects}</svg>`;
  return addJpegMetadata(await sharp(Buffer.from(svg)).jpeg({ quality: 95 }).toBuffer());
}

async function rgbAt(file: string | Uint8Array, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

describe("colorize with an operator's ONNX model", () => {
  let root: string;
  let workers: ImageWorkers;
  const threads: ModelThreads[] = [];
  let n = 0;
  const runnerFor = (manifest: string) => {
    const models = new ModelThreads(1, { settings: { colorizeManifest: manifest } });
    threads.push(models);
    return new ToolRunner({ limits: LIMITS, budget: new MemoryBudget(1024 ** 3), threads: workers, models, tempDir: path.join(root, "tmp") });
  };
  const run = async (runner: ToolRunner, params: unknown = {}) => {
    const input = path.join(root, `in-${++n}`);
    await fs.writeFile(input, await greyPhoto());
    return runner.run({ tool: "colorize", input: { path: input, name: "grandma.jpg" }, params, outputDir: path.join(root, `out-${n}`) });
  };
  const manifest = async (name: string, body: object) => {
    const file = path.join(root, name);
    await fs.writeFile(file, JSON.stringify(body));
    return file;
  };

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-colorize-"));
    await fs.mkdir(path.join(root, "tmp"));
    await fs.writeFile(path.join(root, "lab.onnx"), pointwiseTanhModel(LAB_WEIGHTS, LAB_BIAS));
    await fs.writeFile(path.join(root, "rgb.onnx"), pointwiseTanhModel(RGB_WEIGHTS, RGB_BIAS));
    workers = new ImageWorkers(1, 30_000);
  });
  afterAll(async () => {
    await Promise.all(threads.map((t) => t.close()));
    await workers.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("checks the reference conversion against known colours", () => {
    expect(toRgb(toLab([255, 0, 0]))).toEqual([255, 0, 0]);
    expect(toLab([255, 255, 255]).map((v) => Math.round(v * 100) / 100 + 0)).toEqual([100, 0, 0]);
  });

  it("lab model, dynamic size: the model's colours over the photo's own lightness, at the input's size, without metadata (P7)", async () => {
    const runner = runnerFor(await manifest("lab.json", { file: "lab.onnx", colorSpace: "lab", input: { size: "dynamic", maxSide: 64, scale: 0.01, offset: -0.5 }, output: { scale: 110 } }));
    const result = await run(runner, { format: "png" });
    const out = result.outputs[0]!;
    expect(out).toMatchObject({ mime: "image/png", width: 256, height: 192 });
    expect(result.report).toEqual({ modelSize: "64x48" });
    const input = await greyPhoto();
    for (const [x, y] of CENTRES) {
      const [L] = toLab(await rgbAt(input, x!, y!));
      const expected = toRgb([L!, ...labColour(L!)]);
      const got = await rgbAt(out.path, x!, y!);
      got.forEach((v, c) => expect(Math.abs(v - expected[c]!), `(${x},${y}) ${got} vs ${expected}`).toBeLessThanOrEqual(1));
    }
    // The colours really are colours: the quarters differ in hue, not only in lightness.
    expect(new Set((await Promise.all(CENTRES.map(([x, y]) => rgbAt(out.path, x!, y!)))).map((c) => c.join()))).toHaveLength(4);
    await expectNoMetadata(await fs.readFile(out.path));
  });

  it("rgb model at a fixed size, NCHW, written as JPEG", async () => {
    const runner = runnerFor(await manifest("rgb.json", { file: "rgb.onnx", colorSpace: "rgb", input: { size: [32, 32], scale: 1 / 255 }, output: { scale: 127.5, offset: 127.5 } }));
    const result = await run(runner);
    const out = result.outputs[0]!;
    expect(out).toMatchObject({ mime: "image/jpeg", width: 256, height: 192 });
    expect(result.report).toEqual({ modelSize: "32x32" });
    const input = await greyPhoto();
    for (const [x, y] of CENTRES) {
      const [L] = toLab(await rgbAt(input, x!, y!));
      const grey = toRgb([L!, 0, 0])[0]!;
      const [, a, b] = toLab(rgbColour(grey));
      const expected = toRgb([L!, a!, b!]);
      const got = await rgbAt(out.path, x!, y!);
      got.forEach((v, c) => expect(Math.abs(v - expected[c]!), `(${x},${y}) ${got} vs ${expected}`).toBeLessThanOrEqual(4));
    }
    await expectNoMetadata(await fs.readFile(out.path));
  });

  it("answers model_not_installed (503) when the manifest names a missing file", async () => {
    const runner = runnerFor(await manifest("broken.json", { file: "nowhere.onnx", colorSpace: "lab", input: { size: [32, 32] } }));
    await expect(run(runner)).rejects.toMatchObject({ code: "model_not_installed", status: 503, message: expect.stringMatching(/nowhere\.onnx/) });
  });
});

describe("colorize without a model", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ jobWorker: true });
  });
  afterAll(async () => {
    await srv.stop();
  });

  it("is listed as unavailable, with the reason, and a job fails with model_not_installed", async () => {
    const listing = await (await fetch(`${srv.baseUrl}/api/v1/tools`)).json();
    const tool = listing.tools.find((t: { name: string }) => t.name === "colorize");
    expect(tool).toMatchObject({ available: false, runsOn: "server", unavailableReason: expect.stringMatching(/COLORIZE_MODEL/) });

    const form = new FormData();
    form.append("tool", "colorize");
    form.append("params", "{}");
    form.append("file", new Blob([(await greyPhoto()) as Uint8Array<ArrayBuffer>]), "grandma.jpg");
    const submitted = await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form });
    expect(submitted.status).toBe(202);
    const { jobs } = (await submitted.json()) as { jobs: Array<{ url: string }> };
    let job: any;
    for (let i = 0; i < 300 && !["succeeded", "failed"].includes(job?.status); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      job = await (await fetch(jobs[0]!.url)).json();
    }
    expect(job).toMatchObject({ status: "failed", error: { code: "model_not_installed", message: expect.stringMatching(/not installed on this server/) } });
  });
});
