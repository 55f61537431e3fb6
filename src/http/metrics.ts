import type { FastifyInstance } from "fastify";
import { AppError } from "../common/errors.js";
import { hashToken, tokenMatches } from "../ids.js";
import type { Metrics } from "../metrics.js";

/**
 * Every answer is counted by route template (never the URL itself: ids stay out), and GET /metrics
 * gives Prometheus the text, to a scraper bearing METRICS_TOKEN only.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, token: string): void {
  app.addHook("onResponse", async (request, reply) => {
    metrics.request(request.method, request.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
  });
  const expected = hashToken(token);
  app.get("/metrics", { schema: { summary: "Prometheus metrics (with `Authorization: Bearer <METRICS_TOKEN>`)", tags: ["operations"], produces: ["text/plain"] } }, async (request, reply) => {
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
    // Compared as hashes: the same length whatever was sent, so the time says nothing of the token.
    if (!given || !tokenMatches(given, expected)) {
      throw new AppError("unauthorized", 401, "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.");
    }
    return reply.header("content-type", metrics.contentType).header("cache-control", "no-store").send(await metrics.text());
  });
}
