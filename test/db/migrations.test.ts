import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { expect, it } from "vitest";
import { openDatabase } from "../../src/db/index.js";
import { MIGRATION_NAMES, migrateToLatest } from "../../src/db/migrations.js";
import { describeEachDialect } from "../helpers/http.js";
import { POSTGRES_URL } from "../helpers/server.js";

describeEachDialect("migrations", (dialect) => {
  it("apply once, are idempotent, and store epoch milliseconds as exact numbers", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-db-"));
    const schema = `m_${Math.random().toString(36).slice(2, 10)}`;
    const url = dialect === "postgres" ? `${POSTGRES_URL}?schema=${schema}` : `sqlite:${path.join(dir, "x.sqlite")}`;
    const { db, schema: named, close } = openDatabase(url);
    try {
      expect(MIGRATION_NAMES.slice(0, 2)).toEqual(["0001_images", "0002_jobs"]);
      expect(await migrateToLatest(db, named)).toEqual(MIGRATION_NAMES);
      expect(await migrateToLatest(db, named)).toEqual([]);
      const at = Date.UTC(2026, 10, 26, 12, 34, 56, 789);
      await db
        .insertInto("images")
        .values({ id: "AAAAAAAAAAA", status: "active", delete_token_hash: null, owner_id: null, mime: "image/png", ext: "png", width: 1, height: 1, frames: 1, bytes: 5_000_000_000, etag: "e", blob_key: null, thumb_key: null, thumbhash: "", original_name: null, created_at: at, last_viewed_at: null, deleted_at: null })
        .execute();
      const row = await db.selectFrom("images").selectAll().executeTakeFirstOrThrow();
      expect(row.created_at).toBe(at);
      expect(row.bytes).toBe(5_000_000_000);
      expect(row.views).toBe(0);
      // Job times and sizes are the same exact numbers; the job's progress a float.
      await db
        .insertInto("jobs")
        .values({ id: "BBBBBBBBBBB", batch_id: "CCCCCCCCCCC", tool: "convert", params: "{}", status: "queued", progress: 0.25, attempts: 0, input_name: "a.jpg", input_bytes: 5_000_000_000, input_key: null, delete_token_hash: "h", owner_id: null, created_at: at })
        .execute();
      expect(await db.selectFrom("jobs").select(["created_at", "input_bytes", "progress"]).executeTakeFirstOrThrow()).toEqual({ created_at: at, input_bytes: 5_000_000_000, progress: 0.25 });
    } finally {
      await close();
      await fs.rm(dir, { recursive: true, force: true });
      if (dialect === "postgres") {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    }
  });
});
