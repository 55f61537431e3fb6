import { lookup } from "node:dns/promises";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { Transform, type Readable } from "node:stream";
import { AppError } from "../common/errors.js";
import { type Cidr, forbiddenReason, literalAddress } from "./address-policy.js";
import { filenameFromResponse } from "./response-filename.js";

/** Turns a host name into the addresses it points at; injected in tests so no real DNS is asked. */
export type Resolve = (host: string) => Promise<string[]>;

export interface FetchUrlOptions {
  /** the body is cut (413) the moment it passes this; a larger Content-Length is refused unread */
  maxBytes: number;
  /** for the whole import: resolving, every redirect, and the body to its last byte (504) */
  timeoutMs: number;
  /** ranges an operator opened (URL_IMPORT_ALLOW); everything else non-public is refused (403) */
  allowList: readonly Cidr[];
  userAgent: string;
  maxRedirects?: number;
  resolve?: Resolve;
  /** cancels the fetch (a job cancelled); the stream then fails with the signal's reason */
  signal?: AbortSignal;
}

export interface FetchedUrl {
  /** the response body; fails with an AppError (413, 502, 504) if the fetch does */
  stream: Readable;
  /** from Content-Disposition or the last path segment; untrusted text, sanitise before use */
  filename: string | undefined;
  contentLength?: number;
  /** where the bytes came from, after redirects */
  url: string;
}

export const DEFAULT_MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export const invalidUrl = (message: string) => new AppError("invalid_url", 400, message);
const fetchFailed = (message: string) => new AppError("fetch_failed", 502, message);
const tooLarge = (max: number) => new AppError("payload_too_large", 413, `The file is larger than the upload limit of ${max} bytes.`);
const forbidden = (host: string, reason: string) =>
  new AppError("forbidden_address", 403, `${host} points to an address this server does not fetch from (${reason}).`);

/** The user-given text as an http(s) URL, or 400 invalid_url. */
export function parseImportUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidUrl("The URL could not be parsed.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalidUrl("Only http and https URLs can be imported.");
  // Node would send them as Basic credentials; a URL import never carries any.
  if (url.username || url.password) throw invalidUrl("URLs with a user name or password are not fetched.");
  return url;
}

/**
 * Fetches a user-given URL for import. Each host is resolved once, every address it resolves to
 * must be public (or allowed), and the connection goes to that very address, so that no second
 * lookup can rebind the name to an internal one. Redirects are followed by hand and checked the
 * same way. No cookies, credentials or proxy settings are ever used.
 */
export async function fetchUrl(input: string, options: FetchUrlOptions): Promise<FetchedUrl> {
  const deadline = new Deadline(options.timeoutMs, options.signal);
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  try {
    let url = parseImportUrl(input);
    for (let redirects = 0; ; redirects++) {
      const address = await deadline.race(pinnedAddress(url, options));
      const res = await request(url, address, options.userAgent, deadline);
      if (REDIRECTS.has(res.statusCode ?? 0)) {
        res.destroy();
        const location = res.headers.location;
        if (!location) throw fetchFailed(`The server answered ${res.statusCode} without a Location.`);
        if (redirects >= maxRedirects) throw fetchFailed(`More than ${maxRedirects} redirects.`);
        url = redirectTarget(location, url);
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.destroy();
        throw fetchFailed(`The server answered ${status}.`);
      }
      const declared = Number(res.headers["content-length"]);
      if (declared > options.maxBytes) {
        res.destroy();
        throw tooLarge(options.maxBytes);
      }
      return {
        stream: limitedBody(res, options.maxBytes, deadline),
        filename: filenameFromResponse(res.headers["content-disposition"], url),
        ...(Number.isSafeInteger(declared) && res.headers["content-length"] !== undefined ? { contentLength: declared } : {}),
        url: url.href,
      };
    }
  } catch (err) {
    deadline.clear();
    throw deadline.explain(err);
  }
}

function redirectTarget(location: string, from: URL): URL {
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    throw fetchFailed("The server redirected to an address that could not be parsed.");
  }
  return parseImportUrl(target.href);
}

/** The one address to connect to, after every address of the host has passed the policy. */
async function pinnedAddress(url: URL, options: FetchUrlOptions): Promise<string> {
  const literal = literalAddress(url);
  let addresses: string[];
  if (literal !== null) {
    addresses = [literal];
  } else {
    try {
      addresses = await (options.resolve ?? resolveWithSystem)(url.hostname);
    } catch {
      throw fetchFailed(`${url.hostname} could not be resolved.`);
    }
    if (addresses.length === 0) throw fetchFailed(`${url.hostname} could not be resolved.`);
  }
  // A name with any internal address is refused, rather than trusting the order they come in.
  for (const address of addresses) {
    const reason = forbiddenReason(address, options.allowList);
    if (reason) throw forbidden(url.hostname, reason);
  }
  return addresses[0]!;
}

async function resolveWithSystem(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
}

function request(url: URL, address: string, userAgent: string, deadline: Deadline): Promise<IncomingMessage> {
  const secure = url.protocol === "https:";
  const hostname = url.hostname.replace(/\.$/, "");
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request({
      host: address, // an address, so Node does no lookup of its own
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: "GET",
      setHost: false,
      headers: { host: url.host, "user-agent": userAgent, accept: "image/*, */*;q=0.5", "accept-encoding": "identity" },
      agent: false, // no pooled socket (nor proxy agent) is shared with anything else
      // Never called for an address; there to fail closed should that ever change.
      lookup: (_host, _options, callback) => callback(new Error("no lookup: the address was checked already"), "", 4),
      ...(secure && isIP(hostname) === 0 ? { servername: hostname } : {}),
      signal: deadline.signal,
    });
    req.once("response", resolve);
    req.once("error", reject);
    req.end();
  });
}

/** The body, counted as it streams: over the limit, late, or cut short, it fails with an AppError. */
function limitedBody(res: IncomingMessage, maxBytes: number, deadline: Deadline): Readable {
  let seen = 0;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });
  res.pipe(body);
  res.on("error", () => undefined); // reported through "close" below
  res.once("close", () => {
    if (!res.complete) body.destroy(deadline.explain(fetchFailed("The connection broke before the whole file arrived.")));
  });
  const onAbort = () => body.destroy(deadline.explain(new Error("aborted")));
  deadline.signal.addEventListener("abort", onAbort, { once: true });
  // However the body ends (read to the end, over the limit, abandoned), its socket goes too.
  body.once("close", () => {
    deadline.signal.removeEventListener("abort", onAbort);
    deadline.clear();
    res.destroy();
  });
  return body;
}

/** One time limit over the whole fetch, and the caller's cancellation, as one signal. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private expired = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly outer: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, timeoutMs);
    if (outer?.aborted) this.controller.abort();
    else outer?.addEventListener("abort", () => this.controller.abort(), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  /** The error to report: the time limit or the cancellation when either has struck, else `err`. */
  explain(err: unknown): Error {
    if (this.expired) return new AppError("fetch_timeout", 504, `The URL did not deliver the file within ${Math.round(this.timeoutMs / 1000)} s.`);
    if (this.outer?.aborted) return this.outer.reason instanceof Error ? this.outer.reason : new Error("aborted");
    if (err instanceof AppError) return err;
    return fetchFailed(`The URL could not be fetched (${(err as { code?: string }).code ?? "connection failed"}).`);
  }

  /** Resolving cannot be cancelled, but need not be waited for past the limit. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(new Error("aborted"));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new Error("aborted"));
      this.signal.addEventListener("abort", onAbort, { once: true });
      work.then(resolve, reject).finally(() => this.signal.removeEventListener("abort", onAbort));
    });
  }
}
