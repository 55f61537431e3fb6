import { randomBytes } from "node:crypto";

/** A client's file name reduced to what is safe inside a temp file name. */
export const safeName = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, "_").slice(-80) || "file";

/**
 * The only part of a client's file name a storage key keeps: its extension, lowercased, when it is
 * a plain one (`IMG_0001.JPG` → `.jpg`). The names themselves live in the job's rows.
 */
const extensionOf = (name: string) => {
  const found = /\.([A-Za-z0-9]{1,10})$/.exec(name);
  return found ? `.${found[1]!.toLowerCase()}` : "";
};

/**
 * Where a job's files live in the blob store: every file of a job starts with `ofJob(jobId)`. Keys
 * are spread over at most 64² folders by the id's first two symbols, as hosted images are, so that
 * a disk store makes no folder per job (which would stay behind, empty, once the files are gone).
 */
export const jobKeys = {
  ofJob: (jobId: string) => `jobs/${jobId.slice(0, 2)}/${jobId}-`,
  input: (jobId: string, name: string) => `${jobKeys.ofJob(jobId)}in-${randomBytes(4).toString("hex")}${extensionOf(name)}`,
  /** the attempt is in the key, so a retry never writes over (or beside) a losing attempt's file */
  output: (jobId: string, attempt: number, idx: number, name: string) => `${jobKeys.ofJob(jobId)}out-a${attempt}-${idx}${extensionOf(name)}`,
  isInput: (key: string) => /^jobs\/[^/]+\/[^/]+-in-[0-9a-f]+(\.[a-z0-9]+)?$/.test(key),
};
