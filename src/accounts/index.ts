import { randomBytes } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import type { Kysely } from "kysely";
import type { Clock } from "../common/clock.js";
import { AppError, notFound } from "../common/errors.js";
import type { Config } from "../config.js";
import type { Database } from "../db/schema.js";
import type { Dialect } from "../db/index.js";
import type { BlobStore } from "../storage/blob-store.js";
import { type Auth, type AuthDeps, migrateAuth, openAuth, verifyPassword } from "./auth.js";
import { Dashboard } from "./dashboard.js";
import { eraseAccount, zeroDeletedContent } from "./erase.js";
import { accountData, streamAccountZip } from "./export.js";
import { Invites } from "./invites.js";
import { createMailer } from "./mailer.js";
import { readAccount, readSessions, toEpochMs } from "./records.js";
import { authSecret } from "./secret.js";
import { ApiTokens } from "./tokens.js";

/** Who a request acts for: a signed-in browser (session cookie) or an API token. */
export interface Identity {
  userId: string;
  via: "session" | "token";
  role: string;
  /** the session was opened with TOTP, a recovery code or a passkey */
  secondFactor: boolean;
  sessionId: string | null;
  sessionCreatedAt: number | null;
}

/** A session this young counts as a fresh sign-in for account deletion. */
const FRESH_SESSION_MS = 10 * 60 * 1000;

export interface AccountsDeps {
  config: Config;
  db: Kysely<Database>;
  dialect: Dialect;
  blobs: BlobStore;
  clock: Clock;
  log: { warn(obj: object, msg: string): void };
}

/** Accounts: sign-in (better-auth), API tokens, the dashboard, export and erasure. No HTTP here. */
export class Accounts {
  readonly auth: Auth;
  readonly tokens: ApiTokens;
  readonly invites: Invites;
  readonly dashboard: Dashboard;

  private constructor(
    private readonly deps: AccountsDeps,
    invites: Invites,
    auth: Auth,
  ) {
    this.tokens = new ApiTokens(deps.db, deps.clock);
    this.invites = invites;
    this.auth = auth;
    this.dashboard = new Dashboard({ db: deps.db, blobs: deps.blobs, clock: deps.clock });
  }

  /** Builds the accounts domain and brings better-auth's tables up to date (after Pixhaven's own migrations). */
  static async open(deps: AccountsDeps): Promise<Accounts> {
    await zeroDeletedContent(deps.db, deps.dialect);
    const invites = new Invites(deps.db, deps.clock);
    return new Accounts(deps, invites, await openAuth(authDeps(deps, invites)));
  }

  /** `pixhaven migrate`: better-auth's tables (after Pixhaven's own), without opening anything else; the tables it changed. */
  static async migrate(deps: Omit<AccountsDeps, "blobs">): Promise<string[]> {
    return (await migrateAuth(authDeps(deps, new Invites(deps.db, deps.clock)))).changedTables;
  }

  async identify(headers: Headers): Promise<Identity | null> {
    const authorization = headers.get("authorization");
    if (authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      const userId = match ? await this.tokens.verify(match[1]!) : null;
      if (!userId) throw new AppError("invalid_token", 401, "The API token is unknown or was revoked.");
      return { userId, via: "token", role: "user", secondFactor: false, sessionId: null, sessionCreatedAt: null };
    }
    const found = await this.auth.api.getSession({ headers });
    if (!found) return null;
    const session = found.session as typeof found.session & { secondFactor?: boolean };
    return {
      userId: found.user.id,
      via: "session",
      role: (found.user as { role?: string | null }).role ?? "user",
      secondFactor: !!session.secondFactor,
      sessionId: session.id,
      sessionCreatedAt: toEpochMs(session.createdAt),
    };
  }

  async me(userId: string) {
    const account = await readAccount(this.deps.db, userId);
    if (!account) throw notFound();
    return { account, sessions: await readSessions(this.deps.db, userId, this.deps.clock.now()) };
  }

  /** Another user's session answers like a missing one. */
  async revokeSession(userId: string, sessionId: string): Promise<void> {
    const result = await this.deps.db.deleteFrom("session").where("id", "=", sessionId).where("userId", "=", userId).executeTakeFirst();
    if (Number(result.numDeletedRows) !== 1) throw notFound();
  }

  exportData(userId: string) {
    return accountData(this.deps.db, this.tokens, userId, this.deps.clock.now(), this.deps.config.publicUrl);
  }

  /** The export as a streamed ZIP; the JSON is gathered before the first byte is sent. */
  async exportZip(userId: string): Promise<Readable> {
    const data = await this.exportData(userId);
    const body = new PassThrough();
    void streamAccountZip(data, this.deps.blobs, body);
    return body;
  }

  /**
   * Erasure needs a fresh proof of identity: the password, or (for accounts without one) a
   * session opened in the last ten minutes. A token never suffices.
   */
  async erase(identity: Identity, password: string | undefined): Promise<void> {
    if (identity.via !== "session") throw new AppError("reauthentication_required", 403, "Deleting the account needs a signed-in browser session, not an API token.");
    const credential = await this.deps.db.selectFrom("account").select("password").where("userId", "=", identity.userId).where("providerId", "=", "credential").executeTakeFirst();
    if (password !== undefined && credential?.password) {
      if (!(await verifyPassword(credential.password, password))) throw new AppError("invalid_password", 403, "The password is wrong.");
    } else if (identity.sessionCreatedAt === null || this.deps.clock.now() - identity.sessionCreatedAt > FRESH_SESSION_MS || credential?.password) {
      throw new AppError("reauthentication_required", 403, credential?.password ? "Confirm with your password." : "Sign in again, then delete the account within ten minutes.");
    }
    await eraseAccount(this.deps.db, this.deps.dialect, this.deps.blobs, identity.userId);
  }

  /** `pixhaven users add`: an account with a one-time password, e-mail taken as verified. */
  async createUser(email: string, admin: boolean): Promise<{ id: string; password: string }> {
    const password = randomBytes(12).toString("base64url");
    const created = await this.auth.api.signUpEmail({ body: { email, password, name: email.split("@")[0] ?? email } });
    await this.deps.db.updateTable("user").set({ emailVerified: this.deps.dialect === "sqlite" ? 1 : true, role: admin ? "admin" : "user" }).where("id", "=", created.user.id).execute();
    // signUpEmail may open a session for the CLI; nobody holds its cookie.
    await this.deps.db.deleteFrom("session").where("userId", "=", created.user.id).execute();
    return { id: created.user.id, password };
  }
}

function authDeps({ config, db, dialect, log }: Omit<AccountsDeps, "blobs" | "clock">, invites: Invites): AuthDeps {
  return {
    settings: config.accounts,
    secret: authSecret(config.accounts.secret, config.dataDir),
    publicUrl: config.publicUrl,
    db,
    dialect,
    sendMail: createMailer(config.accounts.smtpUrl, config.accounts.mailFrom, log),
    invites,
  };
}
