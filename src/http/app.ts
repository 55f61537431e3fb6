import { randomUUID } from "node:crypto";
import { constants as zlibConstants } from "node:zlib";
import compress from "@fastify/compress";
import multipart from "@fastify/multipart";
import rateLimit from "@fastify/rate-limit";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../common/errors.js";
import type { Accounts } from "../accounts/index.js";
import type { Config } from "../config.js";
import type { ImageService } from "../images/service.js";
import type { JobService } from "../jobs/service.js";
import type { Metrics } from "../metrics.js";
import type { ModelThreads } from "../models/pool.js";
import { anonymiseIp } from "../privacy/anonymise-ip.js";
import { inAnyCidr } from "../net/ip.js";
import { accountApi } from "./account.js";
import { adminApi } from "./admin.js";
import { authRoutes, identify, registerOriginCheck } from "./auth.js";
import { registerApiDocs } from "./docs.js";
import { frameworkErrors, registerErrorHandling, writeConnectionError } from "./errors.js";
import { refuseNul } from "./text-guard.js";
import { imagesApi } from "./images.js";
import { jobsApi, type JobsRouteDeps } from "./jobs.js";
import { registerMetrics } from "./metrics.js";
import { toolsApi } from "./tools.js";
import { errorSchema } from "./schemas.js";
import { registerSecurityHeaders } from "./security.js";
import { viewerRoutes } from "./viewer.js";
import { moderationApi } from "./moderation.js";
import type { AbuseReports } from "../moderation/reports.js";
import type { ContactMessages } from "../moderation/contact.js";
import type { ProofOfWork } from "../moderation/proof-of-work.js";
import { registerWebApp } from "./web.js";

export interface AppDeps {
  config: Config;
  images: ImageService;
  reports: AbuseReports;
  contact: ContactMessages;
  /** the anonymous upload's bot check, when it is on */
  proofOfWork?: ProofOfWork;
  jobs: JobService;
  /** sign-in and the account API; absent, every request is anonymous */
  accounts?: Accounts;
  /** asked which models are installed (GET /api/v1/tools) */
  models: Pick<ModelThreads, "unavailable">;
  /** this process's temp folder: uploads to tools are received there */
  tmpDir: string;
  importUrl?: JobsRouteDeps["importUrl"];
  /** counts every answer, served at /metrics (with METRICS_TOKEN set; null otherwise) */
  metrics: Metrics | null;
  /** a worker-only process answers /healthz (and /metrics) and nothing else */
  healthOnly?: boolean;
  healthCheck(): Promise<void>;
  version: string;
  /** false silences logs; a stream receives the JSON lines instead of stdout */
  logger: boolean | { stream: { write(line: string): void } };
}

export async function buildApp({ config, images, reports, contact, proofOfWork, jobs, accounts, models, metrics, tmpDir, importUrl, healthOnly = false, healthCheck, version, logger }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger && { ...loggerOptions(config.logLevel), ...(typeof logger === "object" ? { stream: logger.stream } : {}) },
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: config.trustProxy,
    // Fastify's own 503 while closing has its own body; the hook below answers in ours.
    return503OnClosing: false,
    bodyLimit: 1024 * 1024,
    ...connectionTimeouts(config.requestTimeoutMs),
    clientErrorHandler: writeConnectionError,
    frameworkErrors,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  let closing = false;
  app.addHook("preClose", async () => void (closing = true));
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (closing) {
      // Requests in flight finish; a new one on a kept-alive connection is sent elsewhere.
      reply.header("connection", "close").header("retry-after", "5");
      throw new AppError("shutting_down", 503, "The server is restarting; try again in a moment.");
    }
  });

  registerErrorHandling(app);
  refuseNul(app);
  if (config.blockedNetworks.length > 0) {
    // P16: a blocked network may still look, but not send anything.
    app.addHook("onRequest", async (request) => {
      if (request.method !== "GET" && request.method !== "HEAD" && inAnyCidr(request.ip, config.blockedNetworks)) {
        throw new AppError("blocked", 403, "Requests from this network are blocked on this server.");
      }
    });
  }
  await registerSecurityHeaders(app);
  // Text only (HTML, JS, CSS, JSON); images are compressed already and keep exact byte ranges.
  await app.register(compress, { global: true, threshold: 1024, encodings: ["br", "gzip"], brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5 } } });
  await app.register(multipart, {
    // One byte over the limit reaches the upload service, which answers 413 (busboy alone would
    // silently truncate the file).
    limits: { fileSize: config.maxUploadBytes + 1, files: 1, fields: 10, fieldSize: 1024, parts: 20, headerPairs: 50 },
  });
  await app.register(rateLimit, { global: false }); // routes opt in with their own limits
  await registerApiDocs(app, version);
  if (metrics && config.metricsToken !== null) registerMetrics(app, metrics, config.metricsToken);

  app.get(
    "/healthz",
    {
      schema: {
        summary: "Whether the database and the blob store answer",
        tags: ["operations"],
        response: { 200: z.object({ status: z.literal("ok") }), 503: errorSchema },
      },
    },
    async (request, reply) => {
      try {
        await healthCheck();
      } catch (err) {
        request.log.warn({ err }, "health check failed");
        return reply.status(503).send({ error: { code: "unhealthy", message: "The database or the blob store does not answer." } });
      }
      return { status: "ok" as const };
    },
  );
  if (healthOnly) return app;
  const page = await registerWebApp(app, config.webDir);
  const owner = accounts ? { identify: (request: FastifyRequest) => identify(accounts, request) } : {};
  if (accounts) {
    registerOriginCheck(app, config.publicUrl);
    await app.register(authRoutes, { accounts, publicUrl: config.publicUrl });
    await app.register(accountApi, { accounts, config, jobs });
    await app.register(adminApi, { accounts, reports, contact });
  }
  await app.register(imagesApi, { images, config, ...owner, ...(proofOfWork ? { proofOfWork } : {}) });
  await app.register(moderationApi, { reports, contact, proofOfWork, config });
  await app.register(toolsApi, { jobs, config, models });
  await app.register(jobsApi, { jobs, config, tmpDir, ...(importUrl ? { importUrl } : {}), ...owner, ...(proofOfWork ? { proofOfWork } : {}) });
  await app.register(viewerRoutes, { images, page, publicUrl: config.publicUrl, nsfwThreshold: config.nsfwThreshold });
  return app;
}

/**
 * Node's own limits, under the upload watch (src/http/upload-guard.ts) that cuts a stalled body
 * much sooner: the whole request within REQUEST_TIMEOUT, headers within 30 s. Timeouts are checked
 * every 30 s, or more often for short ones. No socket inactivity timeout: an upload waiting its turn
 * to be processed is silent, and the decode timeout bounds it already.
 */
function connectionTimeouts(requestTimeoutMs: number) {
  const headersTimeout = requestTimeoutMs > 0 ? Math.min(30_000, requestTimeoutMs) : 30_000;
  return {
    requestTimeout: requestTimeoutMs,
    connectionTimeout: 0,
    http: { headersTimeout, connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(headersTimeout / 4))) },
  };
}

/** Request logs carry the request id and an anonymised address, never the address itself. */
function loggerOptions(level: string) {
  return {
    level,
    serializers: {
      // Sign-in links carry tokens (and a verification token the address) in their query: never logged.
      req: (req: { method: string; url: string; ip: string }) => ({ method: req.method, url: req.url.startsWith("/api/auth/") ? req.url.split("?")[0] : req.url, remoteAddress: anonymiseIp(req.ip) }),
    },
  };
}
