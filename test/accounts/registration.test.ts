import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server.js";
import { Browser, PASSWORD, startAccountsServer, uniqueEmail } from "./helpers.js";

describe("accounts: REGISTRATION=closed and invite [sqlite]", () => {
  let closed: TestServer;
  let invite: TestServer;
  beforeAll(async () => {
    closed = await startAccountsServer({ registration: "closed" });
    invite = await startAccountsServer({ registration: "invite" });
  });
  afterAll(async () => {
    await closed?.stop();
    await invite?.stop();
  });

  it("closed: nobody signs up; accounts come from the shell", async () => {
    const res = await new Browser(closed.baseUrl).json("POST", "/api/auth/sign-up/email", { email: uniqueEmail(), password: PASSWORD, name: "X" });
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: "registration_closed", message: "Registration is closed on this server." });
    const email = uniqueEmail();
    const { password } = await closed.px.core.accounts.createUser(email, false);
    expect((await new Browser(closed.baseUrl).post("/api/auth/sign-in/email", { email, password })).status).toBe(200);
  });

  it("invite: sign-up needs an invitation code, good once", async () => {
    const browser = new Browser(invite.baseUrl);
    expect((await browser.json("POST", "/api/auth/sign-up/email", { email: uniqueEmail(), password: PASSWORD, name: "X" })).body.error.code).toBe("invitation_required");
    const { code } = await invite.px.core.accounts.invites.create(null);
    expect((await browser.json("POST", "/api/auth/sign-up/email", { email: uniqueEmail(), password: PASSWORD, name: "Y", inviteCode: code })).status).toBe(200);
    expect((await new Browser(invite.baseUrl).json("POST", "/api/auth/sign-up/email", { email: uniqueEmail(), password: PASSWORD, name: "Z", inviteCode: code })).status).toBe(403);
    // Only administrators with a second factor hand out codes.
    expect((await browser.json("POST", "/api/v1/admin/invites")).status).toBe(404);
  });
});
