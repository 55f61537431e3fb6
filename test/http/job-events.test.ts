import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
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
