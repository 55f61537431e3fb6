import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimTempDir, sweepAbandonedTempDirs } from "../../src/storage/temp-dir.js";

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
