import path from "node:path";
import { type Clock, systemClock } from "./common/clock.js";
import type { Config } from "./config.js";
import { type Db, openDatabase } from "./db/index.js";
import { migrateToLatest } from "./db/migrations.js";
import { ImageRepository } from "./images/repository.js";
import { ImageService } from "./images/service.js";
import { ViewCounter } from "./images/views.js";
import { ImageWorkers } from "./images/workers.js";
import type { BlobStore } from "./storage/blob-store.js";
import { createBlobStore } from "./storage/index.js";
import { claimTempDir, type TempDir } from "./storage/temp-dir.js";
import { MemoryBudget } from "./tools/memory-budget.js";

/** One process's domain: what `serve`, `purge` and the tests share. No HTTP here. */
export interface Core {
  config: Config;
  db: Db;
  blobs: BlobStore;
  images: ImageService;
  workers: ImageWorkers;
  /** this process's own temp folder under DATA_DIR/tmp */
  temp: TempDir;
  /** closes the pools and removes this process's temp folder */
  close(): Promise<void>;
}

export interface CoreOptions {
  clock?: Clock;
}

/** Opens (and migrates) the database, checks storage, claims a temp folder and builds the services. */
export async function createCore(config: Config, { clock = systemClock }: CoreOptions = {}): Promise<Core> {
  const db = openDatabase(config.databaseUrl);
  const blobs = createBlobStore(config);
  let temp: TempDir | undefined;
  try {
    await migrateToLatest(db.db, db.schema);
    await blobs.check(); // a wrong bucket or a read-only disk stops the start, not the first upload
    temp = await claimTempDir(path.join(config.dataDir, "tmp"));
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
    tmpDir: temp.path,
    limits: { maxPixels: config.maxPixels, maxAnimationPixels: config.maxAnimationPixels, decodeTimeoutMs: config.decodeTimeoutMs },
    budget: new MemoryBudget(config.decodeMemoryBytes),
    maxUploadBytes: config.maxUploadBytes,
    concurrency: config.uploadConcurrency,
  });
  const ownTemp = temp;
  return {
    config,
    db,
    blobs,
    images,
    workers,
    temp: ownTemp,
    async close() {
      await workers.close();
      await db.close();
      await ownTemp.remove();
    },
  };
}
