import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";

/** Noise compresses badly, so a small picture still makes a body of tens of kilobytes. */
async function noisyJpeg(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}
import { listTemp, upload } from "../helpers/http.js";
import { openRaw, rawExchange, waitForReply } from "../helpers/raw.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const WINDOW_MS = 1500;
const MIN_RATE = 500; // bytes per second: 750 bytes per window

const partHead = Buffer.from('--B\r\ncontent-disposition: form-data; name="file"; filename="a.jpg"\r\ncontent-type: image/jpeg\r\n\r\n');
const partTail = Buffer.from("\r\n--B--\r\n");

function uploadHead(length: number): string {
  return `POST /api/v1/images HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: ${length}\r\n\r\n`;
}

/** Starts an upload of `jpeg` on a raw connection and sends the first `first` bytes of its body. */
async function startUpload(port: number, jpeg: Buffer, first: number) {
  const body = Buffer.concat([partHead, jpeg, partTail]);
  const conn = openRaw(port);
  await new Promise<void>((resolve) => conn.socket.once("connect", () => resolve()));
  conn.socket.write(uploadHead(body.length));
  conn.socket.write(body.subarray(0, first));
  return { ...conn, body };
}

/** Writes `bytes` in slices of `size` every `everyMs`, until done or the connection ends. */
async function trickle(socket: Socket, bytes: Buffer, size: number, everyMs: number, received: () => string): Promise<void> {
  for (let at = 0; at < bytes.length && !socket.destroyed && socket.writable && received() === ""; at += size) {
    socket.write(bytes.subarray(at, at + size));
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function waitForNoTemp(dataDir: string): Promise<string[]> {
  for (let i = 0; i < 100 && (await listTemp(dataDir)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  return listTemp(dataDir);
}

describe("slow uploads", () => {
  let srv: TestServer;
  let port: number;
  beforeAll(async () => {
    srv = await startTestServer({ config: { uploadIdleTimeoutMs: WINDOW_MS, uploadMinBytesPerSecond: MIN_RATE } });
    port = Number(new URL(srv.baseUrl).port);
  });
  afterAll(() => srv.stop());

  it("a body trickling one byte at a time is cut with 408 request_timeout and leaves no temp file", async () => {
    const jpeg = await noisyJpeg(200, 200);
    const up = await startUpload(port, jpeg, partHead.length + 2000);
    const started = Date.now();
    const sending = trickle(up.socket, up.body.subarray(partHead.length + 2000), 1, 200, up.received);
    const reply = await waitForReply(up.received, 15_000);
    const took = Date.now() - started;
    expect(reply.status, reply.text).toBe(408);
    expect(reply.body).toEqual({ error: { code: "request_timeout", message: expect.any(String) } });
    expect(reply.headers.connection).toBe("close");
    expect(took).toBeLessThan(WINDOW_MS * 2 + 3000); // cut within about one window
    await sending;
    up.socket.destroy();
    expect(await waitForNoTemp(srv.dataDir)).toEqual([]);
  });

  it("a body stalled after its file part is cut with 408 too, and the file is not kept", async () => {
    const jpeg = await plainJpeg(64, 64, 9);
    // The file part ends and another part begins, but the body never ends.
    const body = Buffer.concat([partHead, jpeg, Buffer.from('\r\n--B\r\ncontent-disposition: form-data; name="title"\r\n\r\nhel')]);
    const up = openRaw(port);
    await new Promise<void>((resolve) => up.socket.once("connect", () => resolve()));
    up.socket.write(uploadHead(body.length + 100));
    up.socket.write(body);
    const reply = await waitForReply(up.received, 15_000);
    expect(reply.status, reply.text).toBe(408);
    expect(reply.body.error.code).toBe("request_timeout");
    up.socket.destroy();
    expect(await waitForNoTemp(srv.dataDir)).toEqual([]);
    expect(await srv.px.db.db.selectFrom("images").select("id").execute()).toEqual([]);
  });

  it("a body stalled before its file part begins is cut with 408 too", async () => {
    const up = await startUpload(port, await plainJpeg(64, 64), 10);
    const reply = await waitForReply(up.received, 15_000);
    expect(reply.status, reply.text).toBe(408);
    expect(reply.body.error.code).toBe("request_timeout");
    up.socket.destroy();
    expect(await waitForNoTemp(srv.dataDir)).toEqual([]);
  });

  it("a steady upload slower than the window but above the minimum rate succeeds", async () => {
    const jpeg = await noisyJpeg(200, 200);
    expect(jpeg.length).toBeGreaterThan(30_000);
    const up = await startUpload(port, jpeg, 0);
    const started = Date.now();
    await trickle(up.socket, up.body, 1000, 100, up.received); // about 10 kB/s, twenty times the minimum
    const reply = await waitForReply(up.received, 15_000);
    expect(reply.status, reply.text).toBe(201);
    expect(Date.now() - started).toBeGreaterThan(WINDOW_MS * 2); // it did span several windows
    up.socket.destroy();
  });
});

describe("MAX_PENDING_UPLOADS", () => {
  let srv: TestServer;
  let port: number;
  beforeAll(async () => {
    // The default window (30 s) keeps the held uploads from being cut while the test runs.
    srv = await startTestServer({ config: { maxPendingUploads: 2 } });
    port = Number(new URL(srv.baseUrl).port);
  });
  afterAll(() => srv.stop());

  it("past MAX_PENDING_UPLOADS an upload answers 503 busy with Retry-After; a finished one frees its place", async () => {
    const jpeg = await plainJpeg(320, 240, 2);
    const held = [await startUpload(port, jpeg, partHead.length + 500), await startUpload(port, jpeg, partHead.length + 500)];
    await new Promise((r) => setTimeout(r, 200));
    const body = Buffer.concat([partHead, jpeg, partTail]);
    const refused = await rawExchange(port, Buffer.concat([Buffer.from(uploadHead(body.length)), body]));
    expect(refused.status, refused.text).toBe(503);
    expect(refused.body).toEqual({ error: { code: "busy", message: expect.any(String) } });
    expect(refused.headers["retry-after"]).toBe("10");
    held[0]!.socket.write(held[0]!.body.subarray(partHead.length + 500));
    const done = await waitForReply(held[0]!.received, 15_000);
    expect(done.status, done.text).toBe(201);
    expect((await upload(srv.baseUrl, jpeg)).status).toBe(201);
    held[1]!.socket.destroy();
    expect(await waitForNoTemp(srv.dataDir)).toEqual([]);
  });
});

describe("REQUEST_TIMEOUT", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ config: { requestTimeoutMs: 1500 } });
  });
  afterAll(() => srv.stop());

  it("a request whose headers never finish answers 408 request_timeout in the error shape", async () => {
    const reply = await rawExchange(Number(new URL(srv.baseUrl).port), "GET /healthz HTTP/1.1\r\nHost: a\r\n", { waitMs: 15_000 });
    expect(reply.status, reply.text).toBe(408);
    expect(reply.body).toEqual({ error: { code: "request_timeout", message: expect.any(String) } });
    expect(reply.headers.connection).toBe("close");
  });
});
