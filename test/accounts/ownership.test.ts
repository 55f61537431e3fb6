import { afterAll, beforeAll, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { describeEachDialect } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";
import { type Browser, signedInBrowser, startAccountsServer } from "./helpers.js";

async function send(baseUrl: string, path: string, form: FormData, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}${path}`, { method: "POST", body: form, headers });
  return { status: res.status, body: (await res.json()) as any };
}
const imageForm = (bytes: Uint8Array, name = "photo.jpg") => {
  const form = new FormData();
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), name);
  return form;
};
const jobForm = (bytes: Uint8Array, name = "in.jpg") => {
  const form = new FormData();
  form.append("tool", "strip");
  form.append("params", "{}");
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), name);
  return form;
};
const cookieHeaders = (b: Browser) => ({ cookie: b.jar.header(), origin: b.baseUrl });

async function waitForEnd(url: string, headers: Record<string, string>): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const job = await (await fetch(url, { headers })).json();
    if (["succeeded", "failed", "expired"].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("job did not end");
}

describeEachDialect("accounts: ownership, API tokens, claiming, the dashboard and 404 for other people's things", (dialect) => {
  let server: TestServer;
  let photo: Uint8Array;
  let alice: Browser;
  let mallory: Browser;
  let aliceToken: string;

  beforeAll(async () => {
    server = await startAccountsServer({}, { dialect, jobWorker: true });
    photo = await plainJpeg(320, 240);
    alice = await signedInBrowser(server.baseUrl);
    mallory = await signedInBrowser(server.baseUrl);
    const created = await alice.json("POST", "/api/v1/me/tokens", { name: "laptop script" });
    expect(created.status).toBe(201);
    aliceToken = created.body.token;
    expect(aliceToken).toMatch(/^pxh_/);
    expect(created.body.sharex).toMatchObject({ RequestURL: `${server.baseUrl}/api/v1/images`, Headers: { Authorization: `Bearer ${aliceToken}` }, FileFormName: "file" });
    expect(created.body.curl).toContain(`Authorization: Bearer ${aliceToken}`);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("an upload with an API token belongs to the account; a wrong token answers 401; anonymous uploads still work", async () => {
    const owned = await send(server.baseUrl, "/api/v1/images", imageForm(photo, "owned.jpg"), { authorization: `Bearer ${aliceToken}` });
    expect(owned.status).toBe(201);
    expect((await send(server.baseUrl, "/api/v1/images", imageForm(photo), { authorization: "Bearer pxh_wrong" })).status).toBe(401);
    const anonymous = await send(server.baseUrl, "/api/v1/images", imageForm(photo));
    expect(anonymous.status).toBe(201);
    const cookieUpload = await send(server.baseUrl, "/api/v1/images", imageForm(photo, "cookie.jpg"), cookieHeaders(alice));
    expect(cookieUpload.status).toBe(201);

    const list = await alice.json("GET", "/api/v1/me/images?limit=1");
    expect(list.body.items).toHaveLength(1);
    expect(list.body.nextCursor).toBeTruthy();
    const next = await alice.json("GET", `/api/v1/me/images?limit=10&cursor=${encodeURIComponent(list.body.nextCursor)}`);
    const ids = [...list.body.items, ...next.body.items].map((i: any) => i.id);
    expect(ids.sort()).toEqual([owned.body.id, cookieUpload.body.id].sort());
    expect(list.body.items[0]).toMatchObject({ thumbUrl: expect.stringContaining("/thumb"), views: 0, createdAt: expect.any(String) });
    expect(list.body.items[0]).toHaveProperty("nsfw");
    expect((await mallory.json("GET", "/api/v1/me/images")).body.items).toEqual([]);

    const tokens = await alice.json("GET", "/api/v1/me/tokens");
    expect(tokens.body.tokens[0]).toMatchObject({ name: "laptop script", lastUsedAt: expect.any(String) });
    expect(JSON.stringify(tokens.body)).not.toContain(aliceToken);
  });

  it("an API token acts on images and jobs; the account's sessions, tokens and export need the signed-in browser", async () => {
    const bearer = { authorization: `Bearer ${aliceToken}` };
    expect((await fetch(`${server.baseUrl}/api/v1/me/images`, { headers: bearer })).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/api/v1/me/jobs`, { headers: bearer })).status).toBe(200);
    const tokenId = (await alice.json("GET", "/api/v1/me/tokens")).body.tokens[0].id;
    const sessionId = (await alice.json("GET", "/api/v1/me/sessions")).body.sessions[0].id;
    for (const [method, route] of [
      ["GET", "/api/v1/me/export"],
      ["GET", "/api/v1/me/tokens"],
      ["DELETE", `/api/v1/me/tokens/${tokenId}`],
      ["GET", "/api/v1/me/sessions"],
      ["DELETE", `/api/v1/me/sessions/${sessionId}`],
    ] as const) {
      const res = await fetch(`${server.baseUrl}${route}`, { method, headers: bearer });
      expect(res.status, `${method} ${route}`).toBe(403);
      expect((await res.json()).error.code).toBe("session_required");
    }
    // Nothing was revoked.
    expect((await alice.json("GET", "/api/v1/me/tokens")).body.tokens.map((t: any) => t.id)).toContain(tokenId);
    expect((await alice.json("GET", "/api/v1/me")).status).toBe(200);
  });

  it("claims anonymous uploads and jobs proven by their deletion tokens, and only those", async () => {
    const image = await send(server.baseUrl, "/api/v1/images", imageForm(photo, "anon.jpg"));
    const other = await send(server.baseUrl, "/api/v1/images", imageForm(photo, "other.jpg"));
    const batch = await send(server.baseUrl, "/api/v1/jobs", jobForm(photo));
    expect(batch.status).toBe(202);
    const jobId = batch.body.jobs[0].id;
    const claim = await alice.json("POST", "/api/v1/me/claim", {
      images: [{ id: image.body.id, deleteToken: image.body.deleteToken }, { id: other.body.id, deleteToken: "wrong" }],
      jobs: [{ id: jobId, deleteToken: batch.body.deleteToken }],
    });
    expect(claim.body).toEqual({ images: [image.body.id], jobs: [jobId] });
    // Claimed once: nobody can claim it again, the owner included.
    expect((await mallory.json("POST", "/api/v1/me/claim", { images: [{ id: image.body.id, deleteToken: image.body.deleteToken }] })).body.images).toEqual([]);
    // Now the job is the account's: a stranger gets 404 for it, the owner sees it.
    expect((await fetch(`${server.baseUrl}/api/v1/jobs/${jobId}`)).status).toBe(404);
    const ended = await waitForEnd(`${server.baseUrl}/api/v1/jobs/${jobId}`, cookieHeaders(alice));
    expect(ended.status).toBe("succeeded");
  });

  it("lists the account's jobs with times, downloads and time left, and its statistics", async () => {
    const batch = await send(server.baseUrl, "/api/v1/jobs", jobForm(photo, "mine.jpg"), { authorization: `Bearer ${aliceToken}` });
    expect(batch.status).toBe(202);
    const job = await waitForEnd(`${server.baseUrl}/api/v1/jobs/${batch.body.jobs[0].id}`, { authorization: `Bearer ${aliceToken}` });
    expect((await fetch(job.outputs[0].url, { headers: { authorization: `Bearer ${aliceToken}` } })).status).toBe(200);
    const jobs = await alice.json("GET", "/api/v1/me/jobs");
    const mine = jobs.body.items.find((j: any) => j.id === job.id);
    expect(mine).toMatchObject({ tool: "strip", status: "succeeded", downloads: 1, secondsLeft: expect.any(Number), inputs: [{ name: "mine.jpg" }] });
    expect(mine.outputs[0].url).toContain(`/api/v1/jobs/${job.id}/outputs/0`);
    const stats = await alice.json("GET", "/api/v1/me/stats");
    expect(stats.body.jobsPerTool).toEqual([{ tool: "strip", succeeded: 2, failed: 0, other: 0 }]);
    expect(stats.body.images).toBeGreaterThanOrEqual(3);
    expect(stats.body.storageBytes).toBeGreaterThan(0);
  });

  it("an account's upload is deleted with its deletion token alone, as its deleteUrl does from a signed-out browser", async () => {
    const image = await send(server.baseUrl, "/api/v1/images", imageForm(photo), { authorization: `Bearer ${aliceToken}` });
    expect(image.body.deleteUrl).toBe(`${image.body.url}#delete=${image.body.deleteToken}`);
    const res = await fetch(`${server.baseUrl}/api/v1/images/${image.body.id}`, { method: "DELETE", headers: { "x-delete-token": image.body.deleteToken } });
    expect(res.status).toBe(204);
    expect((await fetch(`${server.baseUrl}/i/${image.body.id}/raw`)).status).toBe(410);
  });

  it("IDOR: another account's image, job, batch, token and session answer 404 for every verb", async () => {
    const image = await send(server.baseUrl, "/api/v1/images", imageForm(photo), { authorization: `Bearer ${aliceToken}` });
    const batch = await send(server.baseUrl, "/api/v1/jobs", jobForm(photo), { authorization: `Bearer ${aliceToken}` });
    const jobId = batch.body.jobs[0].id;
    await waitForEnd(`${server.baseUrl}/api/v1/jobs/${jobId}`, { authorization: `Bearer ${aliceToken}` });
    const tokenId = (await alice.json("GET", "/api/v1/me/tokens")).body.tokens[0].id;
    const sessionId = (await alice.json("GET", "/api/v1/me/sessions")).body.sessions[0].id;
    const attempts: Array<[string, string, unknown?, Record<string, string>?]> = [
      ["DELETE", `/api/v1/me/images/${image.body.id}`],
      ["GET", `/api/v1/jobs/${jobId}`],
      ["GET", `/api/v1/jobs/${jobId}/events`],
      ["GET", `/api/v1/jobs/${jobId}/outputs/0`],
      ["DELETE", `/api/v1/jobs/${jobId}`, undefined, { "x-delete-token": batch.body.deleteToken }],
      ["DELETE", `/api/v1/me/jobs/${jobId}`],
      ["GET", `/api/v1/batches/${batch.body.batchId}`],
      ["GET", `/api/v1/batches/${batch.body.batchId}/zip`],
      ["GET", `/api/v1/batches/${batch.body.batchId}/events`],
      ["DELETE", `/api/v1/me/tokens/${tokenId}`],
      ["DELETE", `/api/v1/me/sessions/${sessionId}`],
    ];
    for (const [method, path, body, headers] of attempts) {
      const res = await mallory.request(method, path, body, headers);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await res.json()).error.code).toBe("not_found");
    }
    // The public image answers a wrong deletion token as any image does: 403, whoever owns it.
    const wrongToken = await mallory.request("DELETE", `/api/v1/images/${image.body.id}`, undefined, { "x-delete-token": "not-the-token" });
    expect(wrongToken.status).toBe(403);
    expect((await wrongToken.json()).error.code).toBe("invalid_delete_token");
    const bulk = await mallory.json("DELETE", "/api/v1/me/images", { ids: [image.body.id] });
    expect(bulk.body).toEqual({ deleted: [], notFound: [image.body.id] });
    // All still there for the owner.
    expect((await alice.json("GET", `/api/v1/jobs/${jobId}`)).status).toBe(200);
    expect((await alice.json("GET", "/api/v1/me/tokens")).body.tokens).toHaveLength(1);
    expect((await fetch(`${server.baseUrl}/i/${image.body.id}/raw`)).status).toBe(200);

    // The owner deletes without any deletion token.
    expect((await alice.json("DELETE", "/api/v1/me/images", { ids: [image.body.id] })).body.deleted).toEqual([image.body.id]);
    expect((await fetch(`${server.baseUrl}/i/${image.body.id}/raw`)).status).toBe(410);
    expect((await alice.request("DELETE", `/api/v1/me/jobs/${jobId}`)).status).toBe(204);
    expect((await alice.json("GET", `/api/v1/jobs/${jobId}/outputs/0`)).status).toBe(410);
    expect((await alice.request("DELETE", `/api/v1/me/tokens/${tokenId}`)).status).toBe(204);
    expect((await send(server.baseUrl, "/api/v1/images", imageForm(photo), { authorization: `Bearer ${aliceToken}` })).status).toBe(401);
  });
});
