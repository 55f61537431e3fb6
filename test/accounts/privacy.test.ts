import fs from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { listBlobs } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";
import { Browser, dumpTables, PASSWORD, startAccountsServer } from "./helpers.js";

const marker = `zq${Math.random().toString(36).slice(2, 10)}zq`;
const email = `${marker}@example.org`;
const exportEmail = `export-${Math.random().toString(36).slice(2, 10)}@example.org`;

async function upload(baseUrl: string, path: string, form: FormData, headers: Record<string, string>) {
  const res = await fetch(`${baseUrl}${path}`, { method: "POST", body: form, headers });
  return { status: res.status, body: (await res.json()) as any };
}

describe("accounts: privacy promises [sqlite]", () => {
  let server: TestServer;
  const logLines: string[] = [];
  let photo: Uint8Array;

  beforeAll(async () => {
    const logs = new PassThrough();
    logs.on("data", (chunk: Buffer) => logLines.push(...chunk.toString("utf8").split("\n")));
    server = await startAccountsServer({}, { logStream: logs, jobWorker: true });
    photo = await plainJpeg(320, 240, 40);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("P17: export is complete", async () => {
    const browser = new Browser(server.baseUrl);
    expect((await browser.post("/api/auth/sign-up/email", { email: exportEmail, password: PASSWORD, name: "Exporter" })).status).toBe(200);
    const headers = { cookie: browser.jar.header(), origin: server.baseUrl };
    const uploaded = [];
    for (const name of ["one.jpg", "two.jpg"]) {
      const form = new FormData();
      form.append("file", new Blob([photo as Uint8Array<ArrayBuffer>]), name);
      uploaded.push((await upload(server.baseUrl, "/api/v1/images", form, headers)).body);
    }
    const jobForm = new FormData();
    jobForm.append("tool", "strip");
    jobForm.append("file", new Blob([photo as Uint8Array<ArrayBuffer>]), "job.jpg");
    const batch = (await upload(server.baseUrl, "/api/v1/jobs", jobForm, headers)).body;
    for (let i = 0; i < 300 && (await browser.json("GET", `/api/v1/jobs/${batch.jobs[0].id}`)).body.status !== "succeeded"; i++) await new Promise((r) => setTimeout(r, 100));
    await browser.json("POST", "/api/v1/me/tokens", { name: "export token" });

    const res = await browser.get("/api/v1/me/export");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const data = JSON.parse(new TextDecoder().decode(files["account.json"]));
    expect(data.account).toMatchObject({ email: exportEmail, name: "Exporter" });
    expect(data.sessions.length).toBeGreaterThan(0);
    expect(data.apiTokens.map((t: any) => t.name)).toEqual(["export token"]);
    expect(data.images.map((i: any) => i.id).sort()).toEqual(uploaded.map((u) => u.id).sort());
    expect(data.images.map((i: any) => i.originalName).sort()).toEqual(["one.jpg", "two.jpg"]);
    expect(data.jobs).toHaveLength(1);
    expect(data.jobs[0]).toMatchObject({ tool: "strip", status: "succeeded", inputName: "job.jpg" });
    for (const image of data.images) {
      const raw = Buffer.from(await (await fetch(`${server.baseUrl}/i/${image.id}/raw`)).arrayBuffer());
      expect(Buffer.from(files[image.file]!).equals(raw)).toBe(true);
    }
    const output = data.jobs[0].outputs[0];
    expect(files[output.file]).toBeDefined();
    expect(JSON.stringify(data)).not.toMatch(/\$argon2id\$|pxh_/);
  });

  it("P17: erasure leaves nothing of the account in any table, log line, database file or storage", async () => {
    const browser = new Browser(server.baseUrl);
    expect((await browser.post("/api/auth/sign-up/email", { email, password: PASSWORD, name: `Name ${marker}` })).status).toBe(200);
    const headers = { cookie: browser.jar.header(), origin: server.baseUrl };
    const form = new FormData();
    form.append("file", new Blob([photo as Uint8Array<ArrayBuffer>]), `${marker}.jpg`);
    const image = (await upload(server.baseUrl, "/api/v1/images", form, headers)).body;
    const jobForm = new FormData();
    jobForm.append("tool", "strip");
    jobForm.append("file", new Blob([photo as Uint8Array<ArrayBuffer>]), `${marker}-job.jpg`);
    const batch = (await upload(server.baseUrl, "/api/v1/jobs", jobForm, headers)).body;
    for (let i = 0; i < 300 && (await browser.json("GET", `/api/v1/jobs/${batch.jobs[0].id}`)).body.status !== "succeeded"; i++) await new Promise((r) => setTimeout(r, 100));
    await browser.json("POST", "/api/v1/me/tokens", { name: `token ${marker}` });
    const userId = (await browser.json("GET", "/api/v1/me")).body.account.id;
    const before = await listBlobs(server.px.blobs);
    expect(before.some((k) => k.includes(image.id))).toBe(true);
    expect(await dumpTables(server)).toContain(marker);

    const noBody = await browser.json("DELETE", "/api/v1/me");
    expect([noBody.status, noBody.body.error.code]).toEqual([403, expect.any(String)]);
    expect((await browser.json("DELETE", "/api/v1/me", {})).status).toBe(403);
    expect((await browser.json("DELETE", "/api/v1/me", { password: "not the password" })).status).toBe(403);
    expect((await browser.json("DELETE", "/api/v1/me", { password: PASSWORD })).status).toBe(204);

    expect((await browser.json("GET", "/api/v1/me")).status).toBe(401);
    expect((await browser.post("/api/auth/sign-in/email", { email, password: PASSWORD })).status).toBe(401);
    expect([404, 410]).toContain((await fetch(`${server.baseUrl}/i/${image.id}/raw`)).status);
    const after = await listBlobs(server.px.blobs);
    expect(after.filter((k) => k.includes(image.id) || k.includes(batch.jobs[0].id))).toEqual([]);
    const tables = await dumpTables(server);
    for (const needle of [email, marker, userId]) expect(tables).not.toContain(needle);
    const dbFile = path.join(server.dataDir, "pixhaven.sqlite");
    for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) {
      const bytes = await fs.readFile(file).catch(() => Buffer.alloc(0));
      for (const needle of [email, marker, userId]) expect(bytes.includes(Buffer.from(needle)), `${path.basename(file)} holds ${needle}`).toBe(false);
    }
    const blobsDir = path.join(server.dataDir, "blobs");
    const names = await fs.readdir(blobsDir, { recursive: true }).catch(() => [] as string[]);
    expect(names.filter((n) => String(n).includes(marker) || String(n).includes(image.id))).toEqual([]);
    await new Promise((r) => setTimeout(r, 100)); // the last log lines flush
    const logs = logLines.join("\n");
    for (const needle of [email, marker]) expect(logs).not.toContain(needle);
  });

  it("P17: export and erasure work for an account with more jobs than one statement takes values (33 000)", async () => {
    const browser = new Browser(server.baseUrl);
    const stamp = Date.now();
    const heavy = `h_avy-${stamp}@example.com`;
    expect((await browser.post("/api/auth/sign-up/email", { email: heavy, password: PASSWORD, name: "Heavy user" })).status).toBe(200);
    const userId = (await browser.json("GET", "/api/v1/me")).body.account.id;
    const now = Date.now();
    const rows = Array.from({ length: 33_000 }, (_, i) => ({
      id: `hv${String(i).padStart(9, "0")}`,
      batch_id: `hb${String(Math.floor(i / 50)).padStart(9, "0")}`,
      tool: "strip",
      params: "{}",
      status: "expired" as const,
      progress: 1,
      attempts: 1,
      error_code: null,
      error_message: null,
      report: null,
      input_name: `${i}.jpg`,
      input_bytes: 1000,
      input_pixels: null,
      input_key: null,
      delete_token_hash: "x",
      owner_id: userId,
      created_at: now - 1000,
      started_at: now - 900,
      finished_at: now - 800,
      expires_at: now - 700,
      lease_until: null,
    }));
    for (let i = 0; i < rows.length; i += 1000) await server.px.db.db.insertInto("jobs").values(rows.slice(i, i + 1000)).execute();
    const exported = await browser.get("/api/v1/me/export");
    expect(exported.status).toBe(200);
    const data = JSON.parse(new TextDecoder().decode(unzipSync(new Uint8Array(await exported.arrayBuffer()))["account.json"]));
    expect(data.jobs).toHaveLength(33_000);
    // Someone else's pending step, whose address a LIKE pattern with "_" would match.
    const expiresAt = new Date(now + 3_600_000).toISOString();
    await server.px.db.db.insertInto("verification").values({ id: `other-${stamp}`, identifier: `reset:heavy-${stamp}@example.com`, value: "other", expiresAt, createdAt: expiresAt, updatedAt: expiresAt } as never).execute();
    expect((await browser.json("DELETE", "/api/v1/me", { password: PASSWORD })).status).toBe(204);
    expect(await server.px.db.db.selectFrom("verification").select("id").where("id", "=", `other-${stamp}`).executeTakeFirst()).toBeDefined();
    const left = await server.px.db.db.selectFrom("jobs").select((eb) => eb.fn.countAll<number>().as("n")).where("owner_id", "=", userId).executeTakeFirstOrThrow();
    expect(Number(left.n)).toBe(0);
  });

  it("P20: only hashes of tokens and passwords are stored", async () => {
    const browser = new Browser(server.baseUrl);
    const owner = `hashes-${email}`;
    expect((await browser.post("/api/auth/sign-up/email", { email: owner, password: PASSWORD, name: "Hash" })).status).toBe(200);
    const token = (await browser.json("POST", "/api/v1/me/tokens", { name: "t" })).body.token as string;
    const form = new FormData();
    form.append("file", new Blob([photo as Uint8Array<ArrayBuffer>]), "h.jpg");
    const image = (await upload(server.baseUrl, "/api/v1/images", form, {})).body;
    await new Browser(server.baseUrl).post("/api/auth/request-password-reset", { email: owner, redirectTo: `${server.baseUrl}/reset` });
    // The session token itself, without the signature the cookie adds to it.
    const cookie = decodeURIComponent(browser.jar.cookies.get("pixhaven.session_token")!).split(".")[0]!;
    const tables = await dumpTables(server);
    for (const secret of [token, image.deleteToken, PASSWORD, cookie]) expect(tables).not.toContain(secret);
    const hashes = await server.px.db.db.selectFrom("account").select("password").where("password", "is not", null).execute();
    expect(hashes.length).toBeGreaterThan(0);
    for (const { password } of hashes) expect(password).toMatch(/^\$argon2id\$/);
  });
});
