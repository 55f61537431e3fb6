import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { base32 } from "@better-auth/utils/base32";
import { createOTP } from "@better-auth/utils/otp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/config.js";
import type { TestServer } from "../helpers/server.js";
import { Browser, PASSWORD, signedInBrowser, startAccountsServer, uniqueEmail } from "./helpers.js";

const PERIOD_MS = 30_000;

/** The authenticator app: the code for the time-step `offset` steps from now. */
function authenticator(totpURI: string) {
  const secret = new TextDecoder().decode(base32.decode(new URL(totpURI).searchParams.get("secret")!));
  const otp = createOTP(secret, { period: 30, digits: 6 });
  return (offset = 0) => otp.hotp(Math.floor(Date.now() / PERIOD_MS) + offset);
}

async function signIn(baseUrl: string, email: string, password: string) {
  const browser = new Browser(baseUrl);
  const res = await browser.json("POST", "/api/auth/sign-in/email", { email, password });
  return { browser, res };
}

describe("accounts: TOTP with replay refusal, recovery codes, admins need a second factor (P20) [sqlite]", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startAccountsServer({});
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("P20: an admin without a second factor cannot reach admin routes; with TOTP they can, and a code is accepted once only", async () => {
    // Keep clear of the end of a time-step, so "now" and "next" below stay what they say.
    const intoStep = Date.now() % PERIOD_MS;
    if (intoStep > PERIOD_MS - 5000) await new Promise((r) => setTimeout(r, PERIOD_MS - intoStep + 100));
    const email = uniqueEmail("admin");
    const { password } = await server.px.core.accounts.createUser(email, true);
    const { browser: admin, res } = await signIn(server.baseUrl, email, password);
    expect(res.status).toBe(200);
    expect((await admin.json("GET", "/api/v1/me")).body.account).toMatchObject({ role: "admin", twoFactorEnabled: false });
    expect((await admin.json("GET", "/api/v1/admin/stats")).status).toBe(404);
    expect((await admin.json("POST", "/api/v1/admin/invites")).status).toBe(404);

    const enabled = await admin.json("POST", "/api/auth/two-factor/enable", { password });
    expect(enabled.status).toBe(200);
    expect(enabled.body.totpURI).toMatch(/^otpauth:\/\/totp\/Pixhaven:/);
    expect(enabled.body.backupCodes.length).toBeGreaterThanOrEqual(8);
    const code = authenticator(enabled.body.totpURI);
    const enrolCode = await code(0);
    expect((await admin.json("POST", "/api/auth/two-factor/verify-totp", { code: enrolCode })).status).toBe(200);
    expect((await admin.json("GET", "/api/v1/me")).body.account.twoFactorEnabled).toBe(true);
    const stats = await admin.json("GET", "/api/v1/admin/stats");
    expect(stats.status).toBe(200);
    expect(stats.body.users).toBeGreaterThanOrEqual(1);

    // A new sign-in asks for the second factor; the enrolment code is refused there.
    const second = await signIn(server.baseUrl, email, password);
    expect(second.res.body.twoFactorRedirect).toBe(true);
    expect((await second.browser.json("GET", "/api/v1/me")).status).toBe(401);
    const replay = await second.browser.json("POST", "/api/auth/two-factor/verify-totp", { code: enrolCode });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe("totp_code_reused");
    const nextCode = await code(1);
    expect((await second.browser.json("POST", "/api/auth/two-factor/verify-totp", { code: nextCode })).status).toBe(200);
    expect((await second.browser.json("GET", "/api/v1/admin/stats")).status).toBe(200);
    // The same code once more, in another sign-in: refused.
    const third = await signIn(server.baseUrl, email, password);
    expect((await third.browser.json("POST", "/api/auth/two-factor/verify-totp", { code: nextCode })).status).toBe(401);

    // A recovery code works once.
    const recovery = enabled.body.backupCodes[0];
    const fourth = await signIn(server.baseUrl, email, password);
    expect((await fourth.browser.json("POST", "/api/auth/two-factor/verify-backup-code", { code: recovery })).status).toBe(200);
    expect((await fourth.browser.json("GET", "/api/v1/admin/stats")).status).toBe(200);
    const fifth = await signIn(server.baseUrl, email, password);
    expect((await fifth.browser.json("POST", "/api/auth/two-factor/verify-backup-code", { code: recovery })).status).toBe(401);
    // What the database holds is a hash of each remaining code, and a hash typed in is no code.
    const stored = await server.px.db.db.selectFrom("twoFactor").innerJoin("user", "user.id", "twoFactor.userId").select("backupCodes").where("user.email", "=", email).executeTakeFirstOrThrow();
    const hashes = JSON.parse(stored.backupCodes) as string[];
    expect(hashes).toHaveLength(enabled.body.backupCodes.length - 1);
    for (const code of enabled.body.backupCodes as string[]) expect(stored.backupCodes).not.toContain(code);
    expect((await fifth.browser.json("POST", "/api/auth/two-factor/verify-backup-code", { code: hashes[0] })).status).toBe(401);
    expect((await fifth.browser.json("POST", "/api/auth/two-factor/verify-backup-code", { code: enabled.body.backupCodes[1] })).status).toBe(200);

    // An API token never reaches admin routes, even the admin's own.
    const token = (await second.browser.json("POST", "/api/v1/me/tokens", { name: "admin script" })).body.token;
    expect((await fetch(`${server.baseUrl}/api/v1/admin/stats`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  it("a user with a second factor but without the admin role gets 404 from admin routes", async () => {
    const user = await signedInBrowser(server.baseUrl);
    const enabled = await user.json("POST", "/api/auth/two-factor/enable", { password: PASSWORD });
    expect((await user.json("POST", "/api/auth/two-factor/verify-totp", { code: await authenticator(enabled.body.totpURI)(0) })).status).toBe(200);
    const res = await user.json("GET", "/api/v1/admin/stats");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it("`pixhaven users add EMAIL --admin` creates an administrator and prints a one-time password", async () => {
    const email = uniqueEmail("cli");
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ["--import", "tsx", path.join(packageRoot(), "src", "main.ts"), "users", "add", email, "--admin"], {
      cwd: packageRoot(),
      env: { ...process.env, DATA_DIR: server.dataDir, DATABASE_URL: server.px.config.databaseUrl, LOG_LEVEL: "silent", PUBLIC_URL: server.baseUrl, MODEL_WORKERS: "1" },
    });
    const password = /one-time password: (\S+)/.exec(stdout)![1]!;
    const { browser, res } = await signIn(server.baseUrl, email, password);
    expect(res.status).toBe(200);
    expect((await browser.json("GET", "/api/v1/me")).body.account).toMatchObject({ email, role: "admin", emailVerified: true });
  });
});
