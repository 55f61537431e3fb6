import { readFileSync, readdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { ISNET_SIZE, segment } from "../../src/models/isnet.js";
import { classifyNsfw } from "../../src/models/nsfw.js";
import { ModelThreadLostError, ModelThreads } from "../../src/models/pool.js";
import { ThreadPool } from "../../src/jobs/thread-pool.js";
import { expectAppError } from "../tools/harness.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { photoJpeg } from "../tools/harness.js";

// "ocr" and "nsfw" are real registry entries whose files are installed: their probes pass, so the run
// reaches the thread. "ocr" is WebAssembly (a thread is stopped at once), "nsfw" ONNX Runtime (native).
const misbehaving = () => new ModelThreads(1, { module: ThreadPool.moduleNextTo(import.meta.url, "misbehaving.worker") });

describe("model threads", () => {
  const threads = misbehaving();
  afterAll(() => threads.close());

  it("answers model_not_installed (503) for a model the server does not have, starting nothing", async () => {
    const real = new ModelThreads(1);
    expect(await real.unavailable("no-such-model")).toMatch(/no model named/);
    await expectAppError(real.run("no-such-model", null, { timeoutMs: 1000 }), "model_not_installed", 503);
    expect(await real.unavailable("nsfw")).toBeNull();
    await real.close();
  });

  it("turns a model that fails to load into model_failed (503), and one that throws into model_failed", async () => {
    await expectAppError(threads.run("ocr", "load", { timeoutMs: 5000 }), "model_failed", 503, /weights are corrupt/);
    await expectAppError(threads.run("ocr", "throw", { timeoutMs: 5000 }), "model_failed", 500, /shape mismatch/);
    expect(await threads.run("ocr", "after", { timeoutMs: 5000 })).toBe("ok after");
  });

  it("replaces a thread that runs past its time (model_timeout) or dies, and the next task runs", async () => {
    await expectAppError(threads.run("ocr", "hang", { timeoutMs: 200 }), "model_timeout", 422);
    const lost = await threads.run("ocr", "exit", { timeoutMs: 5000 }).catch((e: unknown) => e);
    // Not an AppError: the image is not at fault, so the job system tries again.
    expect(lost).toBeInstanceOf(ModelThreadLostError);
    expect(await threads.run("ocr", "again", { timeoutMs: 5000 })).toBe("ok again");
  });

  it("retires a thread stuck in a native model's call: the task times out at once and the next runs on a fresh thread", async () => {
    const started = Date.now();
    await expectAppError(threads.run("nsfw", "hang", { timeoutMs: 200 }), "model_timeout", 422);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await threads.run("nsfw", "next", { timeoutMs: 5000 })).toBe("ok next");
  });

  it("stops threads inside ONNX Runtime's calls without aborting the process: closed while loading or running, or past their time", async () => {
    // Terminating a thread while ONNX Runtime works for it used to abort the process when the call
    // returned ("terminate called after throwing an instance of 'Napi::Error'"): this test's
    // process would not survive to finish it.
    // Background removal's model loads and runs for seconds: closed at any of these moments, the
    // thread is inside ONNX Runtime.
    for (const delay of [1500, 4000]) {
      const models = new ModelThreads(1);
      const pending = segment(models, "small", new Uint8Array(ISNET_SIZE * ISNET_SIZE * 3).fill(128), 60_000).then(
        () => "segmented",
        (err: Error) => err.message,
      );
      await new Promise((r) => setTimeout(r, delay));
      await models.close();
      expect(await pending).toMatch(/segmented|stopped/);
    }
    const pixels = () => new Uint8Array(224 * 224 * 3).fill(128);
    const models = new ModelThreads(1);
    await expectAppError(classifyNsfw(models, pixels(), 1), "model_timeout", 422);
    expect((await classifyNsfw(models, pixels(), 60_000)).Neutral).toBeGreaterThan(0);
    await models.close();
  }, 60_000);
});

/** The nice value of each thread of this process (Linux), from /proc. */
function threadNices(): number[] {
  return readdirSync("/proc/self/task").map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]); // field 19: nice
  });
}

describe.runIf(process.platform === "linux")("model threads' priority", () => {
  it("run below the server's priority (MODEL_NICE), with the threads ONNX Runtime starts for them, the rest of the process untouched", async () => {
    const before = threadNices().filter((n) => n === 7).length;
    const models = new ModelThreads(1, { computeThreads: 2, nice: 7 });
    try {
      expect((await classifyNsfw(models, new Uint8Array(224 * 224 * 3).fill(128), 60_000)).Neutral).toBeGreaterThan(0);
      // The model thread and ONNX Runtime's helper thread for its second core.
      expect(threadNices().filter((n) => n === 7).length - before).toBeGreaterThanOrEqual(2);
      expect(Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[16])).toBe(0);
    } finally {
      await models.close();
    }
  });
});

describe("a job whose model thread dies", () => {
  let srv: TestServer;
  const threads = misbehaving();
  let calls = 0;
  afterAll(async () => {
    await srv?.stop();
    await threads.close();
  });

  it("is tried again on a fresh thread and succeeds", async () => {
    srv = await startTestServer({
      jobWorker: true,
      runTool: async () => {
        // The first attempt's thread is killed mid-task, the second answers.
        const value = await threads.run<string>("nsfw", ++calls === 1 ? "exit" : "fine", { timeoutMs: 5000 });
        return { outputs: [], report: { value } };
      },
    });
    const form = new FormData();
    form.append("tool", "nsfw");
    form.append("file", new Blob([(await photoJpeg(32, 32)) as Uint8Array<ArrayBuffer>]), "a.jpg");
    const submitted = (await (await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form })).json()) as { jobs: Array<{ url: string }> };
    let job: { status: string; attempts: number; report?: unknown; outputs: unknown[] } | undefined;
    for (let i = 0; i < 300; i++) {
      job = await (await fetch(submitted.jobs[0]!.url)).json();
      if (job!.status === "succeeded" || job!.status === "failed") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(job).toMatchObject({ status: "succeeded", attempts: 2, report: { value: "ok fine" }, outputs: [] });
  });
});
