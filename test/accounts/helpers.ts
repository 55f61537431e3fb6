import { sql } from "kysely";
import { SMTPServer } from "smtp-server";
import type { Config } from "../../src/config.js";
import { startTestServer, type TestServer, type TestServerOptions } from "../helpers/server.js";

/** Cookies of one origin, as a browser keeps them (name → value; expired ones dropped). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "";
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/** A browser on Pixhaven's own pages: keeps cookies and sends the site's Origin on every request. */
export class Browser {
  readonly jar = new CookieJar();
  constructor(
    readonly baseUrl: string,
    private readonly extraHeaders: Record<string, string> = {},
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      redirect: "manual",
      headers: {
        origin: this.baseUrl,
        ...(this.jar.cookies.size ? { cookie: this.jar.header() } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...this.extraHeaders,
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    this.jar.store(res);
    return res;
  }

  post(path: string, body: unknown = {}, headers?: Record<string, string>) {
    return this.request("POST", path, body, headers);
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request("GET", path, undefined, headers);
  }

  async json(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
}

export interface CapturedMail {
  to: string[];
  raw: string;
  /** the body with quoted-printable undone */
  text: string;
}

/** A local SMTP server on loopback (no TLS, no auth) that keeps every message. */
export async function startMailbox() {
  const messages: CapturedMail[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, text: raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) });
        waiters.splice(0).forEach((w) => w());
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** the first link in the next message to `to` (waits for it) */
    async linkTo(to: string, after = 0): Promise<string> {
      for (let i = 0; i < 100; i++) {
        const found = messages.slice(after).find((m) => m.to.includes(to));
        if (found) return /(https?:\/\/[^\s]+)/.exec(found.text)![1]!;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      throw new Error(`no mail to ${to}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const PASSWORD = "correct horse battery staple";

/** A server with accounts configured as given (the rest default). */
export async function startAccountsServer(accounts: Partial<Config["accounts"]>, options: TestServerOptions = {}): Promise<TestServer> {
  const base = (await import("../../src/config.js")).loadConfig({}).accounts;
  return startTestServer({ ...options, config: { ...options.config, accounts: { ...base, signInRateLimit: null, ...accounts } } });
}

let counter = 0;
export const uniqueEmail = (label = "user") => `${label}-${Date.now().toString(36)}-${counter++}@example.org`;

/** Signs up (no verification required) and returns a signed-in browser. */
export async function signedInBrowser(baseUrl: string, email = uniqueEmail(), password = PASSWORD): Promise<Browser> {
  const browser = new Browser(baseUrl);
  const res = await browser.post("/api/auth/sign-up/email", { email, password, name: email.split("@")[0] });
  if (res.status !== 200) throw new Error(`sign-up answered ${res.status}: ${await res.text()}`);
  return browser;
}

/** Every row of every table of the instance, as text. */
export async function dumpTables(server: TestServer, dialect: "sqlite" | "postgres" = "sqlite"): Promise<string> {
  const db = server.px.db.db;
  const tables =
    dialect === "sqlite"
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)
      : await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db);
  let out = "";
  for (const { name } of tables.rows) out += JSON.stringify((await sql`select * from ${sql.table(name)}`.execute(db)).rows);
  return out;
}
