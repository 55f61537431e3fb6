import { type ExpressionBuilder, type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.js";
import type { Dialect } from "../db/index.js";
import type { BlobStore } from "../storage/blob-store.js";

/**
 * P17: removes the account and everything of it at once: its images and jobs with every blob, API
 * tokens, sessions, sign-in methods, second factors and pending verifications. Blobs go first, so a
 * storage fault leaves the account whole (and the erasure can be asked again) rather than rows
 * pointing nowhere. On SQLite the connection zeroes deleted content (secure_delete, set at start)
 * and the WAL is checkpointed and truncated afterwards, so nothing stays readable in the files.
 */
export async function eraseAccount(db: Kysely<Database>, dialect: Dialect, blobs: BlobStore, userId: string): Promise<void> {
  const user = await db.selectFrom("user").select(["id", "email"]).where("id", "=", userId).executeTakeFirst();
  if (!user) return;
  await deleteOwnedBlobs(db, blobs, userId);
  await db.transaction().execute(async (tx) => {
    await deleteOwnedRows(tx, userId);
    await tx.deleteFrom("api_tokens").where("user_id", "=", userId).execute();
    await tx.deleteFrom("totp_steps").where("user_id", "=", userId).execute();
    await tx.updateTable("invites").set({ created_by: null }).where("created_by", "=", userId).execute();
    await tx.deleteFrom("session").where("userId", "=", userId).execute();
    await tx.deleteFrom("account").where("userId", "=", userId).execute();
    await tx.deleteFrom("twoFactor").where("userId", "=", userId).execute();
    await tx.deleteFrom("passkey").where("userId", "=", userId).execute();
    // Pending sign-in steps hold the user's id; e-mail changes and verifications may hold the
    // address. Matched here as plain text (in LIKE, the "_" of j_hn@x.com would match john@x.com's).
    const pending = await tx.selectFrom("verification").select(["id", "value", "identifier"]).execute();
    const theirs = pending.filter((v) => v.value.includes(userId) || v.value.includes(user.email) || v.identifier.includes(user.email)).map((v) => v.id);
    for (let i = 0; i < theirs.length; i += 500) await tx.deleteFrom("verification").where("id", "in", theirs.slice(i, i + 500)).execute();
    await tx.deleteFrom("user").where("id", "=", userId).execute();
  });
  // An upload or a batch under way may have written its rows while the transaction ran (on
  // PostgreSQL, where it does not hold other writers back). One arriving later finds the account
  // gone and keeps nothing; this catches those in between.
  await deleteOwnedBlobs(db, blobs, userId);
  await deleteOwnedRows(db, userId);
  if (dialect === "sqlite") await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db);
}

/** By a subquery, not a list of ids: an account may hold more jobs than a statement takes variables. */
const ownJobs = (userId: string) => (eb: ExpressionBuilder<Database, "job_outputs">) => eb.selectFrom("jobs").select("id").where("owner_id", "=", userId);

/** Every stored file of the account's images and jobs (inputs and outputs). */
async function deleteOwnedBlobs(db: Kysely<Database>, blobs: BlobStore, userId: string): Promise<void> {
  const images = await db.selectFrom("images").select(["blob_key", "thumb_key"]).where("owner_id", "=", userId).execute();
  const jobs = await db.selectFrom("jobs").select("input_key").where("owner_id", "=", userId).execute();
  const outputs = await db.selectFrom("job_outputs").select("blob_key").where("job_id", "in", ownJobs(userId)).execute();
  const keys = [...images.flatMap((i) => [i.blob_key, i.thumb_key]), ...jobs.map((j) => j.input_key), ...outputs.map((o) => o.blob_key)].filter((k): k is string => !!k);
  for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((key) => blobs.delete(key)));
}

async function deleteOwnedRows(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("job_outputs").where("job_id", "in", ownJobs(userId)).execute();
  await db.deleteFrom("jobs").where("owner_id", "=", userId).execute();
  await db.deleteFrom("images").where("owner_id", "=", userId).execute();
}

/** Deleted rows are overwritten with zeros on SQLite instead of left in free pages. */
export async function zeroDeletedContent(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect === "sqlite") await sql`pragma secure_delete = on`.execute(db);
}
