import { afterAll, beforeAll, expect, it } from "vitest";
import { ManualClock } from "../../src/common/clock.js";
import { jobKeys } from "../../src/jobs/keys.js";
import { plainJpeg } from "../fixtures/images.js";
import { describeEachDialect, listBlobs } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";
import { type Browser, signedInBrowser, startAccountsServer } from "./helpers.js";

describeEachDialect("an account's job history", (dialect) => {
  let server: TestServer;
  let alice: Browser;
  // Starts at the real time: the account's session is better-auth's and reads the real clock.
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    server = await startAccountsServer({}, { dialect, jobWorker: true, clock });
    alice = await signedInBrowser(server.baseUrl);
  });
  afterAll(() => server?.stop());

  it("P6: after P5's purge the job still shows in the account's history (tool, settings, status, times, batch and job ids, downloads), its files do not", async () => {
    const form = new FormData();
    form.append("tool", "resize");
    form.append("params", JSON.stringify({ width: 100 }));
    form.append("file", new Blob([(await plainJpeg(320, 240)) as Uint8Array<ArrayBuffer>]), "holiday.jpg");
    const submitted = await fetch(`${server.baseUrl}/api/v1/jobs`, { method: "POST", body: form, headers: { cookie: alice.jar.header(), origin: alice.baseUrl } });
    expect(submitted.status).toBe(202);
    const { batchId, jobs } = (await submitted.json()) as { batchId: string; jobs: Array<{ id: string }> };
    const jobId = jobs[0]!.id;
    let job: any;
    for (let i = 0; i < 300 && job?.status !== "succeeded"; i++) {
      job = (await alice.json("GET", `/api/v1/jobs/${jobId}`)).body;
      if (job.status !== "succeeded") await new Promise((r) => setTimeout(r, 50));
    }
    expect(job.status).toBe("succeeded");
    expect((await alice.request("GET", `/api/v1/jobs/${jobId}/outputs/0`)).status).toBe(200);
    const keysOfJob = async () => (await listBlobs(server.px.blobs)).filter((k) => k.startsWith(jobKeys.ofJob(jobId)));
    expect(await keysOfJob()).toHaveLength(1);

    // The time left to download is the server's own clock's.
    clock.set(Date.parse(job.finishedAt) + server.px.config.toolRetentionMs - 600_000);
    expect((await alice.json("GET", "/api/v1/me/jobs")).body.items[0].secondsLeft).toBe(600);

    // P5's purge, a second after TOOL_RETENTION.
    clock.set(Date.parse(job.finishedAt) + server.px.config.toolRetentionMs + 1000);
    expect((await server.px.core.retention.runAll()).tool_files).toBe(1);
    expect(await keysOfJob()).toEqual([]);

    const history = (await alice.json("GET", "/api/v1/me/jobs")).body.items;
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      id: jobId,
      batchId,
      tool: "resize",
      params: { width: 100 },
      status: "expired",
      createdAt: job.createdAt,
      finishedAt: job.finishedAt,
      downloads: 1,
      secondsLeft: null,
      inputs: [{ name: "holiday.jpg" }],
      outputs: [expect.objectContaining({ url: null, downloads: 1, width: 100, height: 75 })],
    });
    expect((await alice.request("GET", `/api/v1/jobs/${jobId}/outputs/0`)).status).toBe(410);
  });
});
