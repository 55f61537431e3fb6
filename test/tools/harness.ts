/** A tool runner over a fresh temp folder, as the job worker and the CLI build it. */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, expect } from "vitest";
import { AppError } from "../../src/common/errors.js";
import { ImageWorkers } from "../../src/images/workers.js";
import { ModelThreads } from "../../src/models/pool.js";
import { expectNothingPersonal, leakedSecrets } from "../common/metadata-helpers.js";
import { MemoryBudget } from "../../src/tools/memory-budget.js";
import { type ToolRunRequest, type ToolRunResult, ToolRunner, type ToolRunnerDeps } from "../../src/tools/runner.js";

export const LIMITS = { maxPixels: 50_000_000, maxAnimationPixels: 200_000_000, decodeTimeoutMs: 30_000 };

export interface Harness {
  root: string;
  runner: ToolRunner;
  /** writes bytes as an input file and runs the tool on it, outputs in a fresh folder */
  run(tool: string, bytes: Uint8Array, params?: unknown, extra?: Partial<ToolRunRequest> & { name?: string }): Promise<ToolRunResult>;
  /** the run folders left in the temp folder (none once every run has ended) */
  workFolders(): Promise<string[]>;
}

export function useHarness(options: { budget?: number; toolLimits?: ToolRunnerDeps["toolLimits"] } = {}): Harness {
  const harness = {} as Harness;
  let workers: ImageWorkers;
  let models: ModelThreads;
  let count = 0;
  beforeAll(async () => {
    harness.root = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-tools-"));
    const tempDir = path.join(harness.root, "tmp");
    await fs.mkdir(tempDir);
    workers = new ImageWorkers(1, 30_000);
    models = new ModelThreads(1);
    harness.runner = new ToolRunner({ limits: LIMITS, budget: new MemoryBudget(options.budget ?? 1024 ** 3), threads: workers, models, tempDir, ...(options.toolLimits ? { toolLimits: options.toolLimits } : {}) });
    harness.run = async (tool, bytes, params = {}, extra = {}) => {
      const n = ++count;
      const input = path.join(harness.root, `in-${n}`);
      await fs.writeFile(input, bytes);
      const { name = "photo.jpg", ...rest } = extra;
      return harness.runner.run({ tool, input: { path: input, name }, params, outputDir: path.join(harness.root, `out-${n}`), ...rest });
    };
    harness.workFolders = () => fs.readdir(tempDir);
  });
  afterAll(async () => {
    await harness.runner.close();
    await workers.close();
    await models.close();
    await fs.rm(harness.root, { recursive: true, force: true });
  });
  return harness;
}

export async function expectAppError(promise: Promise<unknown>, code: string, status: number, message?: RegExp): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(AppError);
  const app = err as AppError;
  expect({ code: app.code, status: app.status }).toEqual({ code, status });
  if (message) expect(app.message).toMatch(message);
  return app;
}

/** A photo-like JPEG: smooth gradients and detail, so encoders behave as on real photos. */
export async function photoJpeg(width: number, height: number, options: { quality?: number } = {}): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = (x * 255) / width;
      raw[i + 1] = (y * 255) / height;
      raw[i + 2] = 128 + 100 * Math.sin(x / 7) * Math.cos(y / 11);
    }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: options.quality ?? 90 }).toBuffer();
}

/** The colour at (x, y) of an output file. */
export async function pixelAt(file: string, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

/**
 * P7 on an output: no planted secret in its bytes, no metadata block a reader finds, and (for the
 * formats the EXIF reader knows) no personal field.
 */
export async function expectNoMetadata(bytes: Uint8Array): Promise<void> {
  expect(leakedSecrets(bytes)).toEqual([]);
  const meta = await sharp(bytes).metadata();
  expect({ exif: meta.exif, xmp: meta.xmp, iptc: meta.iptc, comments: meta.comments }).toEqual({ exif: undefined, xmp: undefined, iptc: undefined, comments: undefined });
  if (meta.format === "jpeg" || meta.format === "png" || meta.format === "heif") await expectNothingPersonal(bytes);
}
