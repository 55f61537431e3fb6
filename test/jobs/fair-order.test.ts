import { afterAll, beforeAll, expect, it } from "vitest";
import { JobRepository } from "../../src/jobs/repository.js";
import { plainJpeg } from "../fixtures/images.js";
import { describeEachDialect } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

describeEachDialect("the order workers take jobs in", (dialect) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ dialect }); // no worker: the test claims the jobs itself
  });
  afterAll(() => srv.stop());

  const submit = async (names: string[]) => {
    const form = new FormData();
    form.append("tool", "resize");
    form.append("params", JSON.stringify({ width: 10 }));
    for (const name of names) form.append("file", new Blob([(await plainJpeg(16, 16)) as Uint8Array<ArrayBuffer>]), name);
    const res = await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form });
    expect(res.status).toBe(202);
  };

  it("batches take turns: the first job of every batch before the second of any, oldest batch first", async () => {
    await submit(["big-0.jpg", "big-1.jpg", "big-2.jpg", "big-3.jpg"]);
    await submit(["small-0.jpg"]);
    await submit(["pair-0.jpg", "pair-1.jpg"]);
    const repo = new JobRepository(srv.px.db.db);
    const order: string[] = [];
    for (let job = await repo.claimNext(Date.now(), 60_000); job; job = await repo.claimNext(Date.now(), 60_000)) order.push(job.input_name);
    expect(order).toEqual(["big-0.jpg", "small-0.jpg", "pair-0.jpg", "big-1.jpg", "pair-1.jpg", "big-2.jpg", "big-3.jpg"]);
  });
});
