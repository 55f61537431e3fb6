import fs from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { Clock } from "../../src/common/clock.js";
import { type Config, loadConfig } from "../../src/config.js";
import type { RunTool } from "../../src/jobs/worker.js";
import { createPixhaven, type Pixhaven } from "../../src/server.js";

export const POSTGRES_URL = process.env.PIXHAVEN_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestServer {
  baseUrl: string;
  dataDir: string;
  px: Pixhaven;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** "sqlite" (default) or "postgres": each server gets its own fresh database or schema */
  dialect?: "sqlite" | "postgres";
  config?: Partial<Config>;
  clock?: Clock;
  /** receives the server's JSON log lines; logs are off otherwise */
  logStream?: NodeJS.WritableStream;
  /** logs go where `serve` sends them: ACCESS_LOG's day files under DATA_DIR/logs, the rest to stdout */
  accessLog?: boolean;
  /** runs tool jobs in this server, as `serve --role all` does */
  jobWorker?: boolean;
  /** how jobs run their tool (the tool runner unless given) */
  runTool?: RunTool;
}

/** A real Pixhaven listening on a free loopback port with a temp DATA_DIR; stop() removes everything. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-test-"));
  const port = await freePort();
  const schema = `t_${Math.random().toString(36).slice(2, 12)}`;
  const databaseUrl = options.dialect === "postgres" ? `${POSTGRES_URL}?schema=${schema}` : undefined;
  const config = loadConfig(
    {},
    {
      dataDir,
      port,
      host: "127.0.0.1",
      publicUrl: `http://127.0.0.1:${port}`,
      uploadRateLimit: null, // suites upload freely; the rate limit has its own test
      ...(databaseUrl ? { databaseUrl } : {}),
      ...options.config,
    },
  );
  if (!options.config?.databaseUrl && !databaseUrl) config.databaseUrl = `sqlite:${path.join(dataDir, "pixhaven.sqlite")}`;
  const px = await createPixhaven(config, { ...(options.accessLog ? {} : { logger: options.logStream ? { stream: options.logStream } : false }), ...(options.clock ? { clock: options.clock } : {}), ...(options.runTool ? { runTool: options.runTool } : {}) });
  await px.app.listen({ port, host: "127.0.0.1" });
  if (options.jobWorker) px.core.jobWorker.start();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    px,
    async stop() {
      await px.close();
      if (databaseUrl) await dropSchema(schema);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

let postgresReachable: Promise<boolean> | undefined;

/** Whether the PostgreSQL pass can run; when it cannot, the caller says so loudly. */
export function isPostgresReachable(): Promise<boolean> {
  postgresReachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query("select 1");
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresReachable;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}
