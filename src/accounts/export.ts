import type { Readable, Writable } from "node:stream";
import { ZipDeflate } from "fflate";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { BlobNotFoundError, type BlobStore } from "../storage/blob-store.js";
import { ZipStream } from "../storage/zip-stream.js";
import { iso } from "../common/clock.js";
import { readAccount, readSessions } from "./records.js";
import type { ApiTokens } from "./tokens.js";

/** Everything Pixhaven holds about an account (P17), as JSON; the files follow it in the ZIP. */
export async function accountData(db: Kysely<Database>, tokens: ApiTokens, userId: string, now: number, publicUrl: string) {
  const images = await db.selectFrom("images").selectAll().where("owner_id", "=", userId).where("status", "=", "active").orderBy("created_at").execute();
  const jobs = await db.selectFrom("jobs").selectAll().where("owner_id", "=", userId).orderBy("created_at").execute();
  // By a subquery, not a list of ids: an account may hold more jobs than a statement takes variables.
  const outputs = await db
    .selectFrom("job_outputs")
    .selectAll()
    .where("job_id", "in", (eb) => eb.selectFrom("jobs").select("id").where("owner_id", "=", userId))
    .orderBy("idx")
    .execute();
  return {
    exportedAt: iso(now),
    account: await readAccount(db, userId),
    sessions: await readSessions(db, userId, now),
    apiTokens: (await tokens.list(userId)).map((t) => ({ id: t.id, name: t.name, createdAt: iso(t.createdAt), lastUsedAt: iso(t.lastUsedAt) })),
    images: images.map((row) => ({
      id: row.id,
      url: `${publicUrl}/i/${row.id}`,
      file: row.blob_key ? imageEntry(row.id, row.ext) : null,
      originalName: row.original_name,
      mime: row.mime,
      width: row.width,
      height: row.height,
      bytes: row.bytes,
      views: row.views,
      createdAt: iso(row.created_at),
      lastViewedAt: iso(row.last_viewed_at),
      nsfw: row.nsfw_label ? { label: row.nsfw_label, score: row.nsfw_score } : null,
    })),
    jobs: jobs.map((job) => ({
      id: job.id,
      batchId: job.batch_id,
      tool: job.tool,
      params: JSON.parse(job.params) as unknown,
      status: job.status,
      error: job.error_code ? { code: job.error_code, message: job.error_message } : null,
      inputName: job.input_name,
      inputBytes: job.input_bytes,
      createdAt: iso(job.created_at),
      startedAt: iso(job.started_at),
      finishedAt: iso(job.finished_at),
      expiresAt: iso(job.expires_at),
      outputs: outputs
        .filter((o) => o.job_id === job.id)
        .map((o) => ({ name: o.name, file: o.blob_key ? outputEntry(job.id, o.idx, o.name) : null, mime: o.mime, bytes: o.bytes, downloads: o.downloads, lastDownloadAt: iso(o.last_download_at) })),
    })),
    files: { images: images.filter((r) => r.blob_key).map((r) => ({ entry: imageEntry(r.id, r.ext), key: r.blob_key! })), outputs: outputs.filter((o) => o.blob_key).map((o) => ({ entry: outputEntry(o.job_id, o.idx, o.name), key: o.blob_key! })) },
  };
}

const imageEntry = (id: string, ext: string) => `images/${id}.${ext}`;
const outputEntry = (jobId: string, idx: number, name: string) => `jobs/${jobId}/${idx}-${name.replace(/[^A-Za-z0-9._-]/g, "_")}`;

/**
 * Streams the export into `out`: account.json first, then every file still stored, each read from
 * storage chunk by chunk (images are compressed already, so they are stored as they are).
 */
export async function streamAccountZip(data: Awaited<ReturnType<typeof accountData>>, blobs: BlobStore, out: Writable): Promise<void> {
  const zip = new ZipStream(out);
  try {
    const { files, ...json } = data;
    const manifest = new ZipDeflate("account.json", { level: 6 });
    zip.zip.add(manifest);
    manifest.push(new TextEncoder().encode(JSON.stringify(json, null, 2)), true);
    for (const file of [...files.images, ...files.outputs]) {
      let stream: Readable;
      try {
        stream = await blobs.get(file.key);
      } catch (err) {
        if (err instanceof BlobNotFoundError) continue; // deleted meanwhile (retention)
        throw err;
      }
      await zip.addStream(file.entry, stream);
    }
    zip.end();
  } catch (err) {
    out.destroy(err as Error);
  }
}
