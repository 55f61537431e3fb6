import { afterAll, describe, expect, it } from "vitest";
import { ThreadPool, WorkerTaskError, WorkerTimeoutError } from "../../src/jobs/thread-pool.js";

/** A pool of one thread, for tests that follow which thread runs what; closed whatever happens. */
async function withOneThread(test: (single: ThreadPool) => Promise<void>): Promise<void> {
  const single = new ThreadPool(ThreadPool.moduleNextTo(import.meta.url, "busy.worker"), 1, 60_000);
  try {
    await test(single);
  } finally {
    await single.close();
  }
}

describe("ThreadPool", () => {
  const pool = new ThreadPool(ThreadPool.moduleNextTo(import.meta.url, "busy.worker"), 2, 60_000);
  afterAll(() => pool.close());

  it("runs tasks in worker threads and returns their results", async () => {
    const results = await Promise.all(["a", "b", "c"].map((value) => pool.run<string>({ op: "echo", value }, { timeoutMs: 20_000 })));
    expect(results).toEqual(["a", "b", "c"]);
  });

  it("passes errors back with their name", async () => {
    const err = await pool.run({ op: "fail" }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerTaskError);
    expect((err as WorkerTaskError).errorName).toBe("BadInputError");
  });

  it("keeps the event loop free while workers burn CPU", async () => {
    await pool.run({ op: "echo" }, { timeoutMs: 20_000 }); // workers warm
    const busy = Promise.all([pool.run({ op: "spin", ms: 1_000 }, { timeoutMs: 20_000 }), pool.run({ op: "spin", ms: 1_000 }, { timeoutMs: 20_000 })]);
    let worstLag = 0;
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 20));
      worstLag = Math.max(worstLag, performance.now() - t0 - 20);
    }
    await busy;
    // Spinning on the event loop would delay a timer by the whole second; a busy shared CI machine
    // may delay it by tens of milliseconds.
    expect(worstLag).toBeLessThan(400);
  });

  it("stops a task past its time limit and goes on with the next", async () => {
    const slow = pool.run({ op: "spin", ms: 5_000 }, { timeoutMs: 300 });
    await expect(slow).rejects.toBeInstanceOf(WorkerTimeoutError);
    expect(await pool.run<string>({ op: "echo", value: "after" }, { timeoutMs: 20_000 })).toBe("after");
  });

  it("ends a worker after a recycled task, before answering, so its memory is returned", () =>
    withOneThread(async (single) => {
      const kept = await single.run<number>({ op: "thread" }, { timeoutMs: 20_000 });
      expect(await single.run<number>({ op: "thread" }, { timeoutMs: 20_000, recycle: true })).toBe(kept);
      // The recycled worker is gone: the next task starts a new thread.
      expect(await single.run<number>({ op: "thread" }, { timeoutMs: 20_000 })).not.toBe(kept);
    }));

  it("gives up a cancelled caller's tasks at once: queued ones leave the queue, a running one's thread is ended", () =>
    withOneThread(async (single) => {
      const first = await single.run<number>({ op: "thread" }, { timeoutMs: 20_000 });
      const cancel = new AbortController();
      const t0 = performance.now();
      const running = single.run({ op: "spin", ms: 10_000 }, { timeoutMs: 20_000, signal: cancel.signal });
      const queued = single.run({ op: "spin", ms: 10_000 }, { timeoutMs: 20_000, signal: cancel.signal });
      const other = single.run<string>({ op: "echo", value: "next" }, { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 200));
      cancel.abort(new Error("cancelled by its creator"));
      await expect(running).rejects.toThrow("cancelled by its creator");
      await expect(queued).rejects.toThrow("cancelled by its creator");
      // Another caller's task runs next, on a fresh thread, without waiting out the 10 s.
      expect(await other).toBe("next");
      expect(performance.now() - t0).toBeLessThan(8_000);
      expect(await single.run<number>({ op: "thread" }, { timeoutMs: 20_000 })).not.toBe(first);
      // Already cancelled: nothing is started.
      await expect(single.run({ op: "echo" }, { timeoutMs: 20_000, signal: cancel.signal })).rejects.toThrow("cancelled by its creator");
    }));

  it("lets a cancelled native task finish unseen (a terminated native call would abort the process): the caller is answered at once, the thread goes on after", () =>
    withOneThread(async (single) => {
      const first = await single.run<number>({ op: "thread" }, { timeoutMs: 20_000 });
      const cancel = new AbortController();
      const running = single.run({ op: "spin", ms: 1_500 }, { timeoutMs: 20_000, native: true, signal: cancel.signal });
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      cancel.abort(new Error("cancelled"));
      await expect(running).rejects.toThrow("cancelled");
      expect(performance.now() - t0).toBeLessThan(500);
      // The same thread, once its call returned.
      expect(await single.run<number>({ op: "thread" }, { timeoutMs: 20_000 })).toBe(first);
    }));
});
