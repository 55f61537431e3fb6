import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anonymiseIp } from "../../src/privacy/anonymise-ip.js";
import { plainJpeg } from "../fixtures/images.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { dumpTables } from "../accounts/helpers.js";

describe("request logs", () => {
  let srv: TestServer;
  let lines = "";
  beforeAll(async () => {
    const stream = new PassThrough();
    stream.on("data", (chunk) => (lines += chunk));
    srv = await startTestServer({ logStream: stream, config: { trustProxy: true } });
  });
  afterAll(() => srv.stop());

  it("P10: addresses are anonymised to /24 and /48 before they are logged or stored", async () => {
    expect(anonymiseIp("203.0.113.77")).toBe("203.0.113.0");
    expect(anonymiseIp("::ffff:203.0.113.77")).toBe("203.0.113.0");
    expect(anonymiseIp("2001:db8:85a3:8d3:1319:8a2e:370:7348")).toBe("2001:db8:85a3::");
    expect(anonymiseIp("2001:db8::1")).toBe("2001:db8::");
    expect(anonymiseIp("::1")).toBe("::");

    const form = new FormData();
    form.append("file", new Blob([(await plainJpeg()) as Uint8Array<ArrayBuffer>]), "a.jpg");
    const headers = { "x-forwarded-for": "203.0.113.77" };
    const res = await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form, headers });
    const { id } = await res.json();
    await fetch(`${srv.baseUrl}/i/${id}`, { headers });
    await fetch(`${srv.baseUrl}/i/${id}/raw`, { headers: { "x-forwarded-for": "2001:db8:85a3:8d3:1319:8a2e:370:7348" } });
    await fetch(`${srv.baseUrl}/api/v1/images/nope`, { headers });

    const entries = lines.trim().split("\n").map((line) => JSON.parse(line));
    expect(entries.length).toBeGreaterThan(4);
    expect(lines).not.toContain("203.0.113.77");
    expect(lines).not.toContain("1319:8a2e");
    expect(lines).toContain('"remoteAddress":"203.0.113.0"');
    expect(lines).toContain('"remoteAddress":"2001:db8:85a3::"');
    // Every line of a request carries its id, and the client sees the same id.
    expect(entries.filter((e) => e.req).every((e) => typeof e.reqId === "string")).toBe(true);
    const rows = JSON.stringify(await srv.px.db.db.selectFrom("images").selectAll().execute());
    expect(rows).not.toContain("203.0.113");
  });

  it("P19: statistics are counts: a view adds one to its image's count once per visitor and day, and no table holds a visitor's address, browser or identifier", async () => {
    const form = new FormData();
    form.append("file", new Blob([(await plainJpeg(48, 48, 19)) as Uint8Array<ArrayBuffer>]), "b.jpg");
    const { id } = await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form })).json();
    const visitors = [
      { "x-forwarded-for": "198.51.100.23", "user-agent": "VisitorBrowser/1.0 (first)" },
      { "x-forwarded-for": "192.0.2.45", "user-agent": "VisitorBrowser/2.0 (second)" },
      { "x-forwarded-for": "2001:db8:abcd:12:1:2:3:4", "user-agent": "VisitorBrowser/3.0 (third)" },
    ];
    for (const headers of [...visitors, visitors[0]!]) expect((await fetch(`${srv.baseUrl}/i/${id}`, { headers })).status).toBe(200);
    const image = await (await fetch(`${srv.baseUrl}/api/v1/images/${id}`)).json();
    expect(image.views).toBe(3); // the first visitor's second view, the same day, is not counted again
    const everything = await dumpTables(srv);
    for (const trace of ["198.51.100", "192.0.2.45", "2001:db8:abcd", "VisitorBrowser"]) expect(everything).not.toContain(trace);
  });
});
