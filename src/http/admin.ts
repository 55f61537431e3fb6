import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Accounts, Identity } from "../accounts/index.js";
import { iso } from "../common/clock.js";
import { notFound } from "../common/errors.js";
import { identify } from "./auth.js";
import type { AbuseReports } from "../moderation/reports.js";
import type { ContactMessages } from "../moderation/contact.js";
import type { AbuseReportRow } from "../db/schema.js";
import { reportSchema } from "./moderation.js";
import { errorSchema, idParams } from "./schemas.js";

/**
 * P20: admin routes exist only for an administrator whose session was opened with a second
 * factor; to anyone else (no role, no second factor, an API token) they answer the same 404 as
 * an unknown address.
 */
export const adminApi: FastifyPluginAsyncZod<{ accounts: Accounts; reports: AbuseReports; contact: ContactMessages }> = async (app, { accounts, reports, contact }) => {
  app.addHook("onRequest", async (request) => {
    const identity: Identity | null = await identify(accounts, request).catch(() => null);
    if (!identity || identity.via !== "session" || identity.role !== "admin" || !identity.secondFactor) throw notFound();
  });

  app.get(
    "/api/v1/admin/stats",
    {
      schema: {
        summary: "Instance totals (administrators with a second factor only)",
        tags: ["admin"],
        response: { 200: z.object({ users: z.number().int(), images: z.number().int(), jobs: z.number().int(), imageBytes: z.number().int() }), 404: errorSchema },
      },
    },
    async () => accounts.dashboard.instanceTotals(),
  );

  app.get(
    "/api/v1/admin/reports",
    {
      schema: {
        summary: "Reports of images: the open ones oldest first, or the resolved ones newest first",
        tags: ["admin"],
        querystring: z.object({ status: z.enum(["open", "resolved"]).default("open") }),
        response: { 200: z.object({ reports: z.array(reportSchema) }), 404: errorSchema },
      },
    },
    async (request) => ({ reports: (await reports.list(request.query.status)).map(reportJson) }),
  );

  app.post(
    "/api/v1/admin/reports/:id",
    {
      schema: {
        summary: "Resolve a report: remove the image (every open report of it is resolved with it) or dismiss the report",
        tags: ["admin"],
        params: idParams,
        body: z.object({ action: z.enum(["remove", "dismiss"]) }),
        response: { 200: reportSchema, 404: errorSchema },
      },
    },
    async (request) => reportJson(await reports.resolve(request.params.id, request.body.action)),
  );

  app.get(
    "/api/v1/admin/contact",
    {
      schema: {
        summary: "Messages from the contact page, newest first",
        tags: ["admin"],
        response: { 200: z.object({ messages: z.array(z.object({ id: z.string(), email: z.string(), message: z.string(), createdAt: z.string() })) }), 404: errorSchema },
      },
    },
    async () => ({ messages: (await contact.list()).map((m) => ({ id: m.id, email: m.email, message: m.message, createdAt: iso(m.created_at)! })) }),
  );

  app.delete(
    "/api/v1/admin/contact/:id",
    { schema: { summary: "Delete a message once dealt with", tags: ["admin"], params: idParams, response: { 204: z.null(), 404: errorSchema } } },
    async (request, reply) => {
      await contact.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/v1/admin/invites",
    {
      schema: {
        summary: "Create an invitation code (REGISTRATION=invite): shown once, good for one sign-up within 7 days",
        tags: ["admin"],
        response: { 201: z.object({ code: z.string(), expiresAt: z.string() }), 404: errorSchema },
      },
    },
    async (request, reply) => {
      const identity = (await identify(accounts, request))!;
      const invite = await accounts.invites.create(identity.userId);
      return reply.status(201).send({ code: invite.code, expiresAt: new Date(invite.expiresAt).toISOString() });
    },
  );
};

function reportJson(row: AbuseReportRow) {
  return {
    id: row.id,
    imageId: row.image_id,
    reason: row.reason as z.infer<typeof reportSchema>["reason"],
    details: row.details,
    contact: row.contact,
    status: row.status,
    createdAt: iso(row.created_at)!,
    resolvedAt: iso(row.resolved_at),
  };
}
