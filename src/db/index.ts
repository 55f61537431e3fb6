import { mkdirSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { createRequire } from "node:module";
import type { Database } from "./schema.js";

export type Dialect = "sqlite" | "postgres";

export interface Db {
  db: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL schema named by `?schema=`, created on first start. */
  schema?: string;
  close(): Promise<void>;
}

const INT8_OID = 20;

/**
 * `sqlite:<file>` (the default, in DATA_DIR) or `postgres://...`. A PostgreSQL URL may carry
 * `?schema=name` to keep several instances (or test runs) apart in one database.
 */
export function openDatabase(url: string): Db {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return openPostgres(url);
  const file = url.replace(/^sqlite:(\/\/)?/, "");
  if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SQLite(file);
  // WAL lets viewers read while an upload commits; NORMAL is durable across process crashes.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
  return { db, dialect: "sqlite", close: () => db.destroy() };
}

/** Compiled statements kept, most recently used first: the queries are the same few hundred. */
const STATEMENTS_KEPT = 256;

/**
 * The database as Kysely sees it, with each SQL text compiled once: Kysely asks for a fresh
 * statement per query, and compiling took as long as running most of them. A statement still
 * being iterated is never handed out twice.
 */
function reusingStatements(sqlite: SQLite.Database): { close(): void; prepare(sql: string): SQLite.Statement } {
  const kept = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      const found = kept.get(sql);
      kept.delete(sql);
      const statement = found && !found.busy ? found : sqlite.prepare(sql);
      kept.set(sql, statement);
      if (kept.size > STATEMENTS_KEPT) kept.delete(kept.keys().next().value!);
      return statement;
    },
  };
}

function openPostgres(url: string): Db {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema");
  if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name in DATABASE_URL: ${schema}`);
  parsed.searchParams.delete("schema");
  // Loaded here rather than at startup: a server on SQLite (the default) never needs it.
  const pg = createRequire(import.meta.url)("pg") as typeof import("pg");
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // BIGINT columns hold epoch milliseconds and byte counts, all far below 2^53.
    types: { getTypeParser: (oid: number, format?: any) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) },
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: "postgres", ...(schema ? { schema } : {}), close: () => db.destroy() };
}
