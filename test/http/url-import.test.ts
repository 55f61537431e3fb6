import type http from "node:http";
import exifr from "exifr";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config.js";
import { parseAllowList } from "../../src/net/address-policy.js";
import { jpegWithMetadata, SECRETS } from "../fixtures/metadata.js";
import { getBytes, listBlobs, listTemp } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { type LocalServer, startLocalServer } from "../net/local-server.js";

// The image sources are servers this file starts on loopback; no request leaves this host.

const LIMIT = 300_000;

const urlImport = (allow: string, extra: Partial<Config["urlImport"]> = {}): Config["urlImport"] => ({
  enabled: true,
  timeoutMs: 5_000,
  allowList: parseAllowList(allow),
  ...extra,
});

const sources: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
});

async function source(handler: http.RequestListener, host?: string): Promise<LocalServer> {
  const server = await startLocalServer(handler, host);
  sources.push(server);
  return server;
}

async function importUrl(baseUrl: string, url: string, as: "multipart" | "json" = "multipart") {
  const form = new FormData();
  form.append("url", url);
  const init: RequestInit = as === "json" ? { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url }) } : { method: "POST", body: form };
  const res = await fetch(`${baseUrl}/api/v1/images`, init);
  return { status: res.status, body: (await res.json()) as any };
}

/** Nothing kept: no blob, no row, no temp file. */
async function expectNothingStored(srv: TestServer): Promise<void> {
  expect(await listBlobs(srv.px.blobs)).toEqual([]);
  expect(await srv.px.db.db.selectFrom("images").select("id").execute()).toEqual([]);
  expect(await listTemp(srv.dataDir)).toEqual([]);
}

describe("import by URL with the loopback test server allowed", () => {
  let srv: TestServer;
  let photo: Uint8Array;
  beforeAll(async () => {
    srv = await startTestServer({ config: { maxUploadBytes: LIMIT, urlImport: urlImport("127.0.0.1/32", { timeoutMs: 1_500 }) } });
    photo = await jpegWithMetadata({ width: 320, height: 240 });
  });
  afterAll(() => srv.stop());

  it("(a) stores the fetched image without its metadata, named after the URL", async () => {
    const src = await source((_req, res) => res.writeHead(200, { "content-type": "image/jpeg" }).end(photo));
    const res = await importUrl(srv.baseUrl, `${src.origin}/holiday/IMG_0042.jpg`);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ width: 320, height: 240, mime: "image/jpeg" });
    const stored = (await getBytes(res.body.rawUrl)).bytes;
    const tags = await exifr.parse(stored, { gps: true, tiff: true, xmp: true }).catch(() => undefined);
    expect(tags?.latitude).toBeUndefined();
    expect(tags?.Make).toBeUndefined();
    expect(stored.toString("latin1")).not.toContain(SECRETS.serial);
    const row = await srv.px.db.db.selectFrom("images").select("original_name").where("id", "=", res.body.id).executeTakeFirstOrThrow();
    expect(row.original_name).toBe("IMG_0042.jpg");
    expect(src.requests[0]!.headers["user-agent"]).toMatch(/^Pixhaven\/\d+\.\d+\.\d+ \(\+url import\)$/);
    expect(src.requests[0]!.headers.cookie).toBeUndefined();
  });

  it("documents the url field in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${srv.baseUrl}/openapi.json`)).json()) as any;
    const body = doc.paths["/api/v1/images"].post.requestBody.content;
    expect(body["multipart/form-data"].schema.properties.url.type).toBe("string");
    expect(body["application/json"].schema.required).toEqual(["url"]);
  });

  it("accepts the URL as a JSON body too", async () => {
    const src = await source((_req, res) => res.end(photo));
    const res = await importUrl(srv.baseUrl, `${src.origin}/p.jpg`, "json");
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });

  it("(d) refuses a redirect to a loopback address outside the allow list, without connecting to it", async () => {
    const inner = await source((_req, res) => res.end(photo), "127.0.0.2");
    const outer = await source((_req, res) => res.writeHead(302, { location: `http://127.0.0.2:${inner.port}/p.jpg` }).end());
    const res = await importUrl(srv.baseUrl, `${outer.origin}/`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden_address");
    expect(outer.requests).toHaveLength(1);
    expect(inner.connections).toBe(0);
  });

  it("(d) refuses a redirect to [::1] the same way", async () => {
    const outer = await source((_req, res) => res.writeHead(301, { location: `http://[::1]:${outer.port}/p.jpg` }).end());
    const res = await importUrl(srv.baseUrl, `${outer.origin}/`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden_address");
    expect(outer.connections).toBe(1);
  });

  it("(e) follows three redirects and refuses a fourth with 502 fetch_failed", async () => {
    const chain = (hops: number) =>
      source((req, res) => {
        const n = Number(req.url!.slice(1));
        if (n < hops) res.writeHead(302, { location: `/${n + 1}` }).end();
        else res.end(photo);
      });
    expect((await importUrl(srv.baseUrl, `${(await chain(3)).origin}/0`)).status).toBe(201);
    const tooMany = await chain(4);
    const res = await importUrl(srv.baseUrl, `${tooMany.origin}/0`);
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("fetch_failed");
    expect(tooMany.requests).toHaveLength(4);
  });

  describe("failures store nothing", () => {
    let before: string[];
    beforeAll(async () => {
      before = await listBlobs(srv.px.blobs);
    });
    const expectNoNewBlobs = async () => {
      expect(await listBlobs(srv.px.blobs)).toEqual(before);
      expect(await listTemp(srv.dataDir)).toEqual([]);
    };

    it("(f) cuts a body over the upload limit with 413, dropping the connection early", async () => {
      let written = 0;
      let finished!: (complete: boolean) => void;
      const closed = new Promise<boolean>((resolve) => (finished = resolve));
      const src = await source(async (_req, res) => {
        res.on("close", () => finished(res.writableFinished));
        const chunk = Buffer.alloc(64 * 1024, 0xff);
        while (!res.destroyed && written < 200 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) await new Promise<void>((r) => setTimeout(r, 5));
        }
        res.end();
      });
      const res = await importUrl(srv.baseUrl, `${src.origin}/huge.jpg`);
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("payload_too_large");
      expect(await closed).toBe(false);
      expect(written).toBeLessThan(32 * 1024 * 1024);
      await expectNoNewBlobs();
    });

    it("(f) refuses a declared Content-Length over the limit with 413", async () => {
      const src = await source((_req, res) => res.writeHead(200, { "content-length": String(LIMIT + 1) }).end(Buffer.alloc(LIMIT + 1)));
      const res = await importUrl(srv.baseUrl, `${src.origin}/big.jpg`);
      expect(res.status).toBe(413);
      await expectNoNewBlobs();
    });

    it("(g) answers 504 fetch_timeout for a source that stalls", async () => {
      const src = await source((_req, res) => res.writeHead(200, { "content-length": "100000" }).write(photo.subarray(0, 100)));
      const started = Date.now();
      const res = await importUrl(srv.baseUrl, `${src.origin}/slow.jpg`);
      expect(res.status).toBe(504);
      expect(res.body.error.code).toBe("fetch_timeout");
      expect(Date.now() - started).toBeLessThan(5_000);
      await expectNoNewBlobs();
    });

    it("answers 502 fetch_failed for a 404 source", async () => {
      const src = await source((_req, res) => res.writeHead(404).end("gone"));
      const res = await importUrl(srv.baseUrl, `${src.origin}/missing.jpg`);
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe("fetch_failed");
      await expectNoNewBlobs();
    });

    it("decides the type from the bytes: a page is not an image", async () => {
      const src = await source((_req, res) => res.writeHead(200, { "content-type": "image/jpeg" }).end("<html>not an image</html>"));
      const res = await importUrl(srv.baseUrl, `${src.origin}/fake.jpg`);
      expect(res.status).toBe(415);
      await expectNoNewBlobs();
    });

    it.each(["ftp://127.0.0.1/a.jpg", "not a url", "http://user:secret@127.0.0.1/a.jpg"])("answers 400 invalid_url for %s", async (url) => {
      const res = await importUrl(srv.baseUrl, url);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_url");
    });

    it("answers 400 for a JSON body without a URL string", async () => {
      const post = async (body: unknown) => {
        const res = await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        return { status: res.status, code: ((await res.json()) as any).error.code };
      };
      expect(await post({ url: 42 })).toEqual({ status: 400, code: "invalid_url" });
      expect(await post({ link: "x" })).toEqual({ status: 400, code: "expected_multipart" });
    });

    it("answers 400 invalid_url for a multipart url field longer than a field may be", async () => {
      const res = await importUrl(srv.baseUrl, `http://127.0.0.1/${"a".repeat(2000)}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_url");
    });
  });
});

describe("import by URL with the default policy", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ config: { urlImport: urlImport("") } });
  });
  afterAll(() => srv.stop());

  it.each(["ORIGIN/p.jpg", "http://2130706433:PORT/p.jpg", "http://0x7f.1:PORT/p.jpg", "http://[::ffff:127.0.0.1]:PORT/p.jpg"])(
    "(b) refuses %s with 403 forbidden_address, never connecting",
    async (template) => {
      const src = await source((_req, res) => res.end("secret"));
      const res = await importUrl(srv.baseUrl, template.replace("ORIGIN", src.origin).replace("PORT", String(src.port)));
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden_address");
      expect(src.connections).toBe(0);
      await expectNothingStored(srv);
    },
  );
});

describe("import by URL switched off", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ config: { urlImport: urlImport("127.0.0.1/32", { enabled: false }) } });
  });
  afterAll(() => srv.stop());

  it("(h) answers 403 url_import_disabled and fetches nothing", async () => {
    const src = await source((_req, res) => res.end("x"));
    for (const as of ["multipart", "json"] as const) {
      const res = await importUrl(srv.baseUrl, `${src.origin}/p.jpg`, as);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("url_import_disabled");
    }
    expect(src.connections).toBe(0);
    await expectNothingStored(srv);
  });
});
