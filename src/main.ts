#!/usr/bin/env node
import { loadConfig } from "./config.js";
import { createCore } from "./core.js";
import { createPixhaven, type Role, VERSION } from "./server.js";
import { openDatabase } from "./db/index.js";
import { migrateToLatest } from "./db/migrations.js";
import { TOOL_COMMANDS_USAGE, toolCommand } from "./cli/tools.js";
import { USERS_USAGE, usersCommand } from "./accounts/cli.js";
import { Accounts } from "./accounts/index.js";
import { systemClock } from "./common/clock.js";
import { purgeAccessLogs } from "./privacy/access-log.js";

/** How often a worker looks at which retention rules are due (each rule has its own period). */
const RETENTION_TICK_MS = 60 * 1000;
const ROLES: readonly Role[] = ["api", "worker", "all"];

const USAGE = `pixhaven ${VERSION}

Usage: pixhaven <command>

  serve [--role api|worker|all]
            start Pixhaven (runs migrations first). api: web UI and HTTP API;
            worker: runs tool jobs and the retention rules, serves only /healthz (and /metrics);
            all (default): both, in one process
  migrate   bring the database schema up to date and exit
  purge     apply every retention rule once and exit (workers also run them on schedule):
            tool files past TOOL_RETENTION, job history past JOB_HISTORY_RETENTION,
            tombstones past TOMBSTONE_RETENTION, images unviewed for UNVIEWED_IMAGE_RETENTION,
            reports resolved longer ago than REPORT_RETENTION, contact messages past
            CONTACT_RETENTION, uploads a crashed process left half stored, and this
            machine's access log files past ACCESS_LOG_RETENTION
${USERS_USAGE}
${TOOL_COMMANDS_USAGE}

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
  const toolRun = toolCommand(command, argv.slice(1));
  if (toolRun) return toolRun;
  const config = loadConfig();
  if (command === "users") return usersCommand(argv.slice(1), config);
  if (command === "migrate") {
    const db = openDatabase(config.databaseUrl);
    try {
      const applied = await migrateToLatest(db.db, db.schema);
      const log = { warn: (obj: object, msg: string) => console.warn(msg, obj) };
      const accountTables = await Accounts.migrate({ config, db: db.db, dialect: db.dialect, clock: systemClock, log });
      console.log(applied.length ? `applied: ${applied.join(", ")}` : "schema is up to date");
      console.log(accountTables.length ? `account tables created or extended: ${accountTables.join(", ")}` : "account tables are up to date");
    } finally {
      await db.close();
    }
    return 0;
  }
  if (command === "purge") {
    // The core alone: no HTTP app, and no touching the temp files of a server on the same data.
    const core = await createCore(config);
    try {
      const report = await core.retention.runAll();
      // Access logs are this machine's own files: each machine's purge removes its own (P11).
      const logs = config.accessLog ? await purgeAccessLogs(config.accessLog.dir, config.accessLog.retentionMs, core.clock.now()) : 0;
      console.log(
        `removed: ${report.tool_files} job(s) of tool files past retention, ${report.job_history} job(s) of history, ` +
          `${report.tombstones} tombstone(s) of deleted images, ${report.abandoned_uploads} upload(s) abandoned by a crash, ${logs} day(s) of access log`,
      );
    } finally {
      await core.close();
    }
    return 0;
  }
  if (command !== "serve") {
    console.error(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const role = parseRole(argv.slice(1));
  const px = await createPixhaven(config, { role });
  await px.app.listen({ port: config.port, host: config.host });
  const { storage } = config;
  const blobs = storage.kind === "s3" ? `, blobs in s3://${storage.bucket}/${storage.prefix}` : "";
  const accessLog = config.accessLog ? `; request log in ${config.accessLog.dir}, each day's kept ${Math.round(config.accessLog.retentionMs / 86_400_000)} days` : "";
  px.app.log.info(`Pixhaven ${VERSION} (${role}) at ${config.publicUrl} (data in ${config.dataDir}${blobs}${accessLog})`);
  let stopPurging = () => {};
  if (role !== "api") {
    px.core.jobWorker.start();
    stopPurging = px.core.retention.schedule(RETENTION_TICK_MS, px.app.log);
  }
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

function parseRole(args: string[]): Role {
  const at = args.findIndex((a) => a === "--role" || a.startsWith("--role="));
  if (at < 0) return "all";
  const value = args[at]!.includes("=") ? args[at]!.split("=")[1] : args[at + 1];
  if (!ROLES.includes(value as Role)) throw new Error(`--role must be one of ${ROLES.join(", ")}`);
  return value as Role;
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
