import { z } from "zod";

/**
 * The job API's response shapes: the HTTP layer validates its answers against them and the web app
 * reads them, so the two cannot drift.
 */
export const jobStatusSchema = z.enum(["queued", "running", "succeeded", "failed", "expired"]);
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const jobOutputSchema = z.object({
  name: z.string().describe("suggested file name"),
  url: z.string().nullable().describe("download address; null once the files are deleted"),
  mime: z.string(),
  bytes: z.number().int(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  downloads: z.number().int().describe("times this output was downloaded"),
  lastDownloadAt: z.string().nullable().describe("ISO 8601"),
});

export const jobSchema = z.object({
  id: z.string().describe("job id: 11 URL-safe characters, 66 random bits"),
  batchId: z.string(),
  tool: z.string(),
  params: z.unknown().describe("the parameters as validated, defaults filled in"),
  status: jobStatusSchema,
  progress: z.number().min(0).max(1),
  attempts: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  expiresAt: z.string().nullable().describe("when the files are deleted (set when the job ends)"),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  report: z.unknown().optional().describe("what the tool reports beside its files"),
  inputs: z.array(z.object({ name: z.string(), bytes: z.number().int() })),
  outputs: z.array(jobOutputSchema),
  url: z.string().describe("this job in the API"),
  eventsUrl: z.string().describe("Server-Sent Events: the job at every change, until it ends"),
});
export type JobJson = z.infer<typeof jobSchema>;

export const submittedBatchSchema = z.object({
  batchId: z.string(),
  deleteToken: z.string().describe("returned once; send as X-Delete-Token to delete a job of this batch"),
  zipUrl: z.string(),
  eventsUrl: z.string().describe("Server-Sent Events: each job of the batch at every change, until all have ended"),
  retentionSeconds: z.number().int().describe("files are deleted this long after their job ends"),
  jobs: z.array(z.object({ id: z.string(), status: jobStatusSchema, url: z.string() })),
});

export const batchSchema = z.object({
  id: z.string(),
  zipUrl: z.string(),
  eventsUrl: z.string().describe("Server-Sent Events: each job of the batch at every change, until all have ended"),
  jobs: z.array(jobSchema),
});

export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "expired"];
