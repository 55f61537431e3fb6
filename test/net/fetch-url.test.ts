import type http from "node:http";
import { buffer } from "node:stream/consumers";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/common/errors.js";
import { parseAllowList } from "../../src/net/address-policy.js";
import { type FetchUrlOptions, fetchUrl, type Resolve } from "../../src/net/fetch-url.js";
import { type LocalServer, startLocalServer } from "./local-server.js";

// Every server here listens on loopback, and every resolver is a stub: no test reaches DNS or
// any address beyond this host.

const servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: http.RequestListener, host?: string): Promise<LocalServer> {
  const server = await startLocalServer(handler, host);
  servers.push(server);
  return server;
}

/** Fails the test if anything asks for a name to be resolved. */
const noDns: Resolve = async (host) => {
  throw new Error(`unexpected lookup of ${host}`);
};

const options = (extra: Partial<FetchUrlOptions> = {}): FetchUrlOptions => ({
  maxBytes: 1_000_000,
  timeoutMs: 5_000,
  allowList: parseAllowList("127.0.0.1/32"),
  userAgent: "Pixhaven/test (+url import)",
  resolve: noDns,
  ...extra,
});

function drainOrClose(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

async function failure(work: Promise<unknown>): Promise<{ code: string; status: number }> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return { code: (err as AppError).code, status: (err as AppError).status };
}

const fetchAll = async (url: string, opts: FetchUrlOptions) => {
  const fetched = await fetchUrl(url, opts);
  return { ...fetched, bytes: await buffer(fetched.stream) };
};

describe("fetching from an allowed address", () => {
  it("returns the body, its length and file name, and sends only the fixed headers", async () => {
    const server = await serve((_req, res) => {
      res.setHeader("content-disposition", `attachment; filename="fallback.png"; filename*=UTF-8''caf%C3%A9.png`);
      res.end("hello");
    });
    const got = await fetchAll(`${server.origin}/dir/x.png?q=1`, options());
    expect(got.bytes.toString()).toBe("hello");
    expect(got.filename).toBe("café.png");
    expect(got.contentLength).toBe(5);
    const req = server.requests[0]!;
    expect(req.url).toBe("/dir/x.png?q=1");
    expect(req.headers["user-agent"]).toBe("Pixhaven/test (+url import)");
    expect(req.headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(req.headers.cookie).toBeUndefined();
    expect(req.headers.authorization).toBeUndefined();
    expect(req.headers["accept-encoding"]).toBe("identity");
  });

  it("connects to an allowed IPv6 address", async () => {
    const server = await serve((_req, res) => res.end("over v6"), "::1");
    const got = await fetchAll(`${server.origin}/`, options({ allowList: parseAllowList("::1/128") }));
    expect(got.bytes.toString()).toBe("over v6");
    expect(server.requests[0]!.headers.host).toBe(`[::1]:${server.port}`);
  });

  it("names the file after the last path segment without Content-Disposition", async () => {
    const server = await serve((_req, res) => res.end("x"));
    expect((await fetchAll(`${server.origin}/a/b/my%20photo.jpg`, options())).filename).toBe("my photo.jpg");
    expect((await fetchAll(`${server.origin}/`, options())).filename).toBeUndefined();
  });
});

describe("refused addresses are never connected to", () => {
  it("refuses loopback without the allow list", async () => {
    const server = await serve((_req, res) => res.end("secret"));
    expect(await failure(fetchUrl(`${server.origin}/`, options({ allowList: [] })))).toEqual({ code: "forbidden_address", status: 403 });
    expect(server.connections).toBe(0);
  });

  it.each(["http://2130706433:PORT/", "http://0177.0.0.1:PORT/", "http://0x7f.1:PORT/", "http://127.1:PORT/", "http://127.0.0.1.:PORT/", "http://[::ffff:127.0.0.1]:PORT/"])(
    "refuses the spelling %s",
    async (spelling) => {
      const server = await serve((_req, res) => res.end("secret"));
      const url = spelling.replace("PORT", String(server.port));
      expect(await failure(fetchUrl(url, options({ allowList: [] })))).toEqual({ code: "forbidden_address", status: 403 });
      expect(server.connections).toBe(0);
    },
  );

  it("refuses a name that resolves to loopback, asking the resolver once", async () => {
    const server = await serve((_req, res) => res.end("secret"));
    const asked: string[] = [];
    const resolve: Resolve = async (host) => (asked.push(host), ["127.0.0.1"]);
    expect(await failure(fetchUrl(`http://evil.test:${server.port}/`, options({ allowList: [], resolve })))).toEqual({ code: "forbidden_address", status: 403 });
    expect(asked).toEqual(["evil.test"]);
    expect(server.connections).toBe(0);
  });

  it("refuses a name with any forbidden address among its answers", async () => {
    const server = await serve((_req, res) => res.end("secret"));
    const resolve: Resolve = async () => ["127.0.0.1", "10.0.0.1"];
    expect(await failure(fetchUrl(`http://mixed.test:${server.port}/`, options({ resolve })))).toEqual({ code: "forbidden_address", status: 403 });
    expect(server.connections).toBe(0);
  });

  it("connects to the address it checked, whatever the name resolves to later (rebinding)", async () => {
    const server = await serve((_req, res) => res.end("pinned"));
    const answers = [["127.0.0.1"], ["127.0.0.3"]]; // a second lookup would land on nothing
    const resolve: Resolve = async () => answers.shift()!;
    const got = await fetchAll(`http://rebind.test:${server.port}/`, options({ resolve }));
    expect(got.bytes.toString()).toBe("pinned");
    expect(answers).toHaveLength(1); // asked once
    expect(server.requests[0]!.headers.host).toBe(`rebind.test:${server.port}`);
  });

  it("refuses a redirect to a forbidden address before connecting to it", async () => {
    const inner = await serve((_req, res) => res.end("internal"), "127.0.0.2");
    const outer = await serve((_req, res) => res.writeHead(302, { location: `http://127.0.0.2:${inner.port}/admin` }).end());
    expect(await failure(fetchUrl(`${outer.origin}/`, options()))).toEqual({ code: "forbidden_address", status: 403 });
    expect(outer.requests).toHaveLength(1);
    expect(inner.connections).toBe(0);
  });

  it.each(["http://[::1]:PORT/", "http://0x7f.0.0.2:PORT/", "http://localhost:PORT/", "http://[::ffff:127.0.0.2]:PORT/"])(
    "refuses a redirect to %s",
    async (target) => {
      const inner = await serve((_req, res) => res.end("internal"), "127.0.0.2");
      const resolve: Resolve = async () => ["127.0.0.2"];
      const outer = await serve((_req, res) => res.writeHead(307, { location: target.replace("PORT", String(inner.port)) }).end());
      expect(await failure(fetchUrl(`${outer.origin}/`, options({ resolve })))).toEqual({ code: "forbidden_address", status: 403 });
      expect(inner.connections).toBe(0);
    },
  );
});

describe("redirects", () => {
  const chain = (hops: number) =>
    serve((req, res) => {
      const n = Number(req.url!.slice(1));
      if (n < hops) res.writeHead(301, { location: `/${n + 1}` }).end();
      else res.end(`arrived after ${n}`);
    });

  it("follows up to three, relative ones included", async () => {
    const server = await chain(3);
    const got = await fetchAll(`${server.origin}/0`, options());
    expect(got.bytes.toString()).toBe("arrived after 3");
    expect(got.url).toBe(`${server.origin}/3`);
  });

  it("gives up at the fourth, without requesting its target", async () => {
    const server = await chain(4);
    expect(await failure(fetchUrl(`${server.origin}/0`, options()))).toEqual({ code: "fetch_failed", status: 502 });
    expect(server.requests.map((r) => r.url)).toEqual(["/0", "/1", "/2", "/3"]);
  });

  it("refuses a redirect to another scheme", async () => {
    const server = await serve((_req, res) => res.writeHead(302, { location: "file:///etc/passwd" }).end());
    expect(await failure(fetchUrl(`${server.origin}/`, options()))).toEqual({ code: "invalid_url", status: 400 });
  });

  it("fails on a redirect without a Location", async () => {
    const server = await serve((_req, res) => res.writeHead(302).end());
    expect(await failure(fetchUrl(`${server.origin}/`, options()))).toEqual({ code: "fetch_failed", status: 502 });
  });
});

describe("limits and failures", () => {
  it("refuses a declared length over the limit without reading the body", async () => {
    const server = await serve((_req, res) => res.writeHead(200, { "content-length": "2000" }).end(Buffer.alloc(2000)));
    expect(await failure(fetchUrl(`${server.origin}/`, options({ maxBytes: 1000 })))).toEqual({ code: "payload_too_large", status: 413 });
  });

  it("cuts an undeclared body the moment it passes the limit, dropping the connection", async () => {
    let written = 0;
    let finished: (complete: boolean) => void;
    const closed = new Promise<boolean>((resolve) => (finished = resolve));
    const server = await serve(async (_req, res) => {
      res.on("close", () => finished(res.writableFinished));
      const chunk = Buffer.alloc(64 * 1024);
      while (!res.destroyed && written < 500 * 1024 * 1024) {
        written += chunk.length;
        if (!res.write(chunk)) await drainOrClose(res);
      }
      res.end();
    });
    const got = await fetchUrl(`${server.origin}/`, options({ maxBytes: 100_000 }));
    expect(await failure(buffer(got.stream))).toEqual({ code: "payload_too_large", status: 413 });
    expect(await closed).toBe(false); // the server never got to finish
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });

  it("times out a server that never answers", async () => {
    const server = await serve(() => undefined);
    const started = Date.now();
    expect(await failure(fetchUrl(`${server.origin}/`, options({ timeoutMs: 300 })))).toEqual({ code: "fetch_timeout", status: 504 });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("times out a body that stalls half way", async () => {
    const server = await serve((_req, res) => res.writeHead(200, { "content-length": "100" }).write("half"));
    const got = await fetchUrl(`${server.origin}/`, options({ timeoutMs: 300 }));
    expect(await failure(buffer(got.stream))).toEqual({ code: "fetch_timeout", status: 504 });
  });

  it("counts the time limit over the resolver too", async () => {
    const resolve: Resolve = () => new Promise(() => undefined);
    expect(await failure(fetchUrl("http://slow-dns.test/", options({ timeoutMs: 200, resolve })))).toEqual({ code: "fetch_timeout", status: 504 });
  });

  it("fails on a body cut short", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "100" }).write("partial");
      setTimeout(() => res.destroy(), 20);
    });
    const got = await fetchUrl(`${server.origin}/`, options());
    expect(await failure(buffer(got.stream))).toEqual({ code: "fetch_failed", status: 502 });
  });

  it.each([304, 404, 500])("fails on a %i answer", async (status) => {
    const server = await serve((_req, res) => res.writeHead(status).end("nope"));
    expect(await failure(fetchUrl(`${server.origin}/`, options()))).toEqual({ code: "fetch_failed", status: 502 });
  });

  it("fails when nothing listens", async () => {
    const server = await serve(() => undefined);
    await server.close();
    expect(await failure(fetchUrl(`${server.origin}/`, options()))).toEqual({ code: "fetch_failed", status: 502 });
  });

  it("fails when the name cannot be resolved", async () => {
    const resolve: Resolve = async () => [];
    expect(await failure(fetchUrl("http://nowhere.test/", options({ resolve })))).toEqual({ code: "fetch_failed", status: 502 });
  });

  it("stops when the caller cancels", async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new AppError("cancelled", 409, "cancelled")), 50);
    expect(await failure(fetchUrl(`${server.origin}/`, options({ signal: controller.signal })))).toEqual({ code: "cancelled", status: 409 });
  });
});

describe("URLs refused before anything is fetched", () => {
  it.each(["not a url", "ftp://127.0.0.1/", "file:///etc/passwd", "javascript:alert(1)", "data:image/png;base64,AAAA", "http://user:pass@127.0.0.1/", "http://user@127.0.0.1/", "http://[fe80::1%25eth0]/", "http://1.2.3.4.5/"])(
    "%s is invalid",
    async (url) => {
      expect(await failure(fetchUrl(url, options()))).toEqual({ code: "invalid_url", status: 400 });
    },
  );
});
