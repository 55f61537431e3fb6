import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Clock } from "../common/clock.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const FILE_NAME = /^access-(\d{4}-\d{2}-\d{2})\.log$/;
/** pino's levels: 40 is warn */
const WARN = 40;

/** The file that holds the log lines of the UTC day `at` falls in. */
export function accessLogFile(dir: string, at: number): string {
  return path.join(dir, `access-${new Date(at).toISOString().slice(0, 10)}.log`);
}

/**
 * P11: removes the day files whose first possible line is `retentionMs` old or older, so no line
 * is kept longer than that (a day's later lines go up to a day sooner). Answers how many went.
 */
export async function purgeAccessLogs(dir: string, retentionMs: number, now: number): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    const day = FILE_NAME.exec(name)?.[1];
    if (!day) continue;
    const dayStart = Date.parse(`${day}T00:00:00Z`);
    if (Number.isNaN(dayStart) || dayStart + retentionMs > now) continue;
    await fs.rm(path.join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

/** A request's own line (it carries the request id) below warn: what the access log alone keeps. */
function isRequestLine(line: string): boolean {
  if (!line.includes('"reqId":')) return false;
  const level = Number(/^\{"level":(\d+)/.exec(line)?.[1] ?? WARN);
  return level < WARN;
}

interface Output {
  write(line: string): unknown;
}

/**
 * Where the server's JSON log lines go when ACCESS_LOG is `file`: every line into a file of the
 * UTC day (`access-YYYY-MM-DD.log` under `dir`), and all but the requests' routine lines to
 * standard output as well, so the terminal shows the start, warnings and errors. Day files are
 * purged after `retentionMs` (P11) when the day turns, every hour, and by `pixhaven purge`.
 * Lines carry anonymised addresses only (P10: the server's log serializer).
 */
export class AccessLog {
  private file: WriteStream | null = null;
  private dayEnds = 0;
  private failed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private readonly retentionMs: number,
    private readonly clock: Clock,
    private readonly stdout: Output = process.stdout,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    this.timer = setInterval(() => void this.purge(), 60 * 60 * 1000).unref();
    void this.purge();
  }

  /** pino's destination: one JSON line (with its newline) a call. */
  write(line: string): void {
    if (!isRequestLine(line) || this.failed) this.stdout.write(line);
    if (this.failed) return;
    const now = this.clock.now();
    if (now >= this.dayEnds || !this.file) this.open(now);
    this.file!.write(line);
  }

  /** P11: the day files past retention go. Never throws: a failure is reported on standard output. */
  async purge(): Promise<number> {
    try {
      return await purgeAccessLogs(this.dir, this.retentionMs, this.clock.now());
    } catch (err) {
      this.stdout.write(`${JSON.stringify({ level: 50, time: this.clock.now(), msg: "access log purge failed", err: String(err) })}\n`);
      return 0;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const file = this.file;
    this.file = null;
    if (file) await new Promise<void>((resolve) => file.end(resolve));
  }

  private open(now: number): void {
    const previous = this.file;
    const dayStart = now - (now % DAY_MS);
    this.dayEnds = dayStart + DAY_MS;
    const file = createWriteStream(accessLogFile(this.dir, now), { flags: "a", mode: 0o640 });
    // A log that cannot be written (disk full, folder gone) must not stop the server: its lines
    // go to standard output from then on.
    file.on("error", (err) => {
      if (this.failed) return;
      this.failed = true;
      this.stdout.write(`${JSON.stringify({ level: 50, time: this.clock.now(), msg: `access log ${file.path} cannot be written: lines go to standard output`, err: String(err) })}\n`);
    });
    this.file = file;
    previous?.end();
    if (previous) void this.purge(); // the day turned
  }
}
