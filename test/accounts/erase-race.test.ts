import { randomBytes } from "node:crypto";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect, listBlobs, listTemp, multipart } from "../helpers/http.js";
import { openRaw, type RawReply, waitForReply } from "../helpers/raw.js";
import type { TestServer } from "../helpers/server.js";
import { type Browser, PASSWORD, signedInBrowser, startAccountsServer } from "./helpers.js";

const CRLF = Buffer.from("\r\n");

/** Noise compresses badly: a body of tens of kilobytes, cut in two with certainty. */
const noisyJpeg = (seed: number) =>
  sharp(randomBytes(160 * 160 * 3), { raw: { width: 160, height: 160, channels: 3 } })
    .jpeg({ quality: 90 + seed })
    .toBuffer();

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never: ${what}`);
}

describeEachDialect("P17: an account erased while its upload arrives", (dialect) => {
  let srv: TestServer;
  let port: number;
  beforeAll(async () => {
    srv = await startAccountsServer({}, { dialect }); // no worker: queued jobs stay as they are
    port = Number(new URL(srv.baseUrl).port);
  });
  afterAll(() => srv?.stop());

  /** A signed-in account with an API token; the upload goes on a raw connection, stopped halfway. */
  async function startUpload(path: string, before: Buffer, rest: Buffer): Promise<{ browser: Browser; userId: string; finish: () => Promise<RawReply> }> {
    const browser = await signedInBrowser(srv.baseUrl);
    const userId = (await browser.json("GET", "/api/v1/me")).body.account.id as string;
    const token = (await (await browser.post("/api/v1/me/tokens", { name: "uploader" })).json()).token as string;
    const conn = openRaw(port);
    await new Promise<void>((resolve) => conn.socket.once("connect", () => resolve()));
    conn.socket.write(
      `POST ${path} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${multipart.headers["content-type"]}\r\nContent-Length: ${before.length + rest.length}\r\n\r\n`,
    );
    conn.socket.write(before);
    return {
      browser,
      userId,
      finish: async () => {
        conn.socket.write(rest);
        const reply = await waitForReply(conn.received, 30_000);
        conn.socket.destroy();
        return reply;
      },
    };
  }

  const erase = async (browser: Browser) => expect((await browser.json("DELETE", "/api/v1/me", { password: PASSWORD })).status).toBe(204);

  it("P17: an image sent with the account's token while it is erased is refused (401 account_gone) and nothing of it is kept", async () => {
    const jpeg = await noisyJpeg(0);
    const body = Buffer.concat([multipart.fileHead("race.jpg"), jpeg, CRLF, multipart.end]);
    const half = body.length >> 1;
    const upload = await startUpload("/api/v1/images", body.subarray(0, half), body.subarray(half));
    // The upload is under way (its owner known, its file being written) when the account goes.
    await until(async () => (await listTemp(srv.dataDir)).length > 0, "the upload reached its temp file");
    await erase(upload.browser);
    const reply = await upload.finish();
    expect(reply.status, reply.text).toBe(401);
    expect(reply.body.error.code).toBe("account_gone");
    expect(await srv.px.db.db.selectFrom("images").select("id").where("owner_id", "=", upload.userId).execute()).toEqual([]);
    expect(await srv.px.db.db.selectFrom("images").select("id").execute()).toEqual([]);
    expect(await listBlobs(srv.px.blobs)).toEqual([]);
    await until(async () => (await listTemp(srv.dataDir)).length === 0, "the temp file is gone");
  });

  it("P17: a batch whose account is erased between its files is withdrawn (401 account_gone): no job, row or file is left", async () => {
    const [first, second] = [await noisyJpeg(1), await noisyJpeg(2)];
    const body = Buffer.concat([multipart.field("tool", "strip"), multipart.field("params", "{}"), multipart.fileHead("one.jpg"), first, CRLF, multipart.fileHead("two.jpg"), second, CRLF, multipart.end]);
    const cut = body.length - (second.length >> 1) - CRLF.length - multipart.end.length;
    const upload = await startUpload("/api/v1/jobs", body.subarray(0, cut), body.subarray(cut));
    // The first file is queued as a job of the account before the account goes.
    await until(async () => !!(await srv.px.db.db.selectFrom("jobs").select("id").where("owner_id", "=", upload.userId).executeTakeFirst()), "the first job was queued");
    await erase(upload.browser);
    const reply = await upload.finish();
    expect(reply.status, reply.text).toBe(401);
    expect(reply.body.error.code).toBe("account_gone");
    expect(await srv.px.db.db.selectFrom("jobs").select(["id", "input_name"]).execute()).toEqual([]);
    expect(await listBlobs(srv.px.blobs)).toEqual([]);
    await until(async () => (await listTemp(srv.dataDir)).length === 0, "the temp files are gone");
  });
});
