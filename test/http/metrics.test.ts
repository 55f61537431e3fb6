import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { describeEachDialect, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const TOKEN = "metrics-token-for-the-test-0123456789";

describeEachDialect("/metrics", (dialect) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ dialect, jobWorker: true, config: { metricsToken: TOKEN } });
  });
  afterAll(() => srv.stop());

  const scrape = (token?: string) => fetch(`${srv.baseUrl}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it("answers only a scraper bearing METRICS_TOKEN", async () => {
    for (const res of [await scrape(), await scrape("not-the-token"), await scrape(`${TOKEN}x`)]) {
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("unauthorized");
    }
    const res = await scrape(TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("P19: counts requests by route template, tool runs by tool and outcome, the queue and the threads; no id or address in any label", async () => {
    const image = (await upload(srv.baseUrl, await plainJpeg(64, 48, 3))).body;
    expect((await fetch(`${srv.baseUrl}/i/${image.id}`, { headers: { "x-forwarded-for": "203.0.113.77" } })).status).toBe(200);
    const form = new FormData();
    form.append("tool", "strip");
    form.append("params", "{}");
    form.append("file", new Blob([(await plainJpeg(64, 48, 4)) as Uint8Array<ArrayBuffer>]), "private-name.jpg");
    const batch = await (await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form })).json();
    const events = await fetch(batch.eventsUrl);
    await events.text(); // ends with the job
    // The run is counted as its worker finishes up, a moment after its row says it ended.
    let text = "";
    for (let tries = 0; tries < 100; tries++) {
      text = await (await scrape(TOKEN)).text();
      if (/pixhaven_job_run_seconds_count\{/.test(text)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(text).toMatch(/pixhaven_http_request_seconds_count\{method="POST",route="\/api\/v1\/images",status="201"\} 1/);
    expect(text).toMatch(/pixhaven_http_request_seconds_count\{method="GET",route="\/i\/:id",status="200"\} 1/);
    expect(text).toMatch(/pixhaven_job_run_seconds_count\{tool="strip",outcome="succeeded"\} 1/);
    expect(text).toMatch(/pixhaven_jobs\{status="queued"\} 0/);
    expect(text).toMatch(/pixhaven_jobs\{status="running"\} 0/);
    expect(text).toMatch(/pixhaven_model_threads\{state="size"\} \d+/);
    expect(text).toMatch(/pixhaven_image_tasks_queued 0/);
    expect(text).toMatch(/pixhaven_process_cpu_seconds_total/);
    expect(text).toMatch(/pixhaven_nodejs_eventloop_lag_p99_seconds/);
    for (const trace of [image.id, batch.batchId, batch.jobs[0].id, "203.0.113", "private-name"]) expect(text).not.toContain(trace);
  });
});

describe("/metrics without METRICS_TOKEN", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.stop());

  it("is not there", async () => {
    const res = await fetch(`${srv.baseUrl}/metrics`, { headers: { authorization: "Bearer anything-at-all-here" } });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("not_found");
  });
});
