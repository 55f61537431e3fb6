import { availableParallelism } from "node:os";
import { passkey } from "@better-auth/passkey";
import { hash as argon2Hash, verify as argon2Verify } from "@node-rs/argon2";
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { APIError, createAuthMiddleware } from "better-auth/api";
import { getMigrations } from "better-auth/db/migration";
import { kyselyAdapter } from "@better-auth/kysely-adapter";
import { genericOAuth, twoFactor } from "better-auth/plugins";
import type { Kysely } from "kysely";
import { Semaphore } from "../common/semaphore.js";
import type { AccountsConfig } from "../config.js";
import type { Database } from "../db/schema.js";
import type { Dialect } from "../db/index.js";
import type { Invites } from "./invites.js";
import type { SendMail } from "./mailer.js";
import { hashSessionTokens, hashStoredSecrets, SecretHasher } from "./stored-secrets.js";
import { TotpReplayGuard } from "./totp-replay.js";

/** The header the HTTP layer fills from the connection (TRUST_PROXY honoured); the only one better-auth reads. */
export const CLIENT_NETWORK_HEADER = "x-pixhaven-client-network";
export const COOKIE_PREFIX = "pixhaven";
/** Sign-ins that prove a second factor; a session made by any other path has not. */
const SECOND_FACTOR_PATHS = new Set(["/two-factor/verify-totp", "/two-factor/verify-backup-code", "/passkey/verify-authentication"]);
/**
 * better-auth's routes that list sessions with their tokens or revoke one by token: with tokens
 * stored as hashes they could not work, and Pixhaven lists and revokes sessions by id instead
 * (GET /api/v1/me, DELETE /api/v1/me/sessions/:id).
 */
const SESSION_TOKEN_ROUTES = ["/list-sessions", "/revoke-session", "/revoke-other-sessions"];
/** argon2id (OWASP's first choice) in @node-rs/argon2's own threads; 2 is Algorithm.Argon2id (a const enum). */
const ARGON2ID = 2;
export const OIDC_PROVIDER_ID = "oidc";
/**
 * @node-rs/argon2 hashes on libuv's thread pool, which file system calls and WebCrypto share, and
 * each hash keeps a core busy for 10-20 ms: at most half the pool, and one core fewer than the
 * machine has, hash at once, so a burst of sign-ins queues here instead of starving the event loop
 * and every disk access.
 */
const hashing = new Semaphore(Math.max(1, Math.min(Math.floor(Number(process.env.UV_THREADPOOL_SIZE || 4) / 2), availableParallelism() - 1)));

const registrationRefused = (mode: "invite" | "closed") =>
  mode === "closed"
    ? APIError.from("FORBIDDEN", { message: "Registration is closed on this server.", code: "REGISTRATION_CLOSED" })
    : APIError.from("FORBIDDEN", { message: "Registration needs a valid invitation code.", code: "INVITATION_REQUIRED" });

const MAX_NAME = 100;

/**
 * What an account may say of itself: a name of 1 to 100 characters (the sign-up form's limit),
 * and a picture address or none. better-auth takes any value; a null name would reach the
 * database's NOT NULL as a server error, and a name of 60 KB would be stored.
 */
function checkProfile(body: unknown): void {
  const fields = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  if ("name" in fields && (typeof fields.name !== "string" || fields.name.trim() === "" || fields.name.length > MAX_NAME)) {
    throw APIError.from("BAD_REQUEST", { message: `A name is text of 1 to ${MAX_NAME} characters.`, code: "INVALID_NAME" });
  }
  if ("image" in fields && fields.image !== null && fields.image !== undefined && (typeof fields.image !== "string" || fields.image.length > 2048)) {
    throw APIError.from("BAD_REQUEST", { message: "A picture is an address of at most 2048 characters, or null.", code: "INVALID_IMAGE" });
  }
}

/** Checks a password against its stored argon2id hash, in the same bounded pool as sign-ins. */
export const verifyPassword = (hash: string, password: string): Promise<boolean> => hashing.run(() => argon2Verify(hash, password));

export interface AuthDeps {
  settings: AccountsConfig;
  secret: string;
  publicUrl: string;
  db: Kysely<Database>;
  dialect: Dialect;
  sendMail: SendMail;
  invites: Invites;
}

export type Auth = ReturnType<typeof createAuth>;

/** better-auth, with its tables brought up to date first (so it never starts against a missing table). */
export async function openAuth(deps: AuthDeps): Promise<Auth> {
  return createAuth((await migrateAuth(deps)).options);
}

/**
 * Creates or extends better-auth's own tables (idempotent) and brings stored secrets to their
 * hashed form; `pixhaven migrate` runs this without starting anything.
 */
export async function migrateAuth(deps: AuthDeps) {
  const hasher = new SecretHasher(deps.secret);
  const options = authOptions(deps, hasher);
  // Migrations read the schema from a database connection, not from an adapter.
  const { runMigrations, toBeCreated, toBeAdded } = await getMigrations({ ...options, database: { db: deps.db as Kysely<any>, type: deps.dialect } });
  await runMigrations();
  await hashStoredSecrets(deps.db, hasher, deps.secret);
  return { options, changedTables: [...new Set([...toBeCreated, ...toBeAdded].map((t) => t.table))] };
}

const createAuth = (options: ReturnType<typeof authOptions>) => betterAuth(options);

/** better-auth configured for Pixhaven: e-mail and password, SSO, TOTP, passkeys, on our own database connection. */
function authOptions({ settings, secret, publicUrl, db, dialect, sendMail, invites }: AuthDeps, hasher: SecretHasher) {
  const replay = new TotpReplayGuard(db);
  const limit = settings.signInRateLimit;
  const signInRule = limit ? { window: Math.max(1, Math.round(limit.windowMs / 1000)), max: limit.max } : false;
  const socialProviders: NonNullable<BetterAuthOptions["socialProviders"]> = {
    ...(settings.google ? { google: { clientId: settings.google.clientId, clientSecret: settings.google.clientSecret } } : {}),
    ...(settings.github ? { github: { clientId: settings.github.clientId, clientSecret: settings.github.clientSecret } } : {}),
  };
  const oidc = settings.oidc;
  return {
    appName: "Pixhaven",
    baseURL: publicUrl,
    basePath: "/api/auth",
    secret,
    trustedOrigins: [publicUrl],
    // Our own connection (a pool on PostgreSQL): its search_path already names the instance's schema.
    // Session tokens are kept as keyed hashes (P20).
    database: (options: BetterAuthOptions) => hashSessionTokens(kyselyAdapter(db as Kysely<any>, { type: dialect, transaction: true })(options), hasher),
    disabledPaths: SESSION_TOKEN_ROUTES,
    telemetry: { enabled: false },
    emailAndPassword: {
      enabled: true,
      requireEmailVerification: settings.requireEmailVerification,
      minPasswordLength: 10,
      maxPasswordLength: 256,
      revokeSessionsOnPasswordReset: true,
      password: {
        hash: (password) => hashing.run(() => argon2Hash(password, { algorithm: ARGON2ID })),
        verify: ({ hash, password }) => hashing.run(() => argon2Verify(hash, password)),
      },
      sendResetPassword: async ({ user, url }) =>
        sendMail({ to: user.email, subject: "Reset your Pixhaven password", text: `Someone asked to reset the password of this Pixhaven account.\n\nTo choose a new one, open:\n${url}\n\nIf it was not you, ignore this message: nothing changes.` }),
    },
    emailVerification: {
      sendOnSignUp: settings.requireEmailVerification,
      autoSignInAfterVerification: true,
      sendVerificationEmail: async ({ user, url }) =>
        sendMail({ to: user.email, subject: "Confirm your e-mail address for Pixhaven", text: `Open this link to confirm your address:\n${url}\n\nIf you did not sign up, ignore this message.` }),
    },
    // Reset, verification and sign-in-step tokens are kept as hashes (P20).
    verification: { storeIdentifier: "hashed" },
    socialProviders,
    account: { accountLinking: { enabled: true, trustedProviders: [] } },
    user: {
      additionalFields: { role: { type: "string", defaultValue: "user", input: false } },
      changeEmail: {
        enabled: true,
        updateEmailWithoutVerification: !settings.requireEmailVerification,
        sendChangeEmailConfirmation: async ({ newEmail, url }) =>
          sendMail({ to: newEmail, subject: "Confirm your new e-mail address for Pixhaven", text: `Open this link to use this address for your Pixhaven account:\n${url}` }),
      },
    },
    session: {
      expiresIn: Math.round(settings.sessionLifetimeMs / 1000),
      updateAge: Math.min(24 * 3600, Math.round(settings.sessionLifetimeMs / 2000)),
      // Every request reads the session row, so a revoked session stops at once.
      cookieCache: { enabled: false },
      additionalFields: { secondFactor: { type: "boolean", defaultValue: false, input: false } },
    },
    rateLimit: {
      // better-auth turns it on only in production; sign-in throttling is wanted everywhere.
      enabled: true,
      storage: "memory",
      window: 60,
      max: 300,
      customRules: { "/sign-in/*": signInRule, "/sign-up/*": signInRule, "/two-factor/*": signInRule, "/request-password-reset": signInRule },
    },
    advanced: {
      cookiePrefix: COOKIE_PREFIX,
      useSecureCookies: publicUrl.startsWith("https://"),
      ipAddress: { ipAddressHeaders: [CLIENT_NETWORK_HEADER], ipv6Subnet: 48 },
    },
    databaseHooks: {
      user: {
        create: {
          // New accounts by SSO (or any way but the sign-up form, checked before it) only when registration is open;
          // server-side calls (the CLI) carry no request.
          before: async (user, ctx) => {
            if (!ctx?.request || settings.registration === "open" || ctx.path === "/sign-up/email") return { data: user };
            throw registrationRefused(settings.registration);
          },
        },
      },
      session: {
        create: {
          before: async (session, ctx) => ({ data: { ...session, secondFactor: !!ctx?.path && SECOND_FACTOR_PATHS.has(ctx.path) } }),
        },
      },
    },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path === "/sign-up/email" || ctx.path === "/update-user") checkProfile(ctx.body);
        if (ctx.path === "/two-factor/verify-totp") await replay.check(ctx);
        // Recovery codes are stored as hashes (P20): the code typed is compared in the same form.
        if (ctx.path === "/two-factor/verify-backup-code") {
          const code = (ctx.body as { code?: unknown } | undefined)?.code;
          if (typeof code === "string") return { context: { body: { ...(ctx.body as object), code: hasher.recoveryCodeInput(code) } } };
        }
        // Outside better-auth's transaction: on SQLite it holds the one connection the invitation check needs.
        if (ctx.path === "/sign-up/email" && ctx.request && settings.registration !== "open") {
          const code = (ctx.body as { inviteCode?: unknown } | undefined)?.inviteCode;
          if (settings.registration === "closed" || typeof code !== "string" || !(await invites.consume(code))) throw registrationRefused(settings.registration);
        }
      }),
    },
    plugins: [
      twoFactor({ issuer: "Pixhaven", totpOptions: { period: 30, digits: 6 }, backupCodeOptions: { storeBackupCodes: hasher.recoveryCodeStorage() } }),
      passkey({ rpID: new URL(publicUrl).hostname, rpName: "Pixhaven", origin: publicUrl }),
      ...(oidc
        ? [
            genericOAuth({
              config: [
                {
                  providerId: OIDC_PROVIDER_ID,
                  name: oidc.name,
                  discoveryUrl: `${oidc.issuer}/.well-known/openid-configuration`,
                  clientId: oidc.clientId,
                  ...(oidc.clientSecret ? { clientSecret: oidc.clientSecret } : {}),
                  scopes: ["openid", "email", "profile"],
                  pkce: true,
                },
              ],
            }),
          ]
        : []),
    ],
  } satisfies BetterAuthOptions;
}
