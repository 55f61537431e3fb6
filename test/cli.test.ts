import { execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../src/config.js";
import { plainJpeg } from "./fixtures/images.js";
import { listTemp, upload } from "./helpers/http.js";
import { freePort, startTestServer } from "./helpers/server.js";

const run = promisify(execFile);
const main = path.join(packageRoot(), "src", "main.ts");

function cli(args: string[], env: Record<string, string>) {
  return run(process.execPath, ["--import", "tsx", main, ...args], { env: { ...process.env, ...env }, cwd: packageRoot() });
}

describe("pixhaven CLI", () => {
  it("prints its usage", async () => {
    const { stdout } = await cli(["--help"], {});
    expect(stdout).toContain("serve");
    expect(stdout).toContain("purge");
  });

  it("`pixhaven migrate` on a new data folder creates Pixhaven's tables and the account tables, then has nothing to do", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-migrate-"));
    try {
      const env = { DATA_DIR: dataDir, DATABASE_URL: `sqlite:${path.join(dataDir, "pixhaven.sqlite")}`, LOG_LEVEL: "silent" };
      const { stdout } = await cli(["migrate"], env);
      expect(stdout).toMatch(/applied: .*0001/);
      expect(stdout).toMatch(/account tables created or extended: .*user.*session/);
      const { stdout: again } = await cli(["migrate"], env);
      expect(again).toContain("schema is up to date");
      expect(again).toContain("account tables are up to date");
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it("P13: `pixhaven purge` removes tombstones past TOMBSTONE_RETENTION and keeps younger ones", async () => {
    const srv = await startTestServer();
    const env = { DATA_DIR: srv.dataDir, DATABASE_URL: srv.px.config.databaseUrl, LOG_LEVEL: "silent" };
    const made = [];
    for (let i = 0; i < 2; i++) {
      const { body } = await upload(srv.baseUrl, await plainJpeg(32, 32, i));
      await fetch(`${srv.baseUrl}/api/v1/images/${body.id}`, { method: "DELETE", headers: { "x-delete-token": body.deleteToken } });
      made.push(body.id as string);
    }
    const day = 86_400_000;
    await srv.px.db.db.updateTable("images").set({ deleted_at: Date.now() - 31 * day }).where("id", "=", made[0]!).execute();
    await srv.px.db.db.updateTable("images").set({ deleted_at: Date.now() - 29 * day }).where("id", "=", made[1]!).execute();
    await srv.px.close();
    try {
      const { stdout } = await cli(["purge"], env);
      expect(stdout).toContain("1 tombstone(s) of deleted images");
      const { stdout: again } = await cli(["migrate"], env);
      expect(again).toContain("schema is up to date");
      expect(again).toContain("account tables are up to date");
    } finally {
      const { rm } = await import("node:fs/promises");
      await rm(srv.dataDir, { recursive: true, force: true });
    }
  });

  it("`pixhaven purge` beside a running server leaves its upload in flight alone", async () => {
    const srv = await startTestServer();
    const port = Number(new URL(srv.baseUrl).port);
    const env = { DATA_DIR: srv.dataDir, DATABASE_URL: srv.px.config.databaseUrl, LOG_LEVEL: "silent" };
    try {
      const jpeg = await plainJpeg(640, 480, 3);
      const head = Buffer.from('--B\r\ncontent-disposition: form-data; name="file"; filename="a.jpg"\r\ncontent-type: image/jpeg\r\n\r\n');
      const body = Buffer.concat([head, jpeg, Buffer.from("\r\n--B--\r\n")]);
      let sendRest!: () => void;
      const reply = new Promise<number>((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port, path: "/api/v1/images", method: "POST", headers: { "content-type": "multipart/form-data; boundary=B", "content-length": body.length } },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.write(body.subarray(0, 2000));
        sendRest = () => req.end(body.subarray(2000));
      });
      // The first bytes are in the server's temp file before the purge starts.
      for (let i = 0; i < 100 && (await listTemp(srv.dataDir)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await listTemp(srv.dataDir)).toHaveLength(1);
      const { stdout } = await cli(["purge"], env);
      expect(stdout).toContain("0 tombstone(s) of deleted images");
      expect(await listTemp(srv.dataDir)).toHaveLength(1);
      sendRest();
      expect(await reply).toBe(201);
      expect(await listTemp(srv.dataDir)).toEqual([]);
    } finally {
      await srv.stop();
    }
  });

  it("refuses a bad setting with a message naming it", async () => {
    const err = await cli(["migrate"], { MAX_PIXELS: "lots" }).catch((e: { stderr: string; code: number }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toMatch(/Invalid configuration: MAX_PIXELS/);
  });

  it("`pixhaven serve` with a stalled upload exits after SHUTDOWN_TIMEOUT on SIGTERM and leaves no temp file", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-cli-"));
    const port = await freePort();
    const server = spawn(process.execPath, ["--import", "tsx", main, "serve"], {
      cwd: packageRoot(),
      env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", SHUTDOWN_TIMEOUT: "1s" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
    try {
      for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const jpeg = await plainJpeg(640, 480, 9);
      const head = Buffer.from('--B\r\ncontent-disposition: form-data; name="file"; filename="a.jpg"\r\ncontent-type: image/jpeg\r\n\r\n');
      const req = request({ host: "127.0.0.1", port, path: "/api/v1/images", method: "POST", headers: { "content-type": "multipart/form-data; boundary=B", "content-length": head.length + jpeg.length + 10 } });
      req.on("error", () => undefined); // the server goes away mid-upload
      req.write(Buffer.concat([head, jpeg.subarray(0, 1000)]));
      for (let i = 0; i < 100 && (await listTemp(dataDir)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await listTemp(dataDir)).toHaveLength(1); // the stalled upload's temp file
      const killedAt = Date.now();
      server.kill("SIGTERM");
      expect(await exited).toBe(1);
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      expect(await fs.readdir(path.join(dataDir, "tmp"))).toEqual([]);
      req.destroy();
    } finally {
      server.kill("SIGKILL");
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it("`pixhaven serve` finishes an in-flight upload on SIGTERM, then exits cleanly", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-cli-"));
    const port = await freePort();
    const server = spawn(process.execPath, ["--import", "tsx", main, "serve"], {
      cwd: packageRoot(),
      env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
    try {
      for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const jpeg = await plainJpeg(640, 480, 7);
      const head = Buffer.from('--B\r\ncontent-disposition: form-data; name="file"; filename="a.jpg"\r\ncontent-type: image/jpeg\r\n\r\n');
      const body = Buffer.concat([head, jpeg, Buffer.from("\r\n--B--\r\n")]);
      const reply = new Promise<number>((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port, path: "/api/v1/images", method: "POST", headers: { "content-type": "multipart/form-data; boundary=B", "content-length": body.length } },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.write(body.subarray(0, 1000), () => {
          server.kill("SIGTERM"); // mid-upload
          setTimeout(() => req.end(body.subarray(1000)), 300);
        });
      });
      expect(await reply).toBe(201);
      expect(await exited).toBe(0);
      expect(await fs.readdir(path.join(dataDir, "tmp"))).toEqual([]);
    } finally {
      server.kill("SIGKILL");
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
