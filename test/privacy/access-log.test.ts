import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../src/common/clock.js";
import { AccessLog, accessLogFile, purgeAccessLogs } from "../../src/privacy/access-log.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const DAY = 86_400_000;
const SECOND = 1000;

describe("the access log", () => {
  let srv: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const logs = () => path.join(srv.dataDir, "logs");
  const read = (at: number) => fs.readFile(accessLogFile(logs(), at), "utf8").catch(() => "");
  const request = (address: string) => fetch(`${srv.baseUrl}/api/v1/images/nope`, { headers: { "x-forwarded-for": address } }).then((res) => expect(res.status).toBe(404));

  beforeAll(async () => {
    srv = await startTestServer({ clock, accessLog: true, config: { trustProxy: true } });
  });
  afterAll(() => srv.stop());

  it("P11: request lines go to a file of the day with shortened addresses; a day's file is deleted 90 days after the day began, by the day's turn and by `pixhaven purge`", async () => {
    expect(srv.px.config.accessLog).toEqual({ dir: logs(), retentionMs: 90 * DAY });
    const firstDay = clock.now();
    await request("203.0.113.77");
    await vi.waitFor(async () => expect(await read(firstDay)).toContain('"remoteAddress":"203.0.113.0"'));
    expect(await read(firstDay)).not.toContain("203.0.113.77");
    expect(await read(firstDay)).toContain('"url":"/api/v1/images/nope"');

    clock.advance(DAY); // 2 January: a file of its own
    const secondDay = clock.now();
    await request("198.51.100.9");
    await vi.waitFor(async () => expect(await read(secondDay)).toContain('"remoteAddress":"198.51.100.0"'));
    expect(await read(firstDay)).not.toContain("198.51.100");

    // 1 January's file began at midnight: at 90 days less a second it is kept, at 90 days it goes.
    const firstDayStart = Date.UTC(2026, 0, 1);
    expect(await purgeAccessLogs(logs(), 90 * DAY, firstDayStart + 90 * DAY - SECOND)).toBe(0);
    expect(await read(firstDay)).not.toBe("");

    clock.set(firstDayStart + 90 * DAY + SECOND); // a new day: the server opens its file and purges
    await request("192.0.2.1");
    await vi.waitFor(async () => expect(await fs.readdir(logs())).not.toContain(path.basename(accessLogFile(logs(), firstDay))));
    expect(await read(secondDay)).toContain("198.51.100.0"); // 89 days old
    await vi.waitFor(async () => expect(await read(clock.now())).toContain("192.0.2.0"));

    // `pixhaven purge` (the same function) removes 2 January's a day later.
    expect(await purgeAccessLogs(logs(), 90 * DAY, Date.UTC(2026, 0, 2) + 90 * DAY)).toBe(1);
    expect((await fs.readdir(logs())).sort()).toEqual([path.basename(accessLogFile(logs(), clock.now()))]);
    // The privacy page states the period from the same setting.
    const config = await (await fetch(`${srv.baseUrl}/api/v1/config`)).json();
    expect(config.retention.accessLogSeconds).toBe(90 * 24 * 3600);
  });
});

describe("AccessLog", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-access-log-"));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it("P11: a request's routine lines are kept in the day file only; the start, warnings and errors reach standard output too", async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8));
    const stdout: string[] = [];
    const log = new AccessLog(dir, 90 * DAY, clock, { write: (line: string) => stdout.push(line) });
    const lines = [
      '{"level":30,"time":1,"reqId":"a","req":{"method":"GET","url":"/","remoteAddress":"192.0.2.0"},"msg":"incoming request"}\n',
      '{"level":30,"time":2,"msg":"Server listening at http://127.0.0.1:8080"}\n',
      '{"level":50,"time":3,"reqId":"b","msg":"request failed"}\n',
    ];
    for (const line of lines) log.write(line);
    await log.close();
    expect(await fs.readFile(accessLogFile(dir, clock.now()), "utf8")).toBe(lines.join(""));
    expect(stdout).toEqual([lines[1], lines[2]]);
  });

  it("a log that cannot be written sends its lines to standard output, and the server goes on", async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 2, 8));
    const stdout: string[] = [];
    const log = new AccessLog(dir, 90 * DAY, clock, { write: (line: string) => stdout.push(line) });
    await fs.mkdir(accessLogFile(dir, clock.now())); // a folder where the day's file should be: no one can write it
    log.write('{"level":30,"reqId":"a","msg":"incoming request"}\n');
    await vi.waitFor(() => expect(stdout.join("")).toContain("cannot be written"));
    log.write('{"level":30,"reqId":"b","msg":"incoming request"}\n');
    expect(stdout.at(-1)).toContain('"reqId":"b"');
    await log.close();
  });
});
