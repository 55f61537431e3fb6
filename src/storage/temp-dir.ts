import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

/**
 * Each process works in its own folder under DATA_DIR/tmp, so that a process starting (or
 * `pixhaven purge`) never removes the files of an upload another process is receiving.
 *
 * The folder's name is its owner marker: `p<pid>-<start>-<random>`, where <start> is the time the
 * operating system started that process (from /proc, "x" where there is none). A name is created
 * atomically by mkdir, so no sweeper can catch a folder before its marker exists. Its owner is
 * alive when the pid answers signal 0 and, where /proc exists, still has the same start time:
 * pids are reused (a container's server is often pid 1 after every restart), and the start time
 * tells a new process with an old pid from the owner. Without /proc a reused pid only keeps a dead
 * folder until that pid exits, never removes a live one.
 */
export interface TempDir {
  /** this process's folder; every temp file of this process lives in it */
  readonly path: string;
  /** removes the folder and whatever is in it */
  remove(): Promise<void>;
  /** the same, for a process about to exit, when no promise will be awaited */
  removeNow(): void;
}

const NAME = /^p(\d+)-(\d+|x)-[0-9a-f]+$/;

/** Sweeps the folders of processes that are gone, then creates this process's own. */
export async function claimTempDir(root: string): Promise<TempDir> {
  await fs.mkdir(root, { recursive: true });
  await sweepAbandonedTempDirs(root);
  const dir = path.join(root, `p${process.pid}-${startTime(process.pid) ?? "x"}-${randomBytes(6).toString("hex")}`);
  await fs.mkdir(dir);
  return {
    path: dir,
    remove: () => fs.rm(dir, { recursive: true, force: true }),
    removeNow: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Removes what a process that died left in the temp root: folders whose owner is gone, and any
 * entry not named like a process folder (loose files of older versions). Returns how many.
 */
export async function sweepAbandonedTempDirs(root: string): Promise<number> {
  const names = await fs.readdir(root).catch(() => [] as string[]);
  const abandoned = names.filter((name) => {
    const match = NAME.exec(name);
    return !match || !isAlive(Number(match[1]), match[2]!);
  });
  await Promise.all(abandoned.map((name) => fs.rm(path.join(root, name), { recursive: true, force: true })));
  return abandoned.length;
}

function isAlive(pid: number, start: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false; // EPERM: alive, another user's
  }
  if (start === "x") return true; // no way to tell a reused pid: keep it
  const now = startTime(pid);
  return now === undefined || now === start;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), where /proc exists. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses; count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = fields[19];
    return start && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Streams `source` (through `through`, if given) into a new file, which must not exist yet. The
 * file is created before the first byte flows and closed before this returns or throws, so a
 * caller that removes it afterwards, whatever failed, removes it for good: a write stream left to
 * open its file itself may still be opening it when a failed pipeline returns, and create it just
 * after the caller's cleanup.
 */
export async function writeNewFile(file: string, source: NodeJS.ReadableStream, through?: NodeJS.ReadWriteStream): Promise<void> {
  const handle = await fs.open(file, "wx");
  try {
    const sink = gatheringSink(handle);
    await (through ? pipeline(source, through, sink) : pipeline(source, sink));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** What a file sink holds before it writes: a network read is 64 KiB at most, often much less. */
const GATHER_BYTES = 256 * 1024;

/**
 * Writes what arrives in pieces of GATHER_BYTES (the last one smaller), each with one call: every
 * write is a hand-off to libuv's threads and back, which costs the event loop more than copying
 * does. Memory stays bounded at GATHER_BYTES a file, and backpressure holds while a piece is written.
 */
function gatheringSink(handle: FileHandle): Writable {
  let gathered: Buffer[] = [];
  let size = 0;
  const flush = async () => {
    let pieces = gathered;
    gathered = [];
    size = 0;
    while (pieces.length) {
      const { bytesWritten } = await handle.writev(pieces);
      if (bytesWritten === 0 && pieces.some((piece) => piece.length > 0)) throw new Error("the file takes no more bytes");
      pieces = remainder(pieces, bytesWritten);
    }
  };
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      gathered.push(chunk);
      size += chunk.length;
      if (size < GATHER_BYTES) done();
      else flush().then(() => done(), done);
    },
    final(done) {
      flush().then(() => done(), done);
    },
  });
}

/** The buffers past the first `written` bytes (a write may stop short). */
function remainder(buffers: Buffer[], written: number): Buffer[] {
  let skip = written;
  let i = 0;
  while (i < buffers.length && skip >= buffers[i]!.length) skip -= buffers[i++]!.length;
  const rest = buffers.slice(i);
  if (skip > 0 && rest.length) rest[0] = rest[0]!.subarray(skip);
  return rest;
}
