import { symmetricEncrypt } from "better-auth/crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hashStoredSecrets, SecretHasher } from "../../src/accounts/stored-secrets.js";
import { describeEachDialect } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";
import { Browser, dumpTables, PASSWORD, startAccountsServer, uniqueEmail } from "./helpers.js";

const SECRET = "stored-secrets-test-secret-0123456789abcdef";

/** The session token inside the signed cookie value (token.signature). */
function sessionToken(browser: Browser): string {
  return decodeURIComponent(browser.jar.cookies.get("pixhaven.session_token")!).split(".")[0]!;
}

async function signUp(server: TestServer, email = uniqueEmail("secret")): Promise<Browser> {
  const browser = new Browser(server.baseUrl);
  expect((await browser.post("/api/auth/sign-up/email", { email, password: PASSWORD, name: "Secret" })).status).toBe(200);
  return browser;
}

describeEachDialect("accounts: session tokens and recovery codes are stored as keyed hashes (P20)", (dialect) => {
  let server: TestServer;
  const hasher = new SecretHasher(SECRET);

  beforeAll(async () => {
    server = await startAccountsServer({ secret: SECRET }, { dialect });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("P20: the session row holds a hash of the cookie's token, and the cookie signs in", async () => {
    const browser = await signUp(server);
    const token = sessionToken(browser);
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(await dumpTables(server, dialect)).not.toContain(token);
    const rows = await server.px.db.db.selectFrom("session").select("token").execute();
    expect(rows.map((r) => r.token)).toContain(hasher.hash(token));
    for (const { token: stored } of rows) expect(SecretHasher.isHash(stored)).toBe(true);
    expect((await browser.json("GET", "/api/v1/me")).status).toBe(200);
    expect((await browser.json("GET", "/api/auth/get-session")).body.session.token).toBe(token);
  });

  it("P20: a stored hash presented as a cookie signs nobody in", async () => {
    const browser = await signUp(server);
    const me = (await browser.json("GET", "/api/v1/me")).body;
    const { token: stored } = await server.px.db.db.selectFrom("session").select("token").where("userId", "=", me.account.id).executeTakeFirstOrThrow();
    // The attacker copied the database and even knows the cookie format; the signature is of the real token, not this.
    const [, signature] = decodeURIComponent(browser.jar.cookies.get("pixhaven.session_token")!).split(".");
    const forged = new Browser(server.baseUrl);
    forged.jar.cookies.set("pixhaven.session_token", encodeURIComponent(`${stored}.${signature}`));
    expect((await forged.json("GET", "/api/v1/me")).status).toBe(401);
  });

  it("P20: signing out and revoking a session work on hashed tokens", async () => {
    const email = uniqueEmail("revoke");
    const first = await signUp(server, email);
    const second = new Browser(server.baseUrl);
    expect((await second.post("/api/auth/sign-in/email", { email, password: PASSWORD })).status).toBe(200);
    const sessions = (await first.json("GET", "/api/v1/me")).body.sessions as Array<{ id: string }>;
    expect(sessions).toHaveLength(2);
    const mine = (await first.json("GET", "/api/auth/get-session")).body.session.id as string;
    const other = sessions.find((s) => s.id !== mine)!;
    expect((await first.json("DELETE", `/api/v1/me/sessions/${other.id}`)).status).toBe(204);
    expect((await second.json("GET", "/api/v1/me")).status).toBe(401);
    expect((await first.post("/api/auth/sign-out")).status).toBe(200);
    expect((await first.json("GET", "/api/v1/me")).status).toBe(401);
    // better-auth's token-based session routes are off: they would hand out or need tokens.
    const fresh = new Browser(server.baseUrl);
    expect((await fresh.post("/api/auth/sign-in/email", { email, password: PASSWORD })).status).toBe(200);
    expect((await fresh.json("GET", "/api/auth/list-sessions")).status).toBe(404);
  });

  it("P20: recovery codes are stored as keyed hashes, never as the codes", async () => {
    const browser = await signUp(server);
    const enabled = await browser.json("POST", "/api/auth/two-factor/enable", { password: PASSWORD });
    expect(enabled.status).toBe(200);
    const codes = enabled.body.backupCodes as string[];
    const dump = await dumpTables(server, dialect);
    for (const code of codes) expect(dump).not.toContain(code);
    const userId = (await browser.json("GET", "/api/v1/me")).body.account.id as string;
    const row = await server.px.db.db.selectFrom("twoFactor").select("backupCodes").where("userId", "=", userId).executeTakeFirstOrThrow();
    expect(JSON.parse(row.backupCodes)).toEqual(codes.map((c) => hasher.hash(c)));
  });

  it("P20: rows written before hashing are converted at start: sessions stay signed in, recovery codes keep working", async () => {
    const browser = await signUp(server);
    const token = sessionToken(browser);
    const db = server.px.db.db;
    const userId = (await browser.json("GET", "/api/v1/me")).body.account.id as string;
    // As an earlier version stored them: the token itself, and the codes encrypted with the secret.
    await db.updateTable("session").set({ token }).where("userId", "=", userId).execute();
    const codes = ["AAAAA-11111", "BBBBB-22222"];
    await db.insertInto("twoFactor").values({ id: `tf-${userId}`, userId, secret: "unused", backupCodes: await symmetricEncrypt({ key: SECRET, data: JSON.stringify(codes) }) }).execute();

    await hashStoredSecrets(db, hasher, SECRET);
    await hashStoredSecrets(db, hasher, SECRET); // a second start changes nothing
    expect(await dumpTables(server, dialect)).not.toContain(token);
    const row = await db.selectFrom("twoFactor").select("backupCodes").where("userId", "=", userId).executeTakeFirstOrThrow();
    expect(JSON.parse(row.backupCodes)).toEqual(codes.map((c) => hasher.hash(c)));
    expect((await browser.json("GET", "/api/v1/me")).status).toBe(200);
  });
});
