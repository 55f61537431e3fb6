import { base32 } from "@better-auth/utils/base32";
import { createOTP } from "@better-auth/utils/otp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { Browser, signedInBrowser, startAccountsServer, uniqueEmail } from "../accounts/helpers.js";
import { describeEachDialect } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";

/**
 * Every operation the API describes (its OpenAPI document), called with hostile path values,
 * query strings and JSON bodies: anonymously, with an API token and with a signed-in browser's
 * cookie (an administrator's with a second factor on the admin routes). Whatever is sent, the answer is below 500 and, when it is an error in JSON, in the one
 * error shape; the server stays up.
 */

const HOSTILE_IDS = ["..", "%2e%2e%2f%2e%2e", "%00", "a%0d%0aSet-Cookie:%20x=1", "x".repeat(300), "%F0%9F%92%A9", "'%20OR%201=1--", "-1", "1e309", "%25", "null", "__proto__", "constructor"];
const HOSTILE_QUERIES = ["", "?limit=-1&cursor=%00", "?limit=1e309&offset=NaN&before=x", "?limit=99999999999999999999&cursor=" + "z".repeat(2000), "?__proto__[x]=1&constructor=1", "?limit=1&limit=2&lang=%ff", "?status=%27&tool=..%2f"];
const WRONG_VALUES: unknown[] = [null, -1, 1e308, "", "x".repeat(70_000), [], [[[[]]]], { a: { b: { c: {} } } }, true, "\u0000\ud800", "__proto__"];

/** Bodies for a JSON operation: no body, wrong top-level shapes, and every property of its schema given each wrong value. */
function hostileBodies(schema: any): unknown[] {
  const bodies: unknown[] = [undefined, null, [], "text", 42, {}, { __proto__: { admin: true } }, JSON.parse('{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"x": 1}}}')];
  const properties = Object.keys(schema?.properties ?? {});
  for (const value of WRONG_VALUES) {
    const body: Record<string, unknown> = {};
    for (const name of properties) body[name] = value;
    bodies.push(body);
  }
  return bodies;
}

interface Operation {
  method: string;
  path: string;
  bodySchema: any;
  json: boolean;
}

function operationsOf(doc: any, more: Operation[]): Operation[] {
  const ops: Operation[] = [...more];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const content = op.requestBody?.content ?? {};
      ops.push({ method: method.toUpperCase(), path, bodySchema: content["application/json"]?.schema, json: !!content["application/json"] || !op.requestBody });
    }
  }
  // Operations that end the session or the account come last, so the rest run signed in.
  const last = (op: Operation) => (op.method === "DELETE" && /\/me$/.test(op.path)) || /sign-out|revoke/.test(op.path);
  return [...ops.filter((op) => !last(op)), ...ops.filter(last)];
}

/** Sign-in's own endpoints (not in the document), with the fields they read. */
const AUTH_FIELDS = { type: "object", properties: Object.fromEntries(["email", "password", "name", "newPassword", "currentPassword", "token", "code", "callbackURL", "rememberMe", "trustDevice", "provider"].map((f) => [f, {}])) };
const AUTH_OPERATIONS: Operation[] = [
  "sign-in/email",
  "sign-up/email",
  "sign-in/social",
  "request-password-reset",
  "reset-password",
  "change-password",
  "update-user",
  "two-factor/enable",
  "two-factor/verify-totp",
  "two-factor/verify-backup-code",
  "send-verification-email",
].map((route) => ({ method: "POST", path: `/api/auth/${route}`, bodySchema: AUTH_FIELDS, json: true }));

describeEachDialect("every API operation, attacked", (dialect) => {
  let srv: TestServer;
  let browser: Browser;
  let admin: Browser;
  let bearer: string;
  let imageId: string;

  beforeAll(async () => {
    // No rate limit: every request reaches its handler.
    srv = await startAccountsServer({}, { dialect, config: { metricsToken: "metrics-token-for-the-fuzz-test-0123", uploadRateLimit: null, reportRateLimit: null, contactRateLimit: null } });
    browser = await signedInBrowser(srv.baseUrl);
    const created = await browser.post("/api/v1/me/tokens", { name: "fuzz" });
    bearer = (await created.json()).token;
    const form = new FormData();
    form.append("file", new Blob([(await plainJpeg(32, 32, 1)) as Uint8Array<ArrayBuffer>]), "a.jpg");
    imageId = (await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form })).json()).id;
    // An administrator with a second factor reaches the admin routes' handlers too.
    const email = uniqueEmail("admin");
    const { password } = await srv.px.core.accounts.createUser(email, true);
    admin = new Browser(srv.baseUrl);
    expect((await admin.post("/api/auth/sign-in/email", { email, password })).status).toBe(200);
    const enabled = await (await admin.post("/api/auth/two-factor/enable", { password })).json();
    const secret = new TextDecoder().decode(base32.decode(new URL(enabled.totpURI).searchParams.get("secret")!));
    const code = await createOTP(secret, { period: 30, digits: 6 }).hotp(Math.floor(Date.now() / 30_000));
    expect((await admin.post("/api/auth/two-factor/verify-totp", { code })).status).toBe(200);
    expect((await admin.get("/api/v1/admin/reports")).status).toBe(200);
  });
  afterAll(() => srv?.stop());

  it("U+0000 in an id, a query or a JSON field answers 400 invalid_text, on either database", async () => {
    const expectRefused = async (res: Response) => {
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { code: "invalid_text", message: expect.any(String) } });
    };
    const auth = { authorization: `Bearer ${bearer}` };
    await expectRefused(await fetch(`${srv.baseUrl}/api/v1/me/images/%00`, { method: "DELETE", headers: auth }));
    await expectRefused(await fetch(`${srv.baseUrl}/api/v1/me/images?cursor=a%00b`, { headers: auth }));
    await expectRefused(await browser.post("/api/v1/me/tokens", { name: "a\u0000b" }));
    await expectRefused(await fetch(`${srv.baseUrl}/api/v1/contact`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "a@example.org", message: "hello there\u0000 friend" }) }));
    await expectRefused(await browser.post("/api/auth/sign-in/email", { email: "a\u0000@example.org", password: "x" }));
    // Deeply nested, or a very long array, is walked without exhausting the stack.
    const contact = (body: string) => fetch(`${srv.baseUrl}/api/v1/contact`, { method: "POST", headers: { "content-type": "application/json" }, body });
    await expectRefused(await contact(`{"email": "a@example.org", "message": ${"[".repeat(20_000)}"\\u0000"${"]".repeat(20_000)}}`));
    const long = await contact(`{"email": "a@example.org", "message": [${"0,".repeat(200_000)}0]}`);
    expect(long.status).toBe(400);
    expect((await long.json()).error.code).toBe("invalid_request");
    // Nothing of it was stored.
    expect(((await (await browser.get("/api/v1/me/tokens")).json()).tokens as Array<{ name: string }>).map((t) => t.name)).toEqual(["fuzz"]);
  });

  it("an account's name is text of 1 to 100 characters, at sign-up and after", async () => {
    for (const name of [null, "", "   ", 42, "n".repeat(101), ["x"]]) {
      const res = await browser.post("/api/auth/update-user", { name });
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect((await res.json()).error.code).toBe("invalid_name");
    }
    expect((await browser.post("/api/auth/update-user", { name: "New name" })).status).toBe(200);
    const stranger = await browser.post("/api/auth/sign-up/email", { name: "n".repeat(101), email: "long-name@example.org", password: "correct horse battery staple" });
    expect(stranger.status).toBe(400);
  });

  it("uploads of images and of tool files: hostile multipart never answers 5xx, and answers errors in the one shape", async () => {
    const jpeg = await plainJpeg(32, 32, 2);
    const file = (name: string, bytes: Uint8Array = jpeg) => ["file", new Blob([bytes as Uint8Array<ArrayBuffer>]), name] as const;
    const cases: Array<Array<readonly [string, string] | ReturnType<typeof file>>> = [
      [],
      [["tool", "convert"]],
      [["tool", "convert"], ["params", "{"]],
      [["tool", "convert"], ["params", "null"], file("a.jpg")],
      [["tool", "convert"], ["params", "[]"], file("a.jpg")],
      [["tool", "convert"], ["params", '"png"'], file("a.jpg")],
      [["tool", "convert"], ["params", `{"format": ${"[".repeat(3000)}${"]".repeat(3000)}}`], file("a.jpg")],
      [["tool", "convert"], ["params", JSON.stringify({ format: "png", quality: 1e308, width: -1 })], file("a.jpg")],
      [["tool", "__proto__"], ["params", "{}"], file("a.jpg")],
      [["tool", "convert"], ["tool", "resize"], ["params", "{}"], file("a.jpg")],
      [file("first.jpg"), ["tool", "convert"], ["params", "{}"]],
      [["tool", "convert"], ["params", JSON.stringify({ format: "png" })], file("empty.jpg", new Uint8Array(0))],
      [["tool", "convert"], ["params", JSON.stringify({ format: "png" })], file("text.jpg", new TextEncoder().encode("not a picture at all"))],
      [["tool", "convert"], ["params", JSON.stringify({ format: "png" })], file("\u202e\u0000../../x".repeat(50))],
      [["tool", "ocr"], ["params", JSON.stringify({ language: "../../etc/passwd" })], file("a.jpg")],
      [["file", "a text field named file"]],
    ];
    for (const [index, parts] of cases.entries()) {
      for (const path of ["/api/v1/jobs", "/api/v1/images"]) {
        const form = new FormData();
        for (const part of parts) {
          if (part.length === 3) form.append(part[0], part[1], part[2]);
          else form.append(part[0], part[1]);
        }
        const res = await fetch(`${srv.baseUrl}${path}`, { method: "POST", body: form, headers: { authorization: `Bearer ${bearer}` } });
        expect(res.status, `case ${index} to ${path}`).toBeLessThan(500);
        if (res.status >= 400) {
          const body = await res.json();
          expect(Object.keys(body), `case ${index} to ${path}`).toEqual(["error"]);
          expect(body.error.code, `case ${index} to ${path}`).toMatch(/^[a-z0-9_]+$/);
        } else await res.body?.cancel();
      }
    }
    expect((await fetch(`${srv.baseUrl}/healthz`)).status).toBe(200);
  });

  it("never answers 5xx, always answers an error in the one shape, and stays up", async () => {
    const doc = await (await fetch(`${srv.baseUrl}/openapi.json`)).json();
    const operations = operationsOf(doc, AUTH_OPERATIONS);
    expect(operations.length).toBeGreaterThan(30);
    const failures: string[] = [];
    let sent = 0;
    const send = async (method: string, url: string, body: unknown, who: "anonymous" | "token" | "cookie" | "admin") => {
      const headers: Record<string, string> = {};
      if (who === "token") headers.authorization = `Bearer ${bearer}`;
      const init: RequestInit = { method, headers, redirect: "manual" };
      if (body !== undefined) {
        headers["content-type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      const signedIn = who === "cookie" ? browser : who === "admin" ? admin : null;
      const res = signedIn ? await signedIn.request(method, url.slice(srv.baseUrl.length), body) : await fetch(url, init);
      sent++;
      const text = await res.text();
      const label = `${who} ${method} ${url.slice(srv.baseUrl.length, srv.baseUrl.length + 120)} ${JSON.stringify(body)?.slice(0, 80)} → ${res.status}`;
      if (res.status >= 500) failures.push(`${label}: ${text.slice(0, 200)}`);
      else if (res.status >= 400 && res.headers.get("content-type")?.startsWith("application/json")) {
        let parsed: any;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = null;
        }
        const shaped = parsed?.error && typeof parsed.error.code === "string" && /^[a-z0-9_]+$/.test(parsed.error.code) && typeof parsed.error.message === "string" && Object.keys(parsed).length === 1;
        if (!shaped) failures.push(`${label}: not the error shape: ${text.slice(0, 200)}`);
      }
    };

    for (const op of operations) {
      const withIds = (value: string) => op.path.replace(/\{[^}]+\}/g, value);
      const paths = op.path.includes("{") ? [withIds(imageId), ...HOSTILE_IDS.map(withIds)] : [op.path];
      // The administrator only where it makes a difference: the admin routes.
      const callers = op.path.startsWith("/api/v1/admin/") ? (["anonymous", "cookie", "admin"] as const) : (["anonymous", "token", "cookie"] as const);
      for (const who of callers) {
        for (const path of paths) await send(op.method, `${srv.baseUrl}${path}`, undefined, who);
        if (op.method === "GET") for (const query of HOSTILE_QUERIES.slice(1)) await send(op.method, `${srv.baseUrl}${paths[0]}${query}`, undefined, who);
        if (op.method !== "GET" && op.json) {
          for (const body of hostileBodies(op.bodySchema)) await send(op.method, `${srv.baseUrl}${paths[0]}`, body, who);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(1500);
    expect((await fetch(`${srv.baseUrl}/healthz`)).status).toBe(200);
  });
});
