import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../config.js";
import { REPORT_REASONS } from "../common/reports.js";
import type { AbuseReports } from "../moderation/reports.js";
import type { ContactMessages } from "../moderation/contact.js";
import type { ProofOfWork } from "../moderation/proof-of-work.js";
import { notFound } from "../common/errors.js";
import { networkRateLimit } from "./images.js";
import { errorSchema, idParams } from "./schemas.js";

const MAX_DETAILS = 4000;

const reportBody = z
  .object({
    reason: z.enum(REPORT_REASONS),
    details: z.string().trim().max(MAX_DETAILS).default(""),
    contact: z.email().max(320).optional().describe("an address to answer you; required for a copyright notice"),
    goodFaith: z.boolean().optional().describe("copyright notices: you believe in good faith that the use is not authorised, and the notice is accurate"),
  })
  .superRefine((body, ctx) => {
    if (body.reason !== "copyright") return;
    if (!body.contact) ctx.addIssue({ code: "custom", path: ["contact"], message: "A copyright notice needs an address to answer you." });
    if (body.details.length < 10) ctx.addIssue({ code: "custom", path: ["details"], message: "A copyright notice needs to name the work it concerns and who holds its rights." });
    if (body.goodFaith !== true) ctx.addIssue({ code: "custom", path: ["goodFaith"], message: "A copyright notice needs your statement that it is made in good faith and is accurate." });
  });

export const reportSchema = z.object({
  id: z.string(),
  imageId: z.string(),
  reason: z.enum(REPORT_REASONS),
  details: z.string(),
  contact: z.string().nullable(),
  status: z.enum(["open", "removed", "dismissed"]),
  createdAt: z.string(),
  resolvedAt: z.string().nullable(),
});

/** Anyone who can see an image can report it (abuse, or a copyright notice), and anyone can write to the operator. */
export const moderationApi: FastifyPluginAsyncZod<{ reports: AbuseReports; contact: ContactMessages; proofOfWork: ProofOfWork | undefined; config: Config }> = async (
  app,
  { reports, contact, proofOfWork, config },
) => {
  app.get(
    "/api/v1/pow",
    {
      schema: {
        summary: "A proof-of-work challenge for an anonymous upload, of an image or of files for a tool (when PROOF_OF_WORK is on)",
        description:
          "Find a number `nonce` such that SHA-256 of `<challenge>:<nonce>` (UTF-8) starts with `bits` zero bits, then send the upload with the header `X-Proof-Of-Work: <challenge>:<nonce>`. A challenge is good for one upload, for 10 minutes. Uploads with an account need none. 404 when the check is off.",
        tags: ["images"],
        response: { 200: z.object({ challenge: z.string(), bits: z.number().int(), expiresAt: z.string() }), 404: errorSchema },
      },
    },
    async (_request, reply) => {
      if (!proofOfWork) throw notFound();
      const issued = proofOfWork.issue();
      return reply.header("cache-control", "no-store").send({ challenge: issued.challenge, bits: issued.bits, expiresAt: new Date(issued.expiresAt).toISOString() });
    },
  );

  app.post(
    "/api/v1/contact",
    {
      ...(config.contactRateLimit ? { config: { rateLimit: networkRateLimit(config.contactRateLimit, "messages") } } : {}),
      schema: {
        summary: "Write to this server's operator",
        description: `JSON: \`email\` (where the answer goes) and \`message\`. Nothing else of the sender is kept; a message is deleted ${Math.round(config.contactRetentionMs / 86_400_000)} days after it came (CONTACT_RETENTION).`,
        tags: ["operations"],
        body: z.object({ email: z.email().max(320), message: z.string().trim().min(10, "Write at least 10 characters.").max(MAX_DETAILS) }),
        response: { 201: z.object({ id: z.string() }), 400: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const received = await contact.receive(request.body.email, request.body.message);
      return reply.status(201).send({ id: received.id });
    },
  );

  app.post(
    "/api/v1/images/:id/reports",
    {
      ...(config.reportRateLimit ? { config: { rateLimit: networkRateLimit(config.reportRateLimit, "reports") } } : {}),
      schema: {
        summary: "Report an image to the moderators (abuse, or a copyright notice)",
        description: `JSON: \`reason\` (${REPORT_REASONS.join(", ")}), \`details\`, an optional \`contact\` address. A copyright notice (\`reason: copyright\`) names the work in \`details\`, gives a \`contact\` and \`goodFaith: true\`. Nothing else of the reporter is kept; a resolved report is deleted after ${Math.round(config.reportRetentionMs / 86_400_000)} days (REPORT_RETENTION).`,
        tags: ["images"],
        params: idParams,
        body: reportBody,
        response: { 201: z.object({ id: z.string(), status: z.literal("open") }), 400: errorSchema, 404: errorSchema, 410: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const { reason, details, contact } = request.body;
      const report = await reports.file(request.params.id, { reason, details, contact: contact ?? null });
      return reply.status(201).send({ id: report.id, status: "open" as const });
    },
  );
};
