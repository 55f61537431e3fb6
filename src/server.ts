import { readFileSync } from "node:fs";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Clock } from "./common/clock.js";
import { type Config, packageRoot } from "./config.js";
import { type Core, type CoreOptions, createCore } from "./core.js";
import type { Db } from "./db/index.js";
import { ping } from "./db/migrations.js";
import { buildApp, type AppDeps } from "./http/app.js";
import type { ImageService } from "./images/service.js";
import { importUrlToFile } from "./net/import-to-file.js";
import { AccessLog } from "./privacy/access-log.js";
import type { BlobStore } from "./storage/blob-store.js";

export interface Pixhaven {
  app: FastifyInstance;
  core: Core;
  config: Config;
  db: Db;
  blobs: BlobStore;
  images: ImageService;
  close(): Promise<void>;
}

/** What a serving process does: the API and web UI, tool jobs, or both (one machine). */
export type Role = "api" | "worker" | "all";

export interface PixhavenOptions {
  clock?: Clock;
  logger?: AppDeps["logger"];
  role?: Role;
  /** how jobs run their tool (tests may give another); the tool registry by default */
  runTool?: CoreOptions["runTool"];
}

export const VERSION: string = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")).version;

/** The HTTP app over a core; closing it closes the core too. */
export async function serveCore(core: Core, options: Pick<PixhavenOptions, "logger" | "role"> = {}): Promise<Pixhaven> {
  const { config, db, blobs, images } = core;
  // P11: unless told otherwise, request lines go to day files purged after ACCESS_LOG_RETENTION.
  const accessLog = options.logger === undefined && config.accessLog ? new AccessLog(config.accessLog.dir, config.accessLog.retentionMs, core.clock) : null;
  const app = await buildApp({
    config,
    images,
    reports: core.reports,
    contact: core.contact,
    ...(core.proofOfWork ? { proofOfWork: core.proofOfWork } : {}),
    jobs: core.jobs,
    accounts: core.accounts,
    models: core.models,
    metrics: core.metrics,
    tmpDir: core.temp.path,
    healthOnly: options.role === "worker",
    ...(config.urlImport.enabled
      ? {
          importUrl: (url: string, destination: string) =>
            importUrlToFile(url, destination, {
              maxBytes: config.maxUploadBytes,
              timeoutMs: config.urlImport.timeoutMs,
              allowList: config.urlImport.allowList,
              userAgent: `Pixhaven/${VERSION} (+url import)`,
            }),
        }
      : {}),
    healthCheck: async () => void (await Promise.all([ping(db.db), blobs.check()])),
    version: VERSION,
    logger: options.logger ?? (accessLog ? { stream: accessLog } : true),
  });
  return {
    app,
    core,
    config,
    db,
    blobs,
    images,
    // In-flight requests finish first (fastify waits for them), then the core closes.
    async close() {
      // Connections kept alive after their last response would hold the close open for their
      // whole keep-alive timeout; end each as soon as it is idle.
      const closing = app.close();
      const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
      await closing.finally(() => clearInterval(reaper));
      await core.close();
      await accessLog?.close();
    },
  };
}

/** Wires one serving process: the core (database migrated, storage, services) and the HTTP app. */
export async function createPixhaven(config: Config, options: PixhavenOptions = {}): Promise<Pixhaven> {
  const core = await createCore(config, {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.runTool ? { runTool: options.runTool } : {}),
    runsJobs: options.role !== "api",
  });
  try {
    return await serveCore(core, options);
  } catch (err) {
    await core.close();
    throw err;
  }
}
