import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { openRaw, type RawReply, rawExchange, waitForReply } from "../helpers/raw.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const NOT_FOUND = { error: { code: "not_found", message: "Nothing was found at this address." } };

function expectShape(reply: RawReply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers["content-type"]).toMatch(/^application\/json/);
  expect(reply.body).toEqual({ error: { code, message: expect.any(String) } });
}

/** Every answer with a body, framework and Node parser answers included, has the one error shape. */
describe("error shape at the framework and connection level", () => {
  let srv: TestServer;
  let port: number;
  let webDir: string;
  beforeAll(async () => {
    webDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-web-"));
    await fs.mkdir(path.join(webDir, "assets"));
    await fs.writeFile(path.join(webDir, "index.html"), "<!doctype html><html><head></head><body></body></html>");
    await fs.writeFile(path.join(webDir, "assets", "app.js"), "console.log(1)");
    srv = await startTestServer({ config: { webDir } });
    port = Number(new URL(srv.baseUrl).port);
  });
  afterAll(async () => {
    await srv.stop();
    await fs.rm(webDir, { recursive: true, force: true });
  });

  it("Transfer-Encoding together with Content-Length answers 400 bad_request and closes", async () => {
    const reply = await rawExchange(port, "POST /api/v1/images HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    expectShape(reply, 400, "bad_request");
    expect(reply.headers.connection).toBe("close");
  });

  it("a malformed chunk size answers 400 bad_request", async () => {
    const reply = await rawExchange(port, "POST /api/v1/images HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=B\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n");
    expectShape(reply, 400, "bad_request");
  });

  it("a body shorter than its Content-Length answers in the error shape", async () => {
    const reply = await rawExchange(port, "POST /api/v1/images HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 500\r\n\r\n--B\r\n", { end: true });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  });

  it("headers over Node's limit answer 431 headers_too_large", async () => {
    const reply = await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expectShape(reply, 431, "headers_too_large");
    expect(reply.headers.connection).toBe("close");
  });

  it("a literal .. in a path answers the one 404 body", async () => {
    expect((await rawExchange(port, "GET /assets/app.js HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).status).toBe(200);
    for (const target of ["/../package.json", "/assets/../../package.json", "/assets/..%2f..%2fpackage.json", "/%2e%2e/package.json", "/i/%E0%A4%A"]) {
      const reply = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      expect(reply.status, target).toBe(404);
      expect(reply.body, target).toEqual(NOT_FOUND);
    }
  });

  it("an unrouted method answers the one 404 body", async () => {
    const reply = await rawExchange(port, "PATCH /api/v1/images HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual(NOT_FOUND);
  });

  it("an unaccepted Content-Type answers 415 and a body over the JSON limit answers 413", async () => {
    const xml = "<a/>";
    expectShape(await rawExchange(port, `DELETE /api/v1/images/AAAAAAAAAAA HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: text/xml\r\nContent-Length: ${xml.length}\r\n\r\n${xml}`), 415, "unsupported_media_type");
    const big = 2 * 1024 * 1024;
    expectShape(await rawExchange(port, `DELETE /api/v1/images/AAAAAAAAAAA HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${big}\r\n\r\n{`), 413, "payload_too_large");
  });

  it("a request arriving while the server closes answers 503 shutting_down", async () => {
    // An upload in flight holds the close open; a request pipelined behind it arrives while closing.
    const jpeg = await plainJpeg(64, 64);
    const head = Buffer.from('--B\r\ncontent-disposition: form-data; name="file"; filename="a.jpg"\r\ncontent-type: image/jpeg\r\n\r\n');
    const body = Buffer.concat([head, jpeg, Buffer.from("\r\n--B--\r\n")]);
    const conn = openRaw(port);
    await new Promise<void>((resolve) => conn.socket.once("connect", () => resolve()));
    conn.socket.write(`POST /api/v1/images HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: ${body.length}\r\n\r\n`);
    conn.socket.write(body.subarray(0, 100));
    await new Promise((r) => setTimeout(r, 200));
    const closing = srv.px.close();
    await new Promise((r) => setTimeout(r, 200));
    conn.socket.write(Buffer.concat([body.subarray(100), Buffer.from("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")]));
    await conn.closed;
    await closing;
    const text = conn.received();
    const second = text.indexOf("HTTP/1.1", 1);
    expect(text.slice(0, 12), text).toBe("HTTP/1.1 201");
    expect(second, text).toBeGreaterThan(0);
    const reply = await waitForReply(() => text.slice(second), 1000);
    expectShape(reply, 503, "shutting_down");
    expect(reply.headers["retry-after"]).toBe("5");
  });
});
