import { randomBytes } from "node:crypto";

/** A client's file name reduced to what is safe inside a storage key or a temp file name. */
export const safeName = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, "_").slice(-80) || "file";

/** Where a job's files live in the blob store: everything of a job under one prefix. */
export const jobKeys = {
  input: (jobId: string, name: string) => `jobs/${jobId}/in/${randomBytes(4).toString("hex")}-${safeName(name)}`,
  /** the attempt is in the key, so a retry never writes over (or beside) a losing attempt's file */
  output: (jobId: string, attempt: number, idx: number, name: string) => `jobs/${jobId}/out/a${attempt}-${idx}-${safeName(name)}`,
};
