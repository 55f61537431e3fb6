import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunTool } from "../../src/jobs/worker.js";
import { plainJpeg } from "../fixtures/images.js";
import { describeEachDialect } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** A tool that runs until it is told to stop (or a minute passes), and says when it stopped. */
function endlessTool(stopped: Map<string, number>): RunTool {
  return (_tool, input, _params, ctx) =>
    new Promise((_resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("never stopped")), 60_000);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        stopped.set(input.name, Date.now());
        reject(ctx.signal.reason as Error);
      });
    });
}

describeEachDialect("a job cancelled while it runs", (dialect) => {
  let srv: TestServer;
  const stopped = new Map<string, number>();
  beforeAll(async () => {
    // A lease of a minute: a worker that only learnt of the cancellation at its renewal would run on for 20 s.
    srv = await startTestServer({ dialect, jobWorker: true, runTool: endlessTool(stopped), config: { jobLeaseMs: 60_000 } });
  });
  afterAll(async () => {
    await srv.stop();
  });

  it("stops at once in this process when its creator deletes it", async () => {
    const form = new FormData();
    form.append("tool", "convert");
    form.append("params", JSON.stringify({ format: "png" }));
    form.append("file", new Blob([(await plainJpeg(16, 16)) as Uint8Array<ArrayBuffer>]), "long.jpg");
    const submitted = await (await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form })).json();
    const url = submitted.jobs[0].url;
    for (let i = 0; i < 200 && (await (await fetch(url)).json()).status !== "running"; i++) await new Promise((r) => setTimeout(r, 25));
    const asked = Date.now();
    expect((await fetch(url, { method: "DELETE", headers: { "x-delete-token": submitted.deleteToken } })).status).toBe(204);
    for (let i = 0; i < 200 && !stopped.has("long.jpg"); i++) await new Promise((r) => setTimeout(r, 10));
    expect(stopped.get("long.jpg")! - asked).toBeLessThan(1000);
    expect(await (await fetch(url)).json()).toMatchObject({ status: "failed", error: { code: "cancelled" } });
    for (let i = 0; i < 100 && srv.px.core.jobWorker.running > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(srv.px.core.jobWorker.running).toBe(0);
  });
});
