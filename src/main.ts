#!/usr/bin/env node
import { loadConfig } from "./config.js";
import { createCore } from "./core.js";
import { createPixhaven, VERSION } from "./server.js";
import { openDatabase } from "./db/index.js";
import { migrateToLatest } from "./db/migrations.js";
import { runPurge, schedulePurge } from "./privacy/purge.js";

const PURGE_EVERY_MS = 60 * 60 * 1000;

const USAGE = `pixhaven ${VERSION}

Usage: pixhaven <command>

  serve     start the web UI and API (runs migrations first)
  migrate   bring the database schema up to date and exit
  purge     apply the retention rules once and exit (serve also runs them hourly):
            tombstones of deleted images older than TOMBSTONE_RETENTION are removed,
            and so are uploads a crashed process left half stored

Settings come from environment variables; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? "serve";
  if (command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (command === "--version") {
    console.log(VERSION);
    return 0;
  }
  const config = loadConfig();
  if (command === "migrate") {
    const db = openDatabase(config.databaseUrl);
    const applied = await migrateToLatest(db.db, db.schema).finally(() => db.close());
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "schema is up to date");
    return 0;
  }
  if (command === "purge") {
    // The core alone: no HTTP app, and no touching the temp files of a server on the same data.
    const core = await createCore(config);
    try {
      const report = await runPurge(core.images, config.tombstoneRetentionMs);
      console.log(`removed ${report.tombstones} tombstone(s) of deleted images and ${report.abandonedUploads} upload(s) abandoned by a crash`);
    } finally {
      await core.close();
    }
    return 0;
  }
  if (command !== "serve") {
    console.error(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const px = await createPixhaven(config);
  await px.app.listen({ port: config.port, host: config.host });
  const { storage } = config;
  const blobs = storage.kind === "s3" ? `, blobs in s3://${storage.bucket}/${storage.prefix}` : "";
  px.app.log.info(`Pixhaven ${VERSION} at ${config.publicUrl} (data in ${config.dataDir}${blobs})`);
  const stopPurging = schedulePurge(() => runPurge(px.images, config.tombstoneRetentionMs), PURGE_EVERY_MS, px.app.log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    stopPurging();
    px.app.log.info(`${signal}: finishing in-flight requests`);
    // A request that never ends must not keep the process alive forever; the temp files of
    // uploads still in flight go first, since nothing will finish them.
    setTimeout(() => {
      px.app.log.warn(`requests still in flight after ${config.shutdownTimeoutMs} ms: exiting anyway`);
      px.core.temp.removeNow();
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    px.close().then(
      () => process.exit(0),
      (err) => {
        px.app.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
