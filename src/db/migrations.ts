import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";

/**
 * Migrations live in code (not files found at run time) so the built package and the tests run the
 * same list. Only portable column types: both SQLite and PostgreSQL run every migration.
 */
const migrations: Record<string, Migration> = {
  "0001_images": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("images")
        .addColumn("id", "varchar(16)", (c) => c.primaryKey())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("delete_token_hash", "varchar(128)")
        .addColumn("owner_id", "varchar(64)")
        .addColumn("mime", "varchar(64)", (c) => c.notNull())
        .addColumn("ext", "varchar(8)", (c) => c.notNull())
        .addColumn("width", "integer", (c) => c.notNull())
        .addColumn("height", "integer", (c) => c.notNull())
        .addColumn("frames", "integer", (c) => c.notNull())
        .addColumn("bytes", "bigint", (c) => c.notNull())
        .addColumn("etag", "varchar(80)", (c) => c.notNull())
        .addColumn("blob_key", "varchar(255)")
        .addColumn("thumb_key", "varchar(255)")
        .addColumn("thumbhash", "varchar(64)", (c) => c.notNull())
        .addColumn("original_name", "varchar(255)")
        .addColumn("views", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_viewed_at", "bigint")
        .addColumn("deleted_at", "bigint")
        .execute();
      await db.schema.createIndex("images_status_deleted_at").on("images").columns(["status", "deleted_at"]).execute();
      await db.schema.createIndex("images_owner").on("images").column("owner_id").execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("images").execute();
    },
  },
  "0002_jobs": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("jobs")
        .addColumn("id", "varchar(16)", (c) => c.primaryKey())
        .addColumn("batch_id", "varchar(16)", (c) => c.notNull())
        .addColumn("tool", "varchar(64)", (c) => c.notNull())
        .addColumn("params", "text", (c) => c.notNull())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("progress", "real", (c) => c.notNull().defaultTo(0))
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("error_code", "varchar(64)")
        .addColumn("error_message", "text")
        .addColumn("report", "text")
        .addColumn("input_name", "varchar(255)", (c) => c.notNull())
        .addColumn("input_bytes", "bigint", (c) => c.notNull())
        .addColumn("input_pixels", "bigint")
        .addColumn("input_key", "varchar(255)")
        .addColumn("delete_token_hash", "varchar(128)", (c) => c.notNull())
        .addColumn("owner_id", "varchar(64)")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("started_at", "bigint")
        .addColumn("finished_at", "bigint")
        .addColumn("expires_at", "bigint")
        .addColumn("lease_until", "bigint")
        .execute();
      await db.schema.createIndex("jobs_status_created").on("jobs").columns(["status", "created_at"]).execute();
      await db.schema.createIndex("jobs_batch").on("jobs").column("batch_id").execute();
      await db.schema.createIndex("jobs_expires").on("jobs").column("expires_at").execute();
      await db.schema.createIndex("jobs_owner").on("jobs").column("owner_id").execute();
      await db.schema
        .createTable("job_outputs")
        .addColumn("job_id", "varchar(16)", (c) => c.notNull().references("jobs.id").onDelete("cascade"))
        .addColumn("idx", "integer", (c) => c.notNull())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("blob_key", "varchar(255)")
        .addColumn("mime", "varchar(64)", (c) => c.notNull())
        .addColumn("bytes", "bigint", (c) => c.notNull())
        .addColumn("width", "integer")
        .addColumn("height", "integer")
        .addColumn("downloads", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("last_download_at", "bigint")
        .addPrimaryKeyConstraint("job_outputs_pk", ["job_id", "idx"])
        .execute();
      await db.schema
        .createTable("maintenance")
        .addColumn("name", "varchar(64)", (c) => c.primaryKey())
        .addColumn("next_run_at", "bigint", (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("maintenance").execute();
      await db.schema.dropTable("job_outputs").execute();
      await db.schema.dropTable("jobs").execute();
    },
  },
  "0003_nsfw": {
    // P9: the classifier's answer for each hosted image; null until it has run (the sweep looks for those).
    async up(db: Kysely<any>) {
      // One column a statement: SQLite adds a single column per ALTER TABLE.
      await db.schema.alterTable("images").addColumn("nsfw_label", "varchar(16)").execute();
      await db.schema.alterTable("images").addColumn("nsfw_score", "real").execute();
      await db.schema.alterTable("images").addColumn("nsfw_scores", "text").execute();
      await db.schema.createIndex("images_nsfw_label").on("images").columns(["nsfw_label", "status"]).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex("images_nsfw_label").execute();
      for (const column of ["nsfw_scores", "nsfw_score", "nsfw_label"]) await db.schema.alterTable("images").dropColumn(column).execute();
    },
  },
  "0004_accounts": {
    // Pixhaven's own account tables. better-auth's (user, session, account, verification,
    // twoFactor, passkey) are created after these by its own migrations, in the same schema.
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("api_tokens")
        .addColumn("id", "varchar(16)", (c) => c.primaryKey())
        .addColumn("user_id", "varchar(64)", (c) => c.notNull())
        .addColumn("name", "varchar(100)", (c) => c.notNull())
        .addColumn("token_hash", "varchar(128)", (c) => c.notNull().unique())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_used_at", "bigint")
        .execute();
      await db.schema.createIndex("api_tokens_user").on("api_tokens").column("user_id").execute();
      await db.schema
        .createTable("totp_steps")
        .addColumn("user_id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("step", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("invites")
        .addColumn("code_hash", "varchar(128)", (c) => c.primaryKey())
        .addColumn("created_by", "varchar(64)")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("used_at", "bigint")
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ["invites", "totp_steps", "api_tokens"]) await db.schema.dropTable(table).execute();
    },
  },
  "0005_job_order": {
    // A job's place in its batch: jobs created in the same millisecond keep the order their files
    // were sent in (listings, event streams and the queue), not the order of their random ids.
    async up(db: Kysely<any>) {
      await db.schema.alterTable("jobs").addColumn("batch_index", "integer", (c) => c.notNull().defaultTo(0)).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable("jobs").dropColumn("batch_index").execute();
    },
  },
  "0006_abuse_reports": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("abuse_reports")
        .addColumn("id", "varchar(16)", (c) => c.primaryKey())
        .addColumn("image_id", "varchar(16)", (c) => c.notNull())
        .addColumn("reason", "varchar(32)", (c) => c.notNull())
        .addColumn("details", "text", (c) => c.notNull())
        .addColumn("contact", "varchar(320)")
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("resolved_at", "bigint")
        .execute();
      await db.schema.createIndex("abuse_reports_status").on("abuse_reports").columns(["status", "created_at"]).execute();
      await db.schema.createIndex("abuse_reports_image").on("abuse_reports").column("image_id").execute();
      await db.schema.createIndex("abuse_reports_resolved").on("abuse_reports").column("resolved_at").execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("abuse_reports").execute();
    },
  },
  "0007_contact_messages": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("contact_messages")
        .addColumn("id", "varchar(16)", (c) => c.primaryKey())
        .addColumn("email", "varchar(320)", (c) => c.notNull())
        .addColumn("message", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("contact_messages_created").on("contact_messages").column("created_at").execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("contact_messages").execute();
    },
  },
  "0008_spent_proofs": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("spent_proofs")
        .addColumn("mac", "varchar(64)", (c) => c.primaryKey())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("spent_proofs_expires").on("spent_proofs").column("expires_at").execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("spent_proofs").execute();
    },
  },
  "0009_fair_job_order": {
    // Workers take the first queued job of every batch before the second of any (claimNext).
    async up(db: Kysely<any>) {
      await db.schema.createIndex("jobs_status_batch_index").on("jobs").columns(["status", "batch_index", "created_at"]).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex("jobs_status_batch_index").execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Every migration, in the order they apply. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(migrations).sort();

export async function migrateToLatest(db: Kysely<any>, schema?: string): Promise<string[]> {
  if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  // Named explicitly: Kysely otherwise looks for its tables in every schema and would find another
  // instance's bookkeeping when several share one PostgreSQL database.
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** A cheap round trip for /healthz. */
export async function ping(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}
