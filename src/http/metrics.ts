import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { AppError } from "../common/errors.js";
import type { Metrics } from "../metrics.js";

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Every answer is counted by route template (never the URL itself: ids stay out), and, with
 * METRICS_TOKEN set, GET /metrics gives Prometheus the text, to a scraper bearing the token only.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, token: string | null): void {
  app.addHook("onResponse", async (request, reply) => {
    metrics.request(request.method, request.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
  });
  if (token === null) return;
  const expected = digest(token);
  app.get("/metrics", { schema: { summary: "Prometheus metrics (with `Authorization: Bearer <METRICS_TOKEN>`)", tags: ["operations"], produces: ["text/plain"] } }, async (request, reply) => {
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
    // Compared as digests: the same length whatever was sent, so the time says nothing of the token.
    if (!given || !timingSafeEqual(digest(given), expected)) {
      throw new AppError("unauthorized", 401, "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.");
    }
    return reply.header("content-type", metrics.contentType).header("cache-control", "no-store").send(await metrics.text());
  });
}
