import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { listBlobs, listTemp } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

describe("server", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.stop());

  it("answers /healthz", async () => {
    const res = await fetch(`${srv.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers /healthz with 503 when storage stops answering", async () => {
    const check = srv.px.blobs.check;
    srv.px.blobs.check = async () => {
      throw new Error("disk gone");
    };
    try {
      const res = await fetch(`${srv.baseUrl}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: { code: "unhealthy", message: expect.any(String) } });
    } finally {
      srv.px.blobs.check = check;
    }
  });

  it("serves pages under a strict Content-Security-Policy and isolation headers", async () => {
    const res = await fetch(`${srv.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(res.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("permissions-policy")).toContain("geolocation=()");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  it("publishes an OpenAPI document and a docs page generated from the routes", async () => {
    const doc = await (await fetch(`${srv.baseUrl}/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/images", "/api/v1/images/{id}", "/i/{id}/raw", "/healthz"]));
    const upload = doc.paths["/api/v1/images"].post;
    expect(upload.requestBody.content["multipart/form-data"].schema.properties.file).toMatchObject({ type: "string", format: "binary" });
    expect(Object.keys(upload.responses)).toEqual(expect.arrayContaining(["201", "413", "415", "422", "429"]));
    expect(doc.paths["/api/v1/images/{id}"].delete.parameters.map((p: { name: string }) => p.name)).toContain("x-delete-token");
    const docs = await fetch(`${srv.baseUrl}/docs/`, { redirect: "follow" });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("swagger");
  });

  it("compresses the app's text assets but never the images", async () => {
    const html = await fetch(`${srv.baseUrl}/`);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(await html.text())?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${srv.baseUrl}${script}`, { headers: { "accept-encoding": "br, gzip" } });
    expect(js.headers.get("content-encoding")).toBe("br");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const form = new FormData();
    form.append("file", new Blob([(await plainJpeg(800, 600)) as Uint8Array<ArrayBuffer>]), "a.jpg");
    const { rawUrl } = await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form })).json();
    const raw = await fetch(rawUrl, { headers: { "accept-encoding": "br, gzip" } });
    expect(raw.headers.get("content-encoding")).toBeNull();
  });

  it("answers unknown routes with the JSON error shape", async () => {
    const res = await fetch(`${srv.baseUrl}/api/v1/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: expect.any(String) } });
  });
});

describe("graceful shutdown", () => {
  it("lets an in-flight upload finish, then stops", async () => {
    const srv = await startTestServer();
    const jpeg = await plainJpeg(640, 480, 3);
    const head = Buffer.from('--B\r\ncontent-disposition: form-data; name="file"; filename="slow.jpg"\r\ncontent-type: image/jpeg\r\n\r\n');
    const tail = Buffer.from("\r\n--B--\r\n");
    const body = Buffer.concat([head, jpeg, tail]);
    const reply = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${srv.baseUrl}/api/v1/images`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=B", "content-length": body.length } }, (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      req.write(body.subarray(0, 2000));
      setTimeout(() => req.end(body.subarray(2000)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const closing = srv.px.close();
    const res = await reply;
    expect(res.status).toBe(201);
    await closing;
    expect(await listTemp(srv.dataDir)).toEqual([]);
    expect(await listBlobs(srv.px.blobs)).toHaveLength(2);
    const { rm } = await import("node:fs/promises");
    await rm(srv.dataDir, { recursive: true, force: true });
  });
});
