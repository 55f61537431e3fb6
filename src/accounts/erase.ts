import { type Kysely, sql } from "kysely";
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
  const images = await db.selectFrom("images").select(["id", "blob_key", "thumb_key"]).where("owner_id", "=", userId).execute();
  const jobs = await db.selectFrom("jobs").select(["id", "input_key"]).where("owner_id", "=", userId).execute();
  const jobIds = jobs.map((j) => j.id);
  const outputs = jobIds.length ? await db.selectFrom("job_outputs").select("blob_key").where("job_id", "in", jobIds).execute() : [];
  const keys = [...images.flatMap((i) => [i.blob_key, i.thumb_key]), ...jobs.map((j) => j.input_key), ...outputs.map((o) => o.blob_key)].filter((k): k is string => !!k);
  for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((key) => blobs.delete(key)));
  await db.transaction().execute(async (tx) => {
    if (jobIds.length) await tx.deleteFrom("job_outputs").where("job_id", "in", jobIds).execute();
    await tx.deleteFrom("jobs").where("owner_id", "=", userId).execute();
    await tx.deleteFrom("images").where("owner_id", "=", userId).execute();
    await tx.deleteFrom("api_tokens").where("user_id", "=", userId).execute();
    await tx.deleteFrom("totp_steps").where("user_id", "=", userId).execute();
    await tx.updateTable("invites").set({ created_by: null }).where("created_by", "=", userId).execute();
    await tx.deleteFrom("session").where("userId", "=", userId).execute();
    await tx.deleteFrom("account").where("userId", "=", userId).execute();
    await tx.deleteFrom("twoFactor").where("userId", "=", userId).execute();
    await tx.deleteFrom("passkey").where("userId", "=", userId).execute();
    // Pending sign-in steps hold the user's id; e-mail changes and verifications may hold the address.
    await tx
      .deleteFrom("verification")
      .where((eb) => eb.or([eb("value", "like", `%${userId}%`), eb("value", "like", `%${user.email}%`), eb("identifier", "like", `%${user.email}%`)]))
      .execute();
    await tx.deleteFrom("user").where("id", "=", userId).execute();
  });
  if (dialect === "sqlite") await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db);
}

/** Deleted rows are overwritten with zeros on SQLite instead of left in free pages. */
export async function zeroDeletedContent(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect === "sqlite") await sql`pragma secure_delete = on`.execute(db);
}
