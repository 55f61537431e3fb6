import sharp from "sharp";
import { unzipSync } from "fflate";
import { createServer, request, type Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseCidr } from "../../src/net/ip.js";
import { ManualClock } from "../../src/common/clock.js";
import { jpegWithMetadata } from "../fixtures/metadata.js";
import { leakedSecrets } from "../common/metadata-helpers.js";
import { describeEachDialect, getBytes, listBlobs, listTemp, multipart } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { jobKeys } from "../../src/jobs/keys.js";

const MINUTE = 60_000;
const RETENTION = 60 * MINUTE;
const HISTORY = 90 * 24 * 60 * MINUTE;

async function submit(baseUrl: string, tool: string, params: unknown, files: Array<{ bytes: Uint8Array; name: string }>, extra: Record<string, string> = {}) {
  const form = new FormData();
  form.append("tool", tool);
  form.append("params", typeof params === "string" ? params : JSON.stringify(params));
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  for (const f of files) form.append("file", new Blob([f.bytes as Uint8Array<ArrayBuffer>]), f.name);
  const res = await fetch(`${baseUrl}/api/v1/jobs`, { method: "POST", body: form });
  return { status: res.status, body: (await res.json()) as any };
}

async function waitForEnd(url: string, timeoutMs = 30_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await (await fetch(url)).json();
    if (["succeeded", "failed", "expired"].includes(job.status)) return job;
    if (Date.now() > until) throw new Error(`job still ${job.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeEachDialect("tool jobs over HTTP", (dialect) => {
  let srv: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  let photo: Uint8Array;
  beforeAll(async () => {
    srv = await startTestServer({
      dialect,
      clock,
      jobWorker: true,
      config: { toolRetentionMs: RETENTION, jobHistoryRetentionMs: HISTORY, urlImport: { enabled: true, timeoutMs: 10_000, allowList: [parseCidr("127.0.0.1/32")] } },
    });
    photo = await jpegWithMetadata({ width: 320, height: 240 });
    source = createServer((_req, res) => res.writeHead(200, { "content-type": "image/jpeg" }).end(photo));
    await new Promise<void>((resolve) => source.listen(0, "127.0.0.1", resolve));
  });
  let source: Server;
  afterAll(async () => {
    await srv.stop();
    await new Promise((resolve) => source.close(resolve));
  });

  it("lists every tool with its params as JSON Schema, whether it runs here, and its measured cost", async () => {
    const listing = await (await fetch(`${srv.baseUrl}/api/v1/tools`)).json();
    expect(listing.retentionSeconds).toBe(RETENTION / 1000);
    const names = listing.tools.map((t: any) => t.name);
    expect(names).toEqual(expect.arrayContaining(["convert", "compress", "resize", "crop", "strip", "pdf-to-images"]));
    const resize = listing.tools.find((t: any) => t.name === "resize");
    expect(resize).toMatchObject({ available: true, runsOn: expect.any(String) });
    expect(resize.params.type).toBe("object");
    expect(Object.keys(resize.params.properties)).toEqual(expect.arrayContaining(["width", "height"]));
  });

  it("imports an input from a URL (through the allow list) and refuses a forbidden address", async () => {
    const url = `http://127.0.0.1:${(source.address() as { port: number }).port}/pictures/fetched.jpg`;
    const res = await submit(srv.baseUrl, "convert", { format: "png" }, [], { url });
    expect(res.status).toBe(202);
    const job = await waitForEnd(res.body.jobs[0].url);
    expect(job).toMatchObject({ status: "succeeded", inputs: [{ name: "fetched.jpg", bytes: photo.length }] });
    const refused = await submit(srv.baseUrl, "convert", { format: "png" }, [], { url: url.replace("127.0.0.1", "127.0.0.2") });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden_address");
    const secondsPerMegapixel = (await (await fetch(`${srv.baseUrl}/api/v1/tools`)).json()).tools.find((t: any) => t.name === "convert").secondsPerMegapixel;
    // Measured with this suite's hand-moved clock, so the figure itself is 0 here; it exists once a run succeeded.
    expect(secondsPerMegapixel).not.toBeNull();
  });

  it("P7: runs a batch: 202 with ids, jobs succeed, outputs download (counted) and carry no metadata, the batch zips", async () => {
    const res = await submit(srv.baseUrl, "convert", { format: "webp" }, [
      { bytes: photo, name: "holiday.jpg" },
      { bytes: photo, name: "holiday.jpg" },
    ]);
    expect(res.status).toBe(202);
    expect(res.body.batchId).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(res.body.retentionSeconds).toBe(RETENTION / 1000);
    expect(res.body.jobs).toHaveLength(2);
    for (const { url } of res.body.jobs) {
      const job = await waitForEnd(url);
      expect(job).toMatchObject({ status: "succeeded", progress: 1, tool: "convert", batchId: res.body.batchId, inputs: [{ name: "holiday.jpg", bytes: photo.length }] });
      expect(job.params).toMatchObject({ format: "webp" });
      expect(Date.parse(job.expiresAt) - Date.parse(job.finishedAt)).toBe(RETENTION);
      const [output] = job.outputs;
      expect(output).toMatchObject({ mime: "image/webp", width: 320, height: 240, downloads: 0 });
      // A HEAD (a client checking the size first) is not a download.
      expect((await fetch(output.url, { method: "HEAD" })).headers.get("content-length")).toBe(String(output.bytes));
      const download = await getBytes(output.url);
      expect(download.status).toBe(200);
      expect(download.headers.get("content-disposition")).toMatch(/^attachment/);
      const meta = await sharp(download.bytes).metadata();
      expect(meta.format).toBe("webp");
      expect([meta.exif, meta.xmp, meta.iptc]).toEqual([undefined, undefined, undefined]);
      expect(leakedSecrets(download.bytes)).toEqual([]);
      const after = await (await fetch(url)).json();
      expect(after.outputs[0].downloads).toBe(1);
      expect(after.outputs[0].lastDownloadAt).toBe(new Date(clock.now()).toISOString());
    }
    // P5: each input is deleted as soon as its job ends.
    expect((await listBlobs(srv.px.blobs)).filter((k) => jobKeys.isInput(k))).toEqual([]);
    const batch = await (await fetch(`${srv.baseUrl}/api/v1/batches/${res.body.batchId}`)).json();
    expect(batch.jobs.map((j: any) => j.status)).toEqual(["succeeded", "succeeded"]);
    const zip = unzipSync(new Uint8Array(await (await fetch(res.body.zipUrl)).arrayBuffer()));
    expect(Object.keys(zip).sort()).toEqual(["holiday-2.webp", "holiday.webp"]);
    expect((await sharp(zip["holiday.webp"]!).metadata()).width).toBe(320);
  });

  it("resumes a download: Range answers 206 with the bytes asked for, counted once; If-Range with another validator gets the whole file; past the end 416", async () => {
    const res = await submit(srv.baseUrl, "convert", { format: "png" }, [{ bytes: photo, name: "big.jpg" }]);
    const job = await waitForEnd(res.body.jobs[0].url);
    const [output] = job.outputs;
    const whole = await getBytes(output.url);
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    const etag = whole.headers.get("etag")!;
    expect(etag).toMatch(/^"[A-Za-z0-9_.-]+"$/);
    const cut = 1000;
    const rest = await fetch(output.url, { headers: { range: `bytes=${cut}-`, "if-range": etag } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get("content-range")).toBe(`bytes ${cut}-${output.bytes - 1}/${output.bytes}`);
    expect(rest.headers.get("content-disposition")).toMatch(/^attachment/);
    const resumed = Buffer.concat([whole.bytes.subarray(0, cut), Buffer.from(await rest.arrayBuffer())]);
    expect(resumed.equals(whole.bytes)).toBe(true);
    const stale = await fetch(output.url, { headers: { range: "bytes=0-9", "if-range": '"another"' } });
    expect([stale.status, (await stale.arrayBuffer()).byteLength]).toEqual([200, output.bytes]);
    const past = await fetch(output.url, { headers: { range: `bytes=${output.bytes}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${output.bytes}`);
    expect((await past.json()).error.code).toBe("range_not_satisfiable");
    // The whole file, then the stale request's whole file: two downloads; the resumed part was not one.
    expect((await (await fetch(res.body.jobs[0].url)).json()).outputs[0].downloads).toBe(2);
  });

  it("takes files as phones and desktops name them (IMG_0001.JPG, several dots, other scripts), and makes no folder per job", async () => {
    const names = ["IMG_0001.JPG", "my.holiday.photo.jpeg", "фото отпуск.jpg", "no extension", "..jpg"];
    const res = await submit(
      srv.baseUrl,
      "convert",
      { format: "png" },
      names.map((name) => ({ bytes: photo, name })),
    );
    expect(res.status).toBe(202);
    const jobs = await Promise.all(res.body.jobs.map((j: any) => waitForEnd(j.url)));
    expect(jobs.map((j) => j.status)).toEqual(names.map(() => "succeeded"));
    expect(jobs.map((j) => j.inputs[0].name)).toEqual(["IMG_0001.JPG", "my.holiday.photo.jpeg", "фото отпуск.jpg", "no extension", "jpg"]);
    expect((await getBytes(jobs[0].outputs[0].url)).status).toBe(200);
    // The download keeps the real name for clients that read RFC 8187, with an ASCII one for the rest.
    const cyrillic = await fetch(jobs[2].outputs[0].url);
    expect(cyrillic.headers.get("content-disposition")).toBe(
      `attachment; filename="____-______.png"; filename*=UTF-8''${encodeURIComponent("фото-отпуск.png")}`,
    );
    expect(jobs[2].outputs[0].name).toBe("фото-отпуск.png");
    // Every key of a job lies in one of the shared folders (jobs/<two symbols>/), named by the job.
    const keys = (await listBlobs(srv.px.blobs)).filter((k) => jobs.some((j) => k.startsWith(jobKeys.ofJob(j.id))));
    expect(keys).toHaveLength(names.length);
    for (const key of keys) expect(key).toMatch(/^jobs\/[A-Za-z0-9_-]{2}\/[A-Za-z0-9_-]{11}-out-a1-0\.png$/);
  });

  it("zips a batch once a job has finished (409 before), with names that differ in more than case", async () => {
    await srv.px.core.jobWorker.stop();
    const res = await submit(srv.baseUrl, "convert", { format: "png" }, [
      { bytes: photo, name: "a.jpg" },
      { bytes: photo, name: "A.JPG" },
    ]);
    const early = await fetch(res.body.zipUrl);
    expect(early.status).toBe(409);
    expect(((await early.json()) as any).error.code).toBe("not_ready");
    srv.px.core.jobWorker.start();
    const jobs = await Promise.all(res.body.jobs.map((j: any) => waitForEnd(j.url)));
    expect(jobs.map((j) => j.outputs[0].name)).toEqual(["a.png", "A.png"]);
    const zip = unzipSync(new Uint8Array(await (await fetch(res.body.zipUrl)).arrayBuffer()));
    expect(Object.keys(zip).map((name) => name.toLowerCase()).sort()).toEqual(["a-2.png", "a.png"]);
    // Only indexes as the job's JSON writes them name an output.
    for (const idx of ["0x0", "+0", "0.0", "%20", "abc", "-1", "00"]) expect((await fetch(`${jobs[0].url}/outputs/${idx}`)).status, idx).toBe(404);
  });

  it("P5: outputs live until TOOL_RETENTION, then go (410); P6: the job stays in history without any file until JOB_HISTORY_RETENTION", async () => {
    const res = await submit(srv.baseUrl, "convert", { format: "png" }, [{ bytes: photo, name: "a.jpg" }]);
    const job = await waitForEnd(res.body.jobs[0].url);
    const outputUrl = job.outputs[0].url;
    const keysOfJob = async () => (await listBlobs(srv.px.blobs)).filter((k) => k.startsWith(jobKeys.ofJob(job.id)));

    clock.set(Date.parse(job.finishedAt) + RETENTION - 1000);
    await srv.px.core.retention.runAll();
    expect(await keysOfJob()).toHaveLength(1);
    expect((await getBytes(outputUrl)).status).toBe(200);

    clock.set(Date.parse(job.finishedAt) + RETENTION + 1000);
    await srv.px.core.retention.runAll();
    expect(await keysOfJob()).toEqual([]);
    // The worker removes the run's folder as it finishes up, a moment after the job's row says it ended.
    for (let i = 0; i < 300 && srv.px.core.jobWorker.running > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await listTemp(srv.dataDir)).toEqual([]);
    const gone = await getBytes(outputUrl);
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.bytes.toString()).error.code).toBe("expired");
    const history = await (await fetch(res.body.jobs[0].url)).json();
    expect(history).toMatchObject({ status: "expired", tool: "convert", params: { format: "png" }, inputs: [{ name: "a.jpg", bytes: photo.length }] });
    expect(history.outputs).toEqual([expect.objectContaining({ url: null, mime: "image/png", downloads: 1, width: 320, height: 240 })]);

    clock.set(Date.parse(job.finishedAt) + RETENTION + HISTORY + 2000);
    await srv.px.core.retention.runAll();
    expect((await fetch(res.body.jobs[0].url)).status).toBe(404);
  });

  it("deletes a job's files at once with the batch's token, and only with it", async () => {
    const res = await submit(srv.baseUrl, "convert", { format: "webp" }, [{ bytes: photo, name: "b.jpg" }]);
    const job = await waitForEnd(res.body.jobs[0].url);
    const wrong = await fetch(job.url, { method: "DELETE", headers: { "x-delete-token": "nope" } });
    expect(wrong.status).toBe(403);
    expect((await listBlobs(srv.px.blobs)).filter((k) => k.startsWith(jobKeys.ofJob(job.id)))).toHaveLength(1);
    const del = await fetch(job.url, { method: "DELETE", headers: { "x-delete-token": res.body.deleteToken } });
    expect(del.status).toBe(204);
    expect((await listBlobs(srv.px.blobs)).filter((k) => k.startsWith(jobKeys.ofJob(job.id)))).toEqual([]);
    expect((await getBytes(job.outputs[0].url)).status).toBe(410);
  });

  it("streams progress and status as Server-Sent Events until the job ends", async () => {
    const res = await submit(srv.baseUrl, "resize", { width: 100 }, [{ bytes: photo, name: "c.jpg" }]);
    const events = await fetch(`${res.body.jobs[0].url}/events`);
    expect(events.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await events.text(); // the stream ends with the job
    const jobs = text
      .split("\n\n")
      .filter((block) => block.startsWith("event: job"))
      .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + 6)));
    expect(jobs.length).toBeGreaterThanOrEqual(1);
    expect(jobs.at(-1)).toMatchObject({ status: "succeeded", progress: 1 });
    const progress = jobs.map((j) => j.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("follows a whole batch on one event stream, each job in order, until every job has ended", async () => {
    const res = await submit(srv.baseUrl, "resize", { width: 100 }, ["d1.jpg", "d2.jpg", "d3.jpg"].map((name) => ({ bytes: photo, name })));
    expect(res.body.eventsUrl).toBe(`${srv.baseUrl}/api/v1/batches/${res.body.batchId}/events`);
    const events = await fetch(res.body.eventsUrl);
    expect(events.status).toBe(200);
    expect(events.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await events.text(); // the stream ends with the batch's last job
    const seen = text
      .split("\n\n")
      .filter((block) => block.startsWith("event: job"))
      .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + 6)));
    const ids = res.body.jobs.map((j: any) => j.id);
    // Each job at once, in the batch's order, then its changes.
    expect(seen.slice(0, 3).map((j) => j.id)).toEqual(ids);
    for (const id of ids) {
      const states = seen.filter((j) => j.id === id);
      expect(states.at(-1)).toMatchObject({ batchId: res.body.batchId, status: "succeeded", progress: 1, outputs: [{ url: expect.any(String) }] });
      const order = ["queued", "running", "succeeded"];
      const statuses = states.map((j) => order.indexOf(j.status));
      expect(statuses).toEqual([...statuses].sort((a, b) => a - b));
    }
    // A batch whose jobs have all ended answers its states and ends at once.
    const again = await (await fetch(res.body.eventsUrl)).text();
    expect(again.match(/^event: job$/gm)).toHaveLength(3);
    expect((await fetch(`${srv.baseUrl}/api/v1/batches/AAAAAAAAAAA/events`)).status).toBe(404);
  });

  it("queues each file as it arrives: the first job of a batch runs while the rest is still uploading", async () => {
    const file = (name: string) => [multipart.fileHead(name), Buffer.from(photo), Buffer.from("\r\n")];
    const { port } = new URL(srv.baseUrl);
    const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/api/v1/jobs", method: "POST", headers: multipart.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on("error", reject);
      // Up to the next part's boundary line, so the server knows the first file has ended.
      req.write(Buffer.concat([multipart.field("tool", "convert"), multipart.field("params", JSON.stringify({ format: "png" })), ...file("early.jpg"), Buffer.from(`--${multipart.boundary}\r\n`)]));
      // The request stays open until the first file's job has ended.
      const { db } = srv.px.core.db;
      const until = Date.now() + 30_000;
      const poll = async (): Promise<void> => {
        const row = await db.selectFrom("jobs").select("status").where("input_name", "=", "early.jpg").executeTakeFirst();
        if (row?.status === "succeeded") return;
        if (Date.now() > until) throw new Error(`the first job is ${row?.status ?? "not queued"} while its request is open`);
        await new Promise((r) => setTimeout(r, 50));
        return poll();
      };
      poll().then(
        () => req.end(Buffer.concat([...file("late.jpg"), multipart.end]).subarray(`--${multipart.boundary}\r\n`.length)),
        (err: unknown) => {
          req.destroy();
          reject(err);
        },
      );
    });
    const { status, body } = await answer;
    expect(status).toBe(202);
    expect(body.jobs).toHaveLength(2);
    expect(body.jobs[0].status).toBe("succeeded");
    const late = await waitForEnd(body.jobs[1].url);
    expect(late).toMatchObject({ status: "succeeded", batchId: body.batchId, inputs: [{ name: "late.jpg" }] });
  });

  it("withdraws the jobs already queued when a later file of the batch is refused: no job, file or row is left", async () => {
    const res = await submit(srv.baseUrl, "convert", { format: "webp" }, [
      { bytes: photo, name: "withdrawn-1.jpg" },
      { bytes: photo, name: "withdrawn-2.jpg" },
      { bytes: Buffer.from("plain text, not a picture"), name: "withdrawn-3.jpg" },
    ]);
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe("unsupported_type");
    const rows = await srv.px.core.db.db.selectFrom("jobs").select("id").where("input_name", "like", "withdrawn-%").execute();
    expect(rows).toEqual([]);
    // A worker that had started one of them keeps none of its files either, once its run ends.
    for (let i = 0; i < 300 && srv.px.core.jobWorker.running > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect([...(await listBlobs(srv.px.blobs)).filter((k) => jobKeys.isInput(k)), ...(await listTemp(srv.dataDir))]).toEqual([]);
  });

  it("withdraws the jobs already queued when the client cuts the upload midway", async () => {
    const { port } = new URL(srv.baseUrl);
    const { db } = srv.px.core.db;
    const req = request({ host: "127.0.0.1", port, path: "/api/v1/jobs", method: "POST", headers: multipart.headers });
    req.on("error", () => undefined); // the connection is cut on purpose
    // The first file whole (and the next part begun, so it is known to have ended), then half of the second.
    req.write(Buffer.concat([multipart.field("tool", "convert"), multipart.field("params", JSON.stringify({ format: "png" })), multipart.fileHead("cut-1.jpg"), Buffer.from(photo), Buffer.from("\r\n"), multipart.fileHead("cut-2.jpg")]));
    req.write(Buffer.from(photo).subarray(0, photo.length >> 1));
    const until = Date.now() + 30_000;
    while (!(await db.selectFrom("jobs").select("id").where("input_name", "=", "cut-1.jpg").executeTakeFirst())) {
      if (Date.now() > until) throw new Error("the first file was never queued");
      await new Promise((r) => setTimeout(r, 20));
    }
    req.destroy();
    const left = async () => [
      ...(await db.selectFrom("jobs").select("input_name").where("input_name", "like", "cut-%").execute()).map((r) => r.input_name),
      ...(await listBlobs(srv.px.blobs)).filter((k) => jobKeys.isInput(k)),
      ...(await listTemp(srv.dataDir)),
    ];
    // The withdrawal, and the end of a run that had started (it keeps none of its files).
    for (let i = 0; i < 100 && ((await left()).length > 0 || srv.px.core.jobWorker.running > 0); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await left()).toEqual([]);
  });

  it("answers bad requests with clear errors and keeps nothing", async () => {
    const expectError = (res: { status: number; body: any }, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
    };
    expectError(await submit(srv.baseUrl, "no-such-tool", {}, [{ bytes: photo, name: "x.jpg" }]), 404, "unknown_tool");
    const bad = await submit(srv.baseUrl, "resize", { width: -3 }, [{ bytes: photo, name: "x.jpg" }]);
    expectError(bad, 400, "invalid_params");
    expect(bad.body.error.message).toMatch(/width/);
    expectError(await submit(srv.baseUrl, "convert", "{not json", [{ bytes: photo, name: "x.jpg" }]), 400, "invalid_params");
    expectError(await submit(srv.baseUrl, "convert", { format: "png", background: `#${"0".repeat(70_000)}` }, [{ bytes: photo, name: "x.jpg" }]), 413, "field_too_large");
    expectError(await submit(srv.baseUrl, "convert", { format: "png" }, [], { file: "not a file part" }), 400, "missing_file");
    // A setting the chosen format cannot honour is refused with the params, not by each job later.
    const unfit = await submit(srv.baseUrl, "convert", { format: "jpeg", lossless: true }, [{ bytes: photo, name: "x.jpg" }]);
    expectError(unfit, 400, "invalid_params");
    expect(unfit.body.error.message).toBe("lossless: JPEG cannot be lossless.");
    expectError(await submit(srv.baseUrl, "convert", { format: "webp" }, [{ bytes: Buffer.from("plain text, not a picture"), name: "x.jpg" }]), 415, "unsupported_type");
    expectError(await submit(srv.baseUrl, "convert", { format: "webp" }, []), 400, "missing_file");
    expect((await fetch(`${srv.baseUrl}/api/v1/jobs/AAAAAAAAAAA`)).status).toBe(404);
    // One file more than a batch takes: the batch's own limit, not the image upload's message.
    const tooMany = await submit(
      srv.baseUrl,
      "convert",
      { format: "webp" },
      Array.from({ length: srv.px.config.maxBatchFiles + 1 }, (_, i) => ({ bytes: photo, name: `${i}.jpg` })),
    );
    expectError(tooMany, 413, "too_many_files");
    expect(tooMany.body.error.message).toBe(`A batch takes at most ${srv.px.config.maxBatchFiles} files.`);
    // Jobs of the refused batch that had started stop at their next step; their work folders go with them.
    for (let i = 0; i < 300 && srv.px.core.jobWorker.running > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await listTemp(srv.dataDir)).toEqual([]);
    expect((await listBlobs(srv.px.blobs)).filter((k) => jobKeys.isInput(k))).toEqual([]);
  });
});
