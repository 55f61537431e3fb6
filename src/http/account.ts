import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { OIDC_PROVIDER_ID } from "../accounts/auth.js";
import type { Accounts, Identity } from "../accounts/index.js";
import { jobSchema } from "../common/api/jobs.js";
import { iso } from "../common/clock.js";
import { AppError } from "../common/errors.js";
import type { Config } from "../config.js";
import type { JobService } from "../jobs/service.js";
import { identify } from "./auth.js";
import { imageJson } from "./images.js";
import { jobJson } from "./job-json.js";
import { errorSchema, idParams, imageSchema } from "./schemas.js";


const sessionSchema = z.object({
  id: z.string(),
  createdAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  network: z.string().nullable().describe("the anonymised network (IPv4 /24, IPv6 /48) it was opened from"),
  userAgent: z.string().nullable(),
  secondFactor: z.boolean().describe("opened with TOTP, a recovery code or a passkey"),
  current: z.boolean().describe("the session making this request"),
});
const accountSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  emailVerified: z.boolean(),
  role: z.string().describe('"user" or "admin"'),
  twoFactorEnabled: z.boolean(),
  createdAt: z.string().nullable(),
  signInMethods: z.array(z.string()).describe('"credential" (password), "oidc", "google", "github"'),
  passkeys: z.array(z.object({ id: z.string(), name: z.string().nullable(), createdAt: z.string().nullable() })),
});
const tokenInfoSchema = z.object({ id: z.string(), name: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() });
const pageQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(30), cursor: z.string().max(64).optional() });
const myImageSchema = imageSchema.extend({ originalName: z.string().nullable() });
const myJobSchema = jobSchema.extend({
  downloads: z.number().int().describe("downloads of all its outputs"),
  secondsLeft: z.number().int().nullable().describe("until its files are deleted; null when not yet ended or already deleted"),
});
const itemProof = z.object({ id: z.string().max(32), deleteToken: z.string().max(128) });
const unauthorised = () => new AppError("sign_in_required", 401, "Sign in, or send an API token as Authorization: Bearer.");

export interface AccountRouteDeps {
  accounts: Accounts;
  config: Config;
  /** the job system: the dashboard's job deletion is its own, with the owner checked */
  jobs: JobService;
}

/** /api/v1/me: the signed-in account, its sessions, tokens, images, jobs, export and deletion. */
export const accountApi: FastifyPluginAsyncZod<AccountRouteDeps> = async (app, { accounts, config, jobs }) => {
  const base = config.publicUrl;
  const who = async (request: FastifyRequest): Promise<Identity> => (await identify(accounts, request)) ?? Promise.reject(unauthorised());
  /**
   * The account itself (its sessions, tokens and export) is managed from a signed-in browser: an API
   * token acts on images and jobs, so one leaked from an uploader's settings cannot read out the
   * whole account or lock its owner out.
   */
  const signedIn = async (request: FastifyRequest): Promise<Identity> => {
    const identity = await who(request);
    if (identity.via !== "session") throw new AppError("session_required", 403, "This needs a signed-in browser session; API tokens act on images and jobs only.");
    return identity;
  };
  const tags = ["account"];

  app.get(
    "/api/v1/auth/providers",
    {
      schema: {
        summary: "How one signs up and signs in on this server: registration policy and the SSO providers configured",
        tags,
        response: {
          200: z.object({
            registration: z.enum(["open", "invite", "closed"]),
            emailVerification: z.boolean().describe("a new account must confirm its e-mail address before signing in"),
            providers: z.array(z.object({ id: z.string().describe("send as provider to /api/auth/sign-in/social"), name: z.string() })),
          }),
        },
      },
    },
    async (_request, reply) => {
      const { registration, requireEmailVerification, oidc, google, github } = config.accounts;
      const providers = [...(oidc ? [{ id: OIDC_PROVIDER_ID, name: oidc.name }] : []), ...(google ? [{ id: "google", name: "Google" }] : []), ...(github ? [{ id: "github", name: "GitHub" }] : [])];
      void reply.header("cache-control", "no-cache");
      return { registration, emailVerification: requireEmailVerification, providers };
    },
  );

  app.get(
    "/api/v1/me",
    { schema: { summary: "The signed-in account and its sessions", tags, response: { 200: z.object({ account: accountSchema, sessions: z.array(sessionSchema) }), 401: errorSchema } } },
    async (request) => {
      const identity = await who(request);
      const { account, sessions } = await accounts.me(identity.userId);
      return { account, sessions: sessions.map((s) => ({ ...s, current: s.id === identity.sessionId })) };
    },
  );

  app.get(
    "/api/v1/me/sessions",
    { schema: { summary: "Sessions still open", tags, response: { 200: z.object({ sessions: z.array(sessionSchema) }), 401: errorSchema } } },
    async (request) => {
      const identity = await signedIn(request);
      const { sessions } = await accounts.me(identity.userId);
      return { sessions: sessions.map((s) => ({ ...s, current: s.id === identity.sessionId })) };
    },
  );

  app.delete(
    "/api/v1/me/sessions/:id",
    { schema: { summary: "Sign a session out (revoke it)", tags, params: idParams, response: { 204: z.null(), 401: errorSchema, 404: errorSchema } } },
    async (request, reply) => {
      await accounts.revokeSession((await signedIn(request)).userId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/v1/me/images",
    {
      schema: {
        summary: "The account's hosted images, newest first",
        tags,
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(myImageSchema), nextCursor: z.string().nullable() }), 401: errorSchema },
      },
    },
    async (request) => {
      const page = await accounts.dashboard.images((await who(request)).userId, request.query.limit, request.query.cursor);
      return { items: page.items.map((row) => ({ ...imageJson(row, base), originalName: row.original_name })), nextCursor: page.nextCursor };
    },
  );

  app.delete(
    "/api/v1/me/images",
    {
      schema: {
        summary: "Delete several of the account's images at once (no deletion token needed)",
        tags,
        body: z.object({ ids: z.array(z.string().max(32)).min(1).max(500) }),
        response: { 200: z.object({ deleted: z.array(z.string()), notFound: z.array(z.string()) }), 401: errorSchema },
      },
    },
    async (request) => accounts.dashboard.deleteImages((await who(request)).userId, request.body.ids),
  );

  app.delete(
    "/api/v1/me/images/:id",
    { schema: { summary: "Delete one of the account's images", tags, params: idParams, response: { 204: z.null(), 401: errorSchema, 404: errorSchema } } },
    async (request, reply) => {
      const { deleted } = await accounts.dashboard.deleteImages((await who(request)).userId, [request.params.id]);
      if (deleted.length === 0) throw new AppError("not_found", 404, "Nothing was found at this address.");
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/v1/me/jobs",
    {
      schema: {
        summary: "The account's tool jobs, newest first (history stays after the files are deleted)",
        tags,
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(myJobSchema), nextCursor: z.string().nullable() }), 401: errorSchema },
      },
    },
    async (request) => {
      const page = await accounts.dashboard.jobs((await who(request)).userId, request.query.limit, request.query.cursor);
      return {
        items: page.items.map((view) => ({
          ...jobJson(view, base),
          downloads: view.outputs.reduce((n, o) => n + o.downloads, 0),
          secondsLeft: view.secondsLeft,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.delete(
    "/api/v1/me/jobs/:id",
    { schema: { summary: "Cancel one of the account's jobs and delete its files (no deletion token needed)", tags, params: idParams, response: { 204: z.null(), 401: errorSchema, 404: errorSchema } } },
    async (request, reply) => {
      await jobs.deleteOwned((await who(request)).userId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/v1/me/stats",
    {
      schema: {
        summary: "Jobs per tool (succeeded, failed), images and storage used",
        tags,
        response: {
          200: z.object({
            jobsPerTool: z.array(z.object({ tool: z.string(), succeeded: z.number().int(), failed: z.number().int(), other: z.number().int().describe("queued, running, or cancelled") })),
            images: z.number().int(),
            storageBytes: z.number().int().describe("hosted images plus tool files not yet deleted"),
          }),
          401: errorSchema,
        },
      },
    },
    async (request) => accounts.dashboard.stats((await who(request)).userId),
  );

  app.get(
    "/api/v1/me/tokens",
    { schema: { summary: "API tokens (never the tokens themselves)", tags, response: { 200: z.object({ tokens: z.array(tokenInfoSchema) }), 401: errorSchema } } },
    async (request) => ({ tokens: (await accounts.tokens.list((await signedIn(request)).userId)).map((t) => ({ ...t, createdAt: iso(t.createdAt)!, lastUsedAt: iso(t.lastUsedAt) })) }),
  );

  app.post(
    "/api/v1/me/tokens",
    {
      schema: {
        summary: "Create an API token (shown once), with a ShareX uploader and a curl example",
        tags,
        body: z.object({ name: z.string().trim().min(1).max(100) }),
        response: {
          201: tokenInfoSchema.extend({
            token: z.string().describe("send as Authorization: Bearer; shown only now, stored as a SHA-256 hash"),
            sharex: z.record(z.string(), z.unknown()).describe("a ShareX custom uploader (.sxcu) for this token"),
            curl: z.string().describe("an upload with curl"),
          }),
          400: errorSchema,
          401: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const identity = await signedIn(request);
      const { token, info } = await accounts.tokens.create(identity.userId, request.body.name);
      return reply.status(201).send({ ...info, createdAt: iso(info.createdAt)!, lastUsedAt: null, token, sharex: shareXUploader(base, info.name, token), curl: `curl -H "Authorization: Bearer ${token}" -F "file=@photo.jpg" ${base}/api/v1/images` });
    },
  );

  app.delete(
    "/api/v1/me/tokens/:id",
    { schema: { summary: "Revoke an API token", tags, params: idParams, response: { 204: z.null(), 401: errorSchema, 404: errorSchema } } },
    async (request, reply) => {
      await accounts.tokens.revoke((await signedIn(request)).userId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/v1/me/claim",
    {
      schema: {
        summary: "Move anonymous uploads and jobs into the account, each proven by its deletion token",
        description: "Items unknown, owned already, or with a wrong token are skipped without saying which.",
        tags,
        body: z.object({ images: z.array(itemProof).max(500).default([]), jobs: z.array(itemProof).max(500).default([]) }),
        response: { 200: z.object({ images: z.array(z.string()), jobs: z.array(z.string()) }).describe("the ids now owned"), 401: errorSchema },
      },
    },
    async (request) => accounts.dashboard.claim((await who(request)).userId, request.body),
  );

  app.get(
    "/api/v1/me/export",
    { schema: { summary: "Everything about the account as one ZIP: account.json and every file still stored (P17)", tags, produces: ["application/zip"] } },
    async (request, reply) => {
      const body = await accounts.exportZip((await signedIn(request)).userId);
      return reply.type("application/zip").header("cache-control", "private, no-store").header("content-disposition", 'attachment; filename="pixhaven-export.zip"').send(body);
    },
  );

  app.delete(
    "/api/v1/me",
    {
      schema: {
        summary: "Delete the account and everything of it, at once (P17)",
        description: "Needs the password, or for accounts without one a session opened in the last ten minutes. Images, jobs, every stored file, tokens and sessions go with it.",
        tags,
        body: z.object({ password: z.string().max(256).optional() }).nullish(),
        response: { 204: z.null(), 401: errorSchema, 403: errorSchema },
      },
    },
    async (request, reply) => {
      await accounts.erase(await who(request), request.body?.password);
      return reply.status(204).send(null);
    },
  );
};

function shareXUploader(base: string, name: string, token: string) {
  return {
    Version: "16.0.0",
    Name: `Pixhaven (${name})`,
    DestinationType: "ImageUploader",
    RequestMethod: "POST",
    RequestURL: `${base}/api/v1/images`,
    Headers: { Authorization: `Bearer ${token}` },
    Body: "MultipartFormData",
    FileFormName: "file",
    URL: "{json:url}",
    ThumbnailURL: "{json:thumbUrl}",
    DeletionURL: "{json:deleteUrl}",
    ErrorMessage: "{json:error.message}",
  };
}
