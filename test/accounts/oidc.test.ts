import fs from "node:fs/promises";
import { createServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import Provider from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createPixhaven, type Pixhaven } from "../../src/server.js";
import { freePort } from "../helpers/server.js";
import { Browser, CookieJar } from "./helpers.js";

/** The identity provider's side of a browser: follows its redirects and answers its dev login and consent forms. */
async function throughProvider(start: string, jar: CookieJar): Promise<string> {
  let url = start;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, { redirect: "manual", headers: { cookie: jar.header() } });
    jar.store(res);
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get("location")!, url).toString();
      if (!next.startsWith(new URL(start).origin)) return next; // back to Pixhaven
      url = next;
      continue;
    }
    const html = await res.text();
    const action = new URL(/action="([^"]+)"/.exec(html)![1]!, url).toString();
    const form: Record<string, string> = html.includes('name="login"') ? { prompt: "login", login: "grace", password: "anything" } : { prompt: "consent" };
    const submitted = await fetch(action, { method: "POST", redirect: "manual", headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
    jar.store(submitted);
    url = new URL(submitted.headers.get("location")!, action).toString();
  }
  throw new Error("the provider never sent the browser back");
}

describe("accounts: single sign-on with OpenID Connect (code + PKCE, discovery) [sqlite]", () => {
  let idp: Server;
  let px: Pixhaven;
  let baseUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    const [idpPort, port] = [await freePort(), await freePort()];
    baseUrl = `http://127.0.0.1:${port}`;
    const issuer = `http://127.0.0.1:${idpPort}`;
    const provider = new Provider(issuer, {
      clients: [{ client_id: "pixhaven", client_secret: "a-client-secret-for-tests", redirect_uris: [`${baseUrl}/api/auth/callback/oidc`], grant_types: ["authorization_code"], response_types: ["code"] }],
      features: { devInteractions: { enabled: true } },
      cookies: { keys: ["test-cookie-key"] },
      pkce: { required: () => true },
      claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, email: `${sub}@idp.example`, email_verified: true, name: "Grace Hopper" }) }),
    });
    idp = createServer(provider.callback());
    await new Promise<void>((resolve) => idp.listen(idpPort, "127.0.0.1", resolve));
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-oidc-"));
    const base = loadConfig({}, { dataDir });
    const config = loadConfig({}, {
      dataDir,
      port,
      host: "127.0.0.1",
      publicUrl: baseUrl,
      databaseUrl: `sqlite:${path.join(dataDir, "pixhaven.sqlite")}`,
      accounts: { ...base.accounts, signInRateLimit: null, oidc: { issuer, clientId: "pixhaven", clientSecret: "a-client-secret-for-tests", name: "Test IdP" } },
    });
    px = await createPixhaven(config, { logger: false });
    await px.app.listen({ port, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await px?.close();
    await new Promise((resolve) => idp?.close(resolve));
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("signs in through the provider and creates the account from its verified e-mail", async () => {
    const browser = new Browser(baseUrl);
    const start = await browser.json("POST", "/api/auth/sign-in/social", { provider: "oidc", callbackURL: "/account" });
    expect(start.status).toBe(200);
    const authorize = new URL(start.body.url);
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    const callback = await throughProvider(start.body.url, new CookieJar());
    expect(callback).toContain(`${baseUrl}/api/auth/callback/oidc?`);
    const landed = await browser.get(callback);
    expect(landed.status).toBe(302);
    expect(landed.headers.get("location")).toBe("/account");
    const me = await browser.json("GET", "/api/v1/me");
    expect(me.status).toBe(200);
    expect(me.body.account).toMatchObject({ email: "grace@idp.example", emailVerified: true, signInMethods: ["oidc"] });
  });
});
