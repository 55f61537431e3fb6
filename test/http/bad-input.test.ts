import { request } from "node:http";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { plainJpeg, pngClaiming } from "../fixtures/images.js";
import { describeEachDialect, listBlobs, listTemp, upload } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
const MAX_PIXELS = 4_000_000;

function formWith(bytes: Uint8Array, name: string): FormData {
  const form = new FormData();
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), name);
  return form;
}

function expectError(res: { status: number; body: any }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
}

/** Sends a hand-made request body, for multipart that fetch would never produce. */
function rawPost(baseUrl: string, contentType: string, body: Buffer, endEarly = false): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/api/v1/images`, { method: "POST", headers: { "content-type": contentType, ...(endEarly ? {} : { "content-length": body.length }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || "null") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describeEachDialect("bad input", (dialect) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ dialect, config: { maxUploadBytes: MAX_UPLOAD_BYTES, maxPixels: MAX_PIXELS, maxAnimationPixels: MAX_PIXELS * 2 } });
  });
  afterAll(() => srv.stop());

  // Whatever the failure, nothing of it may remain.
  afterEach(async () => {
    expect(await listTemp(srv.dataDir)).toEqual([]);
    const rows = await srv.px.db.db.selectFrom("images").select("id").execute();
    const blobs = await listBlobs(srv.px.blobs);
    expect(blobs).toHaveLength(rows.length * 2);
    expect((await fetch(`${srv.baseUrl}/healthz`)).status).toBe(200);
  });

  it("an empty file answers 400 empty_file", async () => {
    expectError(await upload(srv.baseUrl, new Uint8Array(0)), 400, "empty_file");
  });

  it("text, HTML and SVG answer 415 unsupported_type", async () => {
    expectError(await upload(srv.baseUrl, Buffer.from("hello, world\n".repeat(10)), "notes.txt"), 415, "unsupported_type");
    expectError(await upload(srv.baseUrl, Buffer.from("<!doctype html><script>alert(1)</script>"), "x.jpg"), 415, "unsupported_type");
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>';
    expectError(await upload(srv.baseUrl, Buffer.from(svg), "image.svg"), 415, "unsupported_type");
    expectError(await upload(srv.baseUrl, Buffer.from("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n", "latin1"), "doc.jpg"), 415, "unsupported_type");
  });

  it("a file over MAX_UPLOAD_BYTES answers 413 while streaming", async () => {
    const big = Buffer.concat([await plainJpeg(64, 64), Buffer.alloc(MAX_UPLOAD_BYTES + 1024, 7)]);
    expectError(await upload(srv.baseUrl, big), 413, "payload_too_large");
  });

  it("an image with more than MAX_PIXELS answers 413 from its header, before decoding", async () => {
    expectError(await upload(srv.baseUrl, pngClaiming(3000, 2000), "big.png"), 413, "too_many_pixels");
    expectError(await upload(srv.baseUrl, pngClaiming(60_000, 60_000), "bomb.png"), 413, "too_many_pixels");
  });

  it("truncated and corrupt images answer 422 invalid_image", async () => {
    const jpeg = await plainJpeg(800, 600);
    expectError(await upload(srv.baseUrl, jpeg.subarray(0, Math.floor(jpeg.length / 2))), 422, "invalid_image");
    expectError(await upload(srv.baseUrl, jpeg.subarray(0, 200)), 422, "invalid_image");
    const garbled = Buffer.from(jpeg);
    garbled.fill(0xff, 700, 2000);
    const res = await upload(srv.baseUrl, garbled);
    expect([201, 422]).toContain(res.status); // libjpeg may recover from a garbled scan; it must never crash
    const png = pngClaiming(100, 100); // a header with far too little pixel data
    expectError(await upload(srv.baseUrl, png, "short.png"), 422, "invalid_image");
  });

  it("a missing file field, a non-multipart body and malformed multipart answer 400", async () => {
    expectError(await upload(srv.baseUrl, await plainJpeg(), "a.jpg", "image"), 400, "missing_file");
    const json = await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expectError({ status: json.status, body: await json.json() }, 400, "expected_multipart");
    const noBoundary = await rawPost(srv.baseUrl, "multipart/form-data", Buffer.from("garbage"));
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.body.error.code).toEqual(expect.any(String));
    const jpeg = await plainJpeg();
    const cut = Buffer.concat([
      Buffer.from('--XyZ\r\ncontent-disposition: form-data; name="file"; filename="a.jpg"\r\ncontent-type: image/jpeg\r\n\r\n'),
      jpeg.subarray(0, 1000),
    ]);
    expectError(await rawPost(srv.baseUrl, "multipart/form-data; boundary=XyZ", cut), 400, "malformed_multipart");
    const onlyField = Buffer.from('--XyZ\r\ncontent-disposition: form-data; name="title"\r\n\r\nhello\r\n--XyZ--\r\n');
    expectError(await rawPost(srv.baseUrl, "multipart/form-data; boundary=XyZ", onlyField), 400, "missing_file");
  });

  it("two files in one upload answer 400 too_many_files, and neither is kept", async () => {
    const form = new FormData();
    form.append("file", new Blob([(await plainJpeg(64, 48, 1)) as Uint8Array<ArrayBuffer>]), "one.jpg");
    form.append("file", new Blob([(await plainJpeg(64, 48, 2)) as Uint8Array<ArrayBuffer>]), "two.jpg");
    const res = await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form });
    expectError({ status: res.status, body: await res.json() }, 400, "too_many_files");
    const rows = await srv.px.db.db.selectFrom("images").select("original_name").where("original_name", "in", ["one.jpg", "two.jpg"]).execute();
    expect(rows).toEqual([]);
    // Fields after the file are read and ignored, as before.
    const withField = new FormData();
    withField.append("file", new Blob([(await plainJpeg(64, 48, 3)) as Uint8Array<ArrayBuffer>]), "three.jpg");
    withField.append("title", "ignored");
    expect((await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: withField })).status).toBe(201);
  });

  it.each([
    { failure: "a full disk", code: "ENOSPC", status: 507, answer: "storage_full", retryAfter: "600" },
    { failure: "an unreachable blob store", code: "ECONNREFUSED", status: 503, answer: "unavailable", retryAfter: "30" },
  ])("$failure answers $status $answer with Retry-After, for an image and for a tool's files, and keeps nothing", async ({ code, status, answer, retryAfter }) => {
    const blobs = srv.px.blobs;
    const putFile = blobs.putFile.bind(blobs);
    blobs.putFile = async () => {
      throw Object.assign(new Error(`${code}: the storage failed`), { code });
    };
    try {
      const image = await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: formWith(await plainJpeg(64, 48, 6), "full.jpg") });
      expect(image.status).toBe(status);
      expect(image.headers.get("retry-after")).toBe(retryAfter);
      expect(await image.json()).toEqual({ error: { code: answer, message: expect.any(String) } });
      const jobForm = formWith(await plainJpeg(64, 48, 7), "full-job.jpg");
      jobForm.set("tool", "strip");
      const job = await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: jobForm });
      expect(job.status).toBe(status);
      expect((await job.json()).error.code).toBe(answer);
      expect(await srv.px.db.db.selectFrom("jobs").select("id").where("input_name", "=", "full-job.jpg").execute()).toEqual([]);
    } finally {
      blobs.putFile = putFile;
    }
  });

  it("an upload the client abandons midway leaves nothing behind", async () => {
    const jpeg = await plainJpeg(800, 600, 5);
    const head = Buffer.from('--B\r\ncontent-disposition: form-data; name="file"; filename="a.jpg"\r\ncontent-type: image/jpeg\r\n\r\n');
    await new Promise<void>((resolve) => {
      const req = request(`${srv.baseUrl}/api/v1/images`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=B", "content-length": head.length + jpeg.length + 10 } });
      req.on("error", () => resolve());
      req.write(Buffer.concat([head, jpeg.subarray(0, 4000)]), () => setTimeout(() => req.destroy(), 50));
      req.on("close", () => resolve());
    });
    // The server notices the broken connection asynchronously.
    for (let i = 0; i < 100 && (await listTemp(srv.dataDir)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  });

  it("hostile file names are accepted and stored sanitised", async () => {
    const names = ["../../etc/passwd", "..\\..\\windows\\system32\\a.jpg", "a\u0000b\r\nc\u202Egpj.exe", "x".repeat(10_000) + ".jpg", "/"];
    for (const [i, name] of names.entries()) {
      const res = await upload(srv.baseUrl, await plainJpeg(64, 64, i), name);
      expect(res.status).toBe(201);
      const row = await srv.px.db.db.selectFrom("images").select("original_name").where("id", "=", res.body.id).executeTakeFirstOrThrow();
      expect(row.original_name!.length).toBeLessThanOrEqual(120);
      expect(row.original_name).not.toMatch(/[/\\\u0000-\u001f\u202e]/);
    }
  });
});
