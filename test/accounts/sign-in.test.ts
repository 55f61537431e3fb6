import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";
import { Browser, PASSWORD, startAccountsServer, startMailbox, uniqueEmail } from "./helpers.js";

describeEachDialect("accounts: e-mail sign-up, verification, reset, sessions, CSRF", (dialect) => {
  let server: TestServer;
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;

  beforeAll(async () => {
    mailbox = await startMailbox();
    server = await startAccountsServer({ smtpUrl: mailbox.url, requireEmailVerification: true }, { dialect });
  });
  afterAll(async () => {
    await server?.stop();
    await mailbox?.close();
  });

  it("signs up, verifies the address through the mailed link, and then signs in with an HttpOnly Lax cookie", async () => {
    const email = uniqueEmail();
    const browser = new Browser(server.baseUrl);
    const before = mailbox.messages.length;
    expect((await browser.post("/api/auth/sign-up/email", { email, password: PASSWORD, name: "Ada" })).status).toBe(200);
    expect((await browser.json("GET", "/api/v1/me")).status).toBe(401);
    // Not verified yet: no sign-in.
    expect((await browser.post("/api/auth/sign-in/email", { email, password: PASSWORD })).status).toBe(403);
    const link = await mailbox.linkTo(email, before);
    const verified = await browser.get(link);
    expect([200, 302]).toContain(verified.status);
    const setCookie = verified.headers.getSetCookie().find((c) => c.startsWith("pixhaven.session_token="));
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const me = await browser.json("GET", "/api/v1/me");
    expect(me.status).toBe(200);
    expect(me.body.account).toMatchObject({ email, emailVerified: true, role: "user", twoFactorEnabled: false, signInMethods: ["credential"] });
    // A sign-in opens a new session with a new cookie.
    const first = browser.jar.cookies.get("pixhaven.session_token");
    const signIn = await browser.post("/api/auth/sign-in/email", { email, password: PASSWORD });
    expect(signIn.status).toBe(200);
    expect(browser.jar.cookies.get("pixhaven.session_token")).not.toBe(first);
    // The session is the HttpOnly cookie alone: no copy of its token in the body a script could read.
    const body = await signIn.json();
    expect(body.user).toMatchObject({ email });
    expect(body).not.toHaveProperty("token");
    expect(JSON.stringify(body)).not.toContain(decodeURIComponent(browser.jar.cookies.get("pixhaven.session_token")!).split(".")[0]!);
  });

  it("resets a forgotten password through the mailed link; the token works once and old sessions end", async () => {
    const email = uniqueEmail();
    const browser = new Browser(server.baseUrl);
    let before = mailbox.messages.length;
    await browser.post("/api/auth/sign-up/email", { email, password: PASSWORD, name: "Bob" });
    await browser.get(await mailbox.linkTo(email, before));
    expect((await browser.json("GET", "/api/v1/me")).status).toBe(200);

    const stranger = new Browser(server.baseUrl);
    before = mailbox.messages.length;
    expect((await stranger.post("/api/auth/request-password-reset", { email, redirectTo: `${server.baseUrl}/account/reset` })).status).toBe(200);
    const link = await mailbox.linkTo(email, before);
    const redirect = await stranger.get(link);
    expect(redirect.status).toBe(302);
    const token = new URL(redirect.headers.get("location")!).searchParams.get("token")!;
    expect(token).toBeTruthy();
    const newPassword = "another long passphrase";
    expect((await stranger.post("/api/auth/reset-password", { newPassword, token })).status).toBe(200);
    expect((await stranger.post("/api/auth/reset-password", { newPassword: "yet another passphrase", token })).status).toBe(400);
    expect((await browser.json("GET", "/api/v1/me")).status).toBe(401); // revoked
    const refused = await stranger.post("/api/auth/sign-in/email", { email, password: PASSWORD });
    expect(refused.status).toBe(401);
    // better-auth's errors answer in the API's one shape, as every other route does.
    expect(refused.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await refused.json()).toEqual({ error: { code: "invalid_email_or_password", message: expect.any(String) } });
    expect((await stranger.post("/api/auth/sign-in/email", { email, password: newPassword })).status).toBe(200);
  });

  it("answers a malformed or incomplete sign-in in the API's error shape", async () => {
    const stranger = new Browser(server.baseUrl);
    for (const body of [{ email: "not an address", password: PASSWORD }, { password: PASSWORD }, "{not json"]) {
      const res = await stranger.request("POST", "/api/auth/sign-in/email", body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
      const answer = await res.json();
      expect(Object.keys(answer)).toEqual(["error"]);
      expect(answer.error).toEqual({ code: expect.stringMatching(/^[a-z0-9_]+$/), message: expect.any(String) });
    }
  });

  it("lists sessions and revokes one; another user's session answers 404", async () => {
    const email = uniqueEmail();
    const laptop = new Browser(server.baseUrl);
    const before = mailbox.messages.length;
    await laptop.post("/api/auth/sign-up/email", { email, password: PASSWORD, name: "Cy" });
    await laptop.get(await mailbox.linkTo(email, before));
    const phone = new Browser(server.baseUrl);
    expect((await phone.post("/api/auth/sign-in/email", { email, password: PASSWORD })).status).toBe(200);
    const { body } = await laptop.json("GET", "/api/v1/me/sessions");
    expect(body.sessions.length).toBeGreaterThanOrEqual(2);
    const other = body.sessions.find((s: any) => !s.current);
    expect(other.network).toBe("127.0.0.0"); // anonymised (P10)

    const intruderEmail = uniqueEmail("intruder");
    const intruder = new Browser(server.baseUrl);
    const b2 = mailbox.messages.length;
    await intruder.post("/api/auth/sign-up/email", { email: intruderEmail, password: PASSWORD, name: "I" });
    await intruder.get(await mailbox.linkTo(intruderEmail, b2));
    expect((await intruder.json("DELETE", `/api/v1/me/sessions/${other.id}`)).status).toBe(404);
    expect((await phone.json("GET", "/api/v1/me")).status).toBe(200);

    expect((await laptop.json("DELETE", `/api/v1/me/sessions/${other.id}`)).status).toBe(204);
    expect((await phone.json("GET", "/api/v1/me")).status).toBe(401);
    expect((await laptop.json("GET", "/api/v1/me")).status).toBe(200);
  });

  it("refuses a POST with no Origin or a foreign one (CSRF), for sign-in and for cookie-authenticated API calls", async () => {
    const email = uniqueEmail();
    const noOrigin = await fetch(`${server.baseUrl}/api/auth/sign-in/email`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }) });
    expect(noOrigin.status).toBe(403);
    const foreign = new Browser(server.baseUrl, { origin: "https://evil.example" });
    expect((await foreign.post("/api/auth/sign-in/email", { email, password: PASSWORD })).status).toBe(403);

    const browser = new Browser(server.baseUrl);
    const before = mailbox.messages.length;
    await browser.post("/api/auth/sign-up/email", { email, password: PASSWORD, name: "Di" });
    await browser.get(await mailbox.linkTo(email, before));
    const cookie = browser.jar.header();
    // Spelt otherwise, the path reaches the same routes and meets the same check.
    for (const [origin, route] of [[undefined, "/api/v1/me/tokens"], ["https://evil.example", "/api/v1/me/tokens"], ["https://evil.example", "/%61pi/v1/me/tokens"], ["https://evil.example", "/api/v1/me/%74okens"]] as const) {
      const res = await fetch(`${server.baseUrl}${route}`, { method: "POST", headers: { cookie, "content-type": "application/json", ...(origin ? { origin } : {}) }, body: JSON.stringify({ name: "x" }) });
      expect(res.status).toBe(403);
      expect((await res.json()).error.code).toBe("origin_refused");
    }
    expect((await browser.json("POST", "/api/v1/me/tokens", { name: "ok" })).status).toBe(201);
  });
});
