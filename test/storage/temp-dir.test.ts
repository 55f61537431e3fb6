import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Readable, Transform } from "node:stream";
import { claimTempDir, sweepAbandonedTempDirs, writeNewFile } from "../../src/storage/temp-dir.js";

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

/** A process that lives until killed, and one that has already exited. */
async function liveChild() {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  await new Promise((r) => child.once("spawn", r));
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => child.once("exit", r));
  return child.pid!;
}

describe("per-process temp folders", () => {
  let root: string;
  beforeEach(async () => {
    root = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-tmp-")), "tmp");
    await fs.mkdir(root);
  });
  afterEach(() => fs.rm(path.dirname(root), { recursive: true, force: true }));

  async function folder(name: string): Promise<string> {
    await fs.mkdir(path.join(root, name));
    await fs.writeFile(path.join(root, name, "abc.in"), "partial upload");
    return name;
  }

  it("each claim gets its own folder named after its process; removing it leaves the others", async () => {
    const a = await claimTempDir(root);
    const b = await claimTempDir(root);
    expect(a.path).not.toBe(b.path);
    expect(path.basename(a.path)).toMatch(new RegExp(`^p${process.pid}-`));
    await fs.writeFile(path.join(b.path, "x.in"), "x");
    await a.remove();
    expect(await fs.readdir(root)).toEqual([path.basename(b.path)]);
    b.removeNow();
    expect(await fs.readdir(root)).toEqual([]);
  });

  it("a dead process's folder is swept at the next start, a live one's is not", async () => {
    const child = await liveChild();
    try {
      const live = await folder(`p${child.pid}-${startTime(child.pid!)}-aa`);
      const liveNoStart = await folder(`p${child.pid}-x-bb`);
      const dead = await folder(`p${await deadPid()}-x-cc`);
      await fs.writeFile(path.join(root, "0123abcd.in"), "a loose file of an older version");
      const own = await claimTempDir(root);
      expect((await fs.readdir(root)).sort()).toEqual([live, liveNoStart, path.basename(own.path)].sort());
      expect(await fs.readdir(path.join(root, live))).toEqual(["abc.in"]);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a folder whose pid now belongs to another process (reused pid) is swept", async () => {
    const child = await liveChild();
    try {
      // Same pid, but the process holding it started at another time than the folder's owner.
      const reused = await folder(`p${child.pid}-${Number(startTime(child.pid!)) - 1}-dd`);
      expect(await sweepAbandonedTempDirs(root)).toBe(1);
      expect(await fs.readdir(root)).not.toContain(reused);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("writing an upload to a new temp file", () => {
  it("leaves nothing once removed after a failure, however early the stream failed", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-write-"));
    try {
      for (let i = 0; i < 50; i++) {
        const file = path.join(dir, `upload-${i}.in`);
        // A body that fails at once, before any byte: the file must already exist and be closed.
        const failing = new Readable({ read() { this.destroy(new Error("the client went away")); } });
        await expect(writeNewFile(file, failing)).rejects.toThrow(/went away/);
        await fs.rm(file, { force: true });
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(await fs.readdir(dir)).toEqual([]);
      // And a body that arrives whole is written whole, through the transform.
      const file = path.join(dir, "whole.in");
      const upper = new Transform({ transform: (chunk: Buffer, _e, done) => done(null, Buffer.from(chunk.toString().toUpperCase())) });
      await writeNewFile(file, Readable.from([Buffer.from("abc"), Buffer.from("def")]), upper);
      expect(await fs.readFile(file, "utf8")).toBe("ABCDEF");
      await expect(writeNewFile(file, Readable.from([Buffer.from("x")]))).rejects.toThrow(/EEXIST/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("writes what arrives gathered in large pieces, byte for byte: thousands of tiny chunks, empty ones and chunks past the gathering size", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-write-"));
    try {
      const chunks: Buffer[] = [];
      let seed = 7;
      const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff));
      for (let i = 0; i < 5000; i++) chunks.push(bytes(1 + (i % 7))); // more pieces than one writev takes (IOV_MAX 1024)
      chunks.push(Buffer.alloc(0), bytes(700 * 1024), Buffer.alloc(0), bytes(65536), bytes(3));
      const file = path.join(dir, "pieces.in");
      await writeNewFile(file, Readable.from(chunks));
      expect((await fs.readFile(file)).equals(Buffer.concat(chunks))).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

