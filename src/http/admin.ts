import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Accounts, Identity } from "../accounts/index.js";
import { notFound } from "../common/errors.js";
import { identify } from "./auth.js";
import { errorSchema } from "./schemas.js";

/**
 * P20: admin routes exist only for an administrator whose session was opened with a second
 * factor; to anyone else (no role, no second factor, an API token) they answer the same 404 as
 * an unknown address.
 */
export const adminApi: FastifyPluginAsyncZod<{ accounts: Accounts }> = async (app, { accounts }) => {
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
