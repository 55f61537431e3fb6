import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { fromNodeHeaders } from "better-auth/node";
import type { Accounts, Identity } from "../accounts/index.js";
import { CLIENT_NETWORK_HEADER, COOKIE_PREFIX } from "../accounts/auth.js";
import { AppError, notFound } from "../common/errors.js";
import { containsNul, nulRefused } from "./text-guard.js";
import { anonymiseIp } from "../privacy/anonymise-ip.js";

const identities = new WeakMap<FastifyRequest, Promise<Identity | null>>();

/** Who the request acts for (session cookie or `Authorization: Bearer`), looked up once per request. */
export function identify(accounts: Accounts, request: FastifyRequest): Promise<Identity | null> {
  let found = identities.get(request);
  if (!found) {
    found = accounts.identify(fromNodeHeaders(request.headers));
    identities.set(request, found);
  }
  return found;
}

export type Identify = (request: FastifyRequest) => Promise<Identity | null>;

const SESSION_COOKIE = new RegExp(`(?:^|;\\s*)(?:__Secure-)?${COOKIE_PREFIX}\\.session_token=`);
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * CSRF for Pixhaven's own API: a state-changing request that a session cookie would authenticate
 * must come from our own pages (its Origin is PUBLIC_URL). Bearer-token clients are not affected:
 * a foreign page cannot set that header without the browser asking first.
 */
export function registerOriginCheck(app: FastifyInstance, publicUrl: string): void {
  app.addHook("onRequest", async (request) => {
    // Judged by the route the router matched, never by the raw URL: "/%61pi/v1/..." reaches the
    // same handler. better-auth's routes make their own check (authRoutes).
    if (!STATE_CHANGING.has(request.method) || (request.routeOptions.url ?? "").startsWith("/api/auth/")) return;
    if (request.headers.authorization || !SESSION_COOKIE.test(request.headers.cookie ?? "")) return;
    if (request.headers.origin !== publicUrl) throw new AppError("origin_refused", 403, "This request must come from this site's own pages.");
  });
}

/**
 * better-auth under /api/auth/*: the request is rebuilt as a fetch Request and the answer copied
 * back (status, every Set-Cookie, body). Its rate limit reads the client only from a header, which
 * is set here from the connection (TRUST_PROXY honoured) as the anonymised network, replacing
 * anything the client sent: one network's failures never throttle another, and sessions store no
 * full address (P10).
 */
export async function authRoutes(app: FastifyInstance, { accounts, publicUrl }: { accounts: Accounts; publicUrl: string }): Promise<void> {
  // The body goes to better-auth as it came (JSON, or a form for OAuth's form_post).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: 64 * 1024 }, (_request, body, done) => done(null, body));
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // CSRF: every POST comes from our own pages, cookie or not (better-auth checks only when a
    // cookie is sent). An identity provider posting back (form_post) is held by the state instead.
    if (request.method === "POST" && request.headers.origin !== publicUrl && !request.url.startsWith("/api/auth/callback/")) {
      throw new AppError("origin_refused", 403, "This request must come from this site's own pages.");
    }
    const headers = fromNodeHeaders(request.headers);
    headers.delete(CLIENT_NETWORK_HEADER);
    headers.set(CLIENT_NETWORK_HEADER, anonymiseIp(request.ip));
    const sent = request.body instanceof Buffer && request.body.length > 0 ? new Uint8Array(request.body) : undefined;
    if (sent && containsNul(bodyFields(request.body as Buffer, request.headers["content-type"]))) throw nulRefused();
    const response = await accounts.auth.handler(new Request(new URL(request.url, publicUrl), { method: request.method, headers, ...(sent ? { body: sent } : {}) }));
    // A route better-auth does not have (or that is turned off) answers in plain text: give the one 404.
    if (response.status === 404 && !response.headers.get("content-type")?.includes("json")) throw notFound();
    void reply.status(response.status);
    response.headers.forEach((value, name) => {
      if (name !== "set-cookie" && name !== "content-length" && name !== "content-encoding") void reply.header(name, value);
    });
    // better-auth names the wait in its own header; clients and proxies read the standard one.
    const retryAfter = response.headers.get("x-retry-after");
    if (response.status === 429 && retryAfter) void reply.header("retry-after", retryAfter);
    const cookies = response.headers.getSetCookie();
    if (cookies.length) void reply.header("set-cookie", cookies);
    void reply.header("cache-control", "no-store");
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status >= 400) return reply.header("content-type", "application/json; charset=utf-8").send(inOurErrorShape(body, response));
    return reply.send(withoutSessionToken(body, response, cookies));
  };
  app.route({ method: ["GET", "POST"], url: "/api/auth/*", schema: { hide: true }, handler });
}

/** The fields of a JSON or form body, to be checked before better-auth stores any of them. */
function bodyFields(body: Buffer, contentType: string | undefined): unknown {
  const text = body.toString("utf8");
  if (contentType?.startsWith("application/x-www-form-urlencoded")) return [...new URLSearchParams(text)];
  try {
    return JSON.parse(text);
  } catch {
    return text; // better-auth answers a malformed body itself
  }
}

/**
 * better-auth repeats the new session's token in the JSON of a sign-in; the HttpOnly cookie it sets
 * is the session, and a copy in the body is one a script injected into the page could read. It is
 * taken out wherever a session cookie is set.
 */
function withoutSessionToken(body: Buffer, response: Response, cookies: string[]): Buffer {
  if (!response.headers.get("content-type")?.includes("json") || !cookies.some((c) => /session_token=[^;]/.test(c))) return body;
  try {
    const json: unknown = JSON.parse(body.toString("utf8"));
    if (!json || typeof json !== "object" || !("token" in json)) return body;
    const { token: _token, ...rest } = json as Record<string, unknown>;
    return Buffer.from(JSON.stringify(rest));
  } catch {
    return body;
  }
}

const CODE_OF_STATUS: Record<number, string> = { 400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "too_large", 429: "rate_limited" };

/**
 * better-auth answers an error as `{code, message}` (codes in capitals) or with a message alone;
 * every Pixhaven route answers `{"error": {"code", "message"}}` with a code in lower case. Its
 * errors are given that one shape, so a client reads every error of the API the same way.
 */
function inOurErrorShape(body: Buffer, response: Response): string {
  let parsed: unknown = null;
  if (response.headers.get("content-type")?.includes("json")) {
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      parsed = null;
    }
  }
  const flat = (parsed && typeof parsed === "object" ? parsed : {}) as { code?: unknown; message?: unknown; error?: unknown };
  if (flat.error && typeof flat.error === "object") return JSON.stringify({ error: flat.error });
  const code = typeof flat.code === "string" && /^[A-Za-z0-9_]{1,64}$/.test(flat.code) ? flat.code.toLowerCase() : (CODE_OF_STATUS[response.status] ?? (response.status >= 500 ? "internal" : "bad_request"));
  // A server error's own words may name internals: the client gets ours.
  const message = response.status >= 500 ? "Something went wrong on our side." : typeof flat.message === "string" && flat.message ? flat.message : "The request was refused.";
  return JSON.stringify({ error: { code, message } });
}
