import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { MAX_STREAMS_PER_NETWORK } from "../../src/http/job-events.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** The events of jobs run by a worker in another process: this one hears nothing, its poll sees the rows change. */
describe("event streams of jobs another process runs", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(); // no worker here: the jobs wait until "another process" takes them
  });
  afterAll(() => srv.stop());

  it("a batch's stream sees each job end by polling the rows still running, and ends with the last", async () => {
    const form = new FormData();
    form.append("tool", "resize");
    form.append("params", JSON.stringify({ width: 10 }));
    for (const name of ["a.jpg", "b.jpg"]) form.append("file", new Blob([(await plainJpeg(32, 32)) as Uint8Array<ArrayBuffer>]), name);
    const batch = await (await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form })).json();
    const [first, second] = batch.jobs.map((j: { id: string }) => j.id) as [string, string];
    const stream = fetch(batch.eventsUrl).then((res) => res.text());
    // As a worker elsewhere would leave them, without a word to this process.
    const end = (id: string, at: number) =>
      srv.px.db.db.updateTable("jobs").set({ status: "failed", error_code: "internal", error_message: "elsewhere", finished_at: at, started_at: at, attempts: 1 }).where("id", "=", id).execute();
    await new Promise((r) => setTimeout(r, 300));
    await end(first, Date.now());
    await new Promise((r) => setTimeout(r, 1500));
    await end(second, Date.now());
    const seen = (await stream)
      .split("\n\n")
      .filter((block) => block.startsWith("event: job"))
      .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + 6)) as { id: string; status: string });
    expect(seen.slice(0, 2).map((j) => [j.id, j.status])).toEqual([
      [first, "queued"],
      [second, "queued"],
    ]);
    // Each end seen once, by the poll (the first most likely one poll before the second).
    expect(seen.slice(2).map((j) => [j.id, j.status]).sort()).toEqual(
      [
        [first, "failed"],
        [second, "failed"],
      ].sort(),
    );
  });

  it("a stream stops following a job that is gone (its history purged) and ends when nothing is left to follow", async () => {
    const form = new FormData();
    form.append("tool", "resize");
    form.append("params", JSON.stringify({ width: 10 }));
    form.append("file", new Blob([(await plainJpeg(32, 32)) as Uint8Array<ArrayBuffer>]), "gone.jpg");
    const batch = await (await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form })).json();
    const stream = fetch(batch.eventsUrl).then((res) => res.text());
    await new Promise((r) => setTimeout(r, 300));
    await srv.px.db.db.deleteFrom("jobs").where("id", "=", batch.jobs[0].id).execute();
    const text = await stream; // ends at the next poll instead of waiting for ever
    expect(text.match(/^event: job$/gm)).toHaveLength(1);
  });
});

describe("event streams per network", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(); // no worker: the job stays queued and its streams stay open
  });
  afterAll(() => srv.stop());

  it(`at most ${MAX_STREAMS_PER_NETWORK} are open at once from one network; past it 429 too_many_streams, and a closed one frees its place`, async () => {
    const form = new FormData();
    form.append("tool", "resize");
    form.append("params", JSON.stringify({ width: 10 }));
    form.append("file", new Blob([(await plainJpeg(32, 32)) as Uint8Array<ArrayBuffer>]), "a.jpg");
    const batch = await (await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form })).json();
    const open: AbortController[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_NETWORK; i++) {
      const controller = new AbortController();
      const url = i % 2 ? batch.eventsUrl : `${batch.jobs[0].url}/events`;
      const res = await fetch(url, { signal: controller.signal });
      expect(res.status).toBe(200);
      open.push(controller);
    }
    const refused = await fetch(batch.eventsUrl);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("10");
    expect((await refused.json()).error.code).toBe("too_many_streams");
    // The job itself can still be read (and the web client polls it).
    expect((await fetch(batch.jobs[0].url)).status).toBe(200);

    open.pop()!.abort();
    let again: Response | undefined;
    for (let i = 0; i < 100; i++) {
      again = await fetch(batch.eventsUrl, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (again?.status === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(again?.status).toBe(200);
    await again?.body?.cancel();
    for (const controller of open) controller.abort();
  });
});
