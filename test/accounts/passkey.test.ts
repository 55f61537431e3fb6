import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server.js";
import { SoftwareAuthenticator } from "./authenticator.js";
import { Browser, startAccountsServer, uniqueEmail } from "./helpers.js";

describe("accounts: passkeys with a software authenticator [sqlite]", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startAccountsServer({});
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("registers a passkey while signed in, then signs in with it alone; that session counts as a second factor", async () => {
    const email = uniqueEmail("passkey-admin");
    const { password } = await server.px.core.accounts.createUser(email, true);
    const browser = new Browser(server.baseUrl);
    expect((await browser.post("/api/auth/sign-in/email", { email, password })).status).toBe(200);
    const device = new SoftwareAuthenticator(server.baseUrl);
    const options = await browser.json("GET", "/api/auth/passkey/generate-register-options");
    expect(options.status).toBe(200);
    const registered = await browser.json("POST", "/api/auth/passkey/verify-registration", { response: device.register(options.body), name: "laptop" });
    expect(registered.status).toBe(200);
    expect((await browser.json("GET", "/api/v1/me")).body.account.passkeys).toEqual([expect.objectContaining({ name: "laptop" })]);
    expect((await browser.json("GET", "/api/v1/admin/stats")).status).toBe(404); // the password session has no second factor

    const elsewhere = new Browser(server.baseUrl);
    const challenge = await elsewhere.json("GET", "/api/auth/passkey/generate-authenticate-options");
    expect(challenge.status).toBe(200);
    const signedIn = await elsewhere.json("POST", "/api/auth/passkey/verify-authentication", { response: device.authenticate(challenge.body) });
    expect(signedIn.status).toBe(200);
    expect((await elsewhere.json("GET", "/api/v1/me")).body.account.email).toBe(email);
    expect((await elsewhere.json("GET", "/api/v1/admin/stats")).status).toBe(200);

    // A stranger's authenticator is not accepted.
    const stranger = new Browser(server.baseUrl);
    const again = await stranger.json("GET", "/api/auth/passkey/generate-authenticate-options");
    expect((await stranger.json("POST", "/api/auth/passkey/verify-authentication", { response: new SoftwareAuthenticator(server.baseUrl).authenticate(again.body) })).status).toBe(401);
  });
});
