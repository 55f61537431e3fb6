import { readFileSync } from "node:fs";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { type Clock, systemClock } from "./common/clock.js";
import { type Config, packageRoot } from "./config.js";
import { type Db, openDatabase } from "./db/index.js";
import { migrateToLatest, ping } from "./db/migrations.js";
import { buildApp, type AppDeps } from "./http/app.js";
import { ImageWorkers } from "./images/workers.js";
import { ImageRepository } from "./images/repository.js";
import { ImageService, sweepTempDir } from "./images/service.js";
import { ViewCounter } from "./images/views.js";
import type { BlobStore } from "./storage/blob-store.js";
import { MemoryBudget } from "./tools/memory-budget.js";
import { createBlobStore } from "./storage/index.js";

export interface Pixhaven {
  app: FastifyInstance;
  config: Config;
  db: Db;
  blobs: BlobStore;
  images: ImageService;
  close(): Promise<void>;
}

export interface PixhavenOptions {
  clock?: Clock;
  logger?: AppDeps["logger"];
}

export const VERSION: string = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")).version;

/** Wires one process: database (migrated), storage, services and the HTTP app. */
export async function createPixhaven(config: Config, options: PixhavenOptions = {}): Promise<Pixhaven> {
  const clock = options.clock ?? systemClock;
  const tmpDir = path.join(config.dataDir, "tmp");
  await sweepTempDir(tmpDir);
  const db = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db.db, db.schema);
  } catch (err) {
    await db.close();
    throw err;
  }
  const blobs = createBlobStore(config);
  try {
    await blobs.check(); // a wrong bucket or a read-only disk stops the start, not the first upload
  } catch (err) {
    await db.close();
    throw err;
  }
  const workers = new ImageWorkers(config.uploadConcurrency, config.decodeTimeoutMs);
  const images = new ImageService({
    repo: new ImageRepository(db.db),
    blobs,
    clock,
    workers,
    views: new ViewCounter(clock),
    tmpDir,
    limits: { maxPixels: config.maxPixels, maxAnimationPixels: config.maxAnimationPixels, decodeTimeoutMs: config.decodeTimeoutMs },
    budget: new MemoryBudget(config.decodeMemoryBytes),
    maxUploadBytes: config.maxUploadBytes,
    concurrency: config.uploadConcurrency,
  });
  const app = await buildApp({ config, images, healthCheck: async () => void (await Promise.all([ping(db.db), blobs.check()])), version: VERSION, logger: options.logger ?? true });
  return {
    app,
    config,
    db,
    blobs,
    images,
    // In-flight requests finish first (fastify waits for them), then the pools close.
    async close() {
      // Connections kept alive after their last response would hold the close open for their
      // whole keep-alive timeout; end each as soon as it is idle.
      const closing = app.close();
      const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
      await closing.finally(() => clearInterval(reaper));
      await workers.close();
      await db.close();
    },
  };
}
