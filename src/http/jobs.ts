import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { PassThrough, Transform } from "node:stream";
import type { MultipartFile } from "@fastify/multipart";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { batchSchema, jobSchema, submittedBatchSchema } from "../common/api/jobs.js";
import { AppError, notFound } from "../common/errors.js";
import type { Config } from "../config.js";
import { sanitiseFilename } from "../images/filename.js";
import { anonymiseIp } from "../privacy/anonymise-ip.js";
import type { BatchIntake, JobService, SubmittedInput } from "../jobs/service.js";
import { jobJson } from "./job-json.js";
import { parseRange } from "./range.js";
import { streamBatchZip } from "./job-zip.js";
import { type JobSource, MAX_STREAMS_PER_NETWORK, StreamSlots, streamJobEvents } from "./job-events.js";
import { isStorageFault } from "./errors.js";
import { networkRateLimit } from "./images.js";
import { errorSchema, idParams } from "./schemas.js";
import { type ProgressRule, watchProgress } from "./upload-guard.js";
import { writeNewFile } from "../storage/temp-dir.js";
import { HEAD_BYTES } from "../tools/input.js";
import type { ProofOfWork } from "../moderation/proof-of-work.js";

export interface JobsRouteDeps {
  jobs: JobService;
  config: Config;
  tmpDir: string;
  /** fetches a `url` field into a local file (URL import); absent when URL_IMPORT=off */
  importUrl?: (url: string, destination: string) => Promise<{ name: string; bytes: number }>;
  /** the account a request acts for (session or API token); without it every job is anonymous */
  identify?: (request: FastifyRequest) => Promise<{ userId: string } | null>;
  /** P16: the bot check an anonymous batch passes; absent when PROOF_OF_WORK is off */
  proofOfWork?: ProofOfWork;
}

const PARAMS_FIELD_BYTES = 64 * 1024;

export const jobsApi: FastifyPluginAsyncZod<JobsRouteDeps> = async (app, { jobs, config, tmpDir, importUrl, identify, proofOfWork }) => {
  const progress: ProgressRule = { windowMs: config.uploadIdleTimeoutMs, minBytesPerSecond: config.uploadMinBytesPerSecond };
  const base = config.publicUrl;
  /** What a live view reads: the same for one job as for a batch. */
  const source: JobSource = { some: (ids) => jobs.views(ids), watch: (id, listener) => jobs.watch(id, listener) };
  const slots = new StreamSlots();
  /** A place for one more event stream of the client's network, or 429. */
  const streamSlot = (request: FastifyRequest, reply: FastifyReply) => {
    const release = slots.take(anonymiseIp(request.ip));
    if (release) return release;
    void reply.header("retry-after", "10");
    throw new AppError("too_many_streams", 429, `At most ${MAX_STREAMS_PER_NETWORK} event streams are open at once from one network; close one, or poll the job instead.`);
  };
  /** An account's jobs and batches are not there for anyone else: the same 404 as an unknown id. */
  const visible = async <T extends { job: { owner_id: string | null } }>(request: FastifyRequest, views: T[]): Promise<void> => {
    const owners = new Set(views.map((v) => v.job.owner_id).filter((o): o is string => o !== null));
    if (owners.size === 0 || !identify) return;
    const userId = (await identify(request).catch(() => null))?.userId;
    if (!userId || [...owners].some((o) => o !== userId)) throw notFound();
  };

  app.post(
    "/api/v1/jobs",
    {
      // Counted apart from hosted images: a batch is one request, whatever its number of files.
      ...(config.uploadRateLimit ? { config: { rateLimit: networkRateLimit(config.uploadRateLimit, "batches") } } : {}),
      schema: {
        summary: "Run a server tool on one or more files",
        description: `multipart/form-data: \`tool\` (a name from GET /api/v1/tools), \`params\` (JSON; defaults fill the rest), then one or more \`file\` parts and/or \`url\` fields (the server fetches those). Each file becomes a job of one batch; sent after \`tool\` and \`params\`, a file is queued as soon as it has arrived, so the first jobs run while the rest upload (if the request then fails, they are withdrawn and leave nothing). Files are stored only for the job and deleted automatically: inputs when their job ends, outputs ${Math.round(config.toolRetentionMs / 60000)} minutes after it (TOOL_RETENTION).`,
        tags: ["jobs"],
        consumes: ["multipart/form-data"],
        response: { 202: submittedBatchSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 408: errorSchema, 413: errorSchema, 415: errorSchema, 429: errorSchema, 502: errorSchema, 504: errorSchema, 507: errorSchema },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new AppError("expected_multipart", 400, "Send the tool, its params and the files as multipart/form-data.");
      const ownerId = identify ? ((await identify(request))?.userId ?? null) : null;
      // As for hosting: an account is its own check, an anonymous batch proves some work was spent on it.
      if (proofOfWork && ownerId === null) await proofOfWork.check(request.headers["x-proof-of-work"] as string | undefined);
      // Files received and not yet moved into storage (removed if the request fails).
      const received: SubmittedInput[] = [];
      let intake: BatchIntake | undefined;
      const stopWatching = watchProgress(request.raw.socket, progress, (err) => {
        void reply.header("connection", "close");
        request.raw.destroy(err);
      });
      try {
        let tool: string | undefined;
        let params: unknown; // undefined until the field arrives (the tool's defaults then fill it)
        const urls: string[] = [];
        // Each file becomes a queued job as soon as it has arrived, once the tool and its params
        // are known (clients send those first), so the first runs while the rest upload. Files
        // sent before them wait for the end of the request.
        const queue = async (file: SubmittedInput) => {
          await ours(intake!.add(file));
          received.splice(received.indexOf(file), 1);
        };
        const parts = request.parts({
          limits: { files: config.maxBatchFiles, fileSize: config.maxUploadBytes + 1, fields: config.maxBatchFiles + 10, fieldSize: PARAMS_FIELD_BYTES, parts: 2 * config.maxBatchFiles + 10 },
        });
        for await (const part of parts) {
          if (part.type === "file") {
            if (part.fieldname !== "file") throw new AppError("unexpected_field", 400, `Send files in the field "file", not "${part.fieldname.slice(0, 50)}".`);
            const file = await receiveFile(part, tmpDir, config.maxUploadBytes);
            received.push(file);
            if (!intake && tool !== undefined && params !== undefined) intake = jobs.openBatch(tool, params, ownerId);
            if (intake) await queue(file);
          } else if (part.valueTruncated) {
            throw new AppError("field_too_large", 413, `The field "${part.fieldname.slice(0, 50)}" is longer than ${PARAMS_FIELD_BYTES / 1024} KiB.`);
          } else if (part.fieldname === "file") {
            throw new AppError("missing_file", 400, 'The field "file" holds text; send each file as a file part, with a filename.');
          } else if (part.fieldname === "url") {
            urls.push(String(part.value));
          } else if (intake && (part.fieldname === "tool" || part.fieldname === "params")) {
            throw new AppError("unexpected_field", 400, `Send the field "${part.fieldname}" before the files.`);
          } else if (part.fieldname === "tool") {
            tool = String(part.value);
          } else if (part.fieldname === "params") {
            params = parseParamsField(String(part.value));
          } else {
            throw new AppError("unexpected_field", 400, `Unknown field "${part.fieldname.slice(0, 50)}": send tool, params, file and url.`);
          }
        }
        if (!tool) throw new AppError("missing_tool", 400, 'Name the tool in the field "tool".');
        intake ??= jobs.openBatch(tool, params ?? {}, ownerId); // 404 unknown_tool, 400 invalid_params: before any fetch
        if (urls.length && !importUrl) throw new AppError("url_import_disabled", 403, "Importing from a URL is turned off on this server.");
        if (intake.size + received.length + urls.length > config.maxBatchFiles) throw tooManyFiles(config.maxBatchFiles);
        for (const file of [...received]) await queue(file);
        for (const url of urls) {
          const destination = path.join(tmpDir, `job-in-${randomBytes(8).toString("hex")}`);
          const file: SubmittedInput = { path: destination, name: "", bytes: 0 };
          received.push(file);
          const fetched = await ours(importUrl!(url, destination));
          Object.assign(file, { name: sanitiseFilename(fetched.name) || "download", bytes: fetched.bytes });
          await queue(file);
        }
        if (intake.size === 0) throw new AppError("missing_file", 400, 'Send at least one file in the field "file" or one "url".');
        const batch = await ours(intake.finish());
        return reply.status(202).send({
          batchId: batch.batchId,
          deleteToken: batch.deleteToken,
          zipUrl: `${base}/api/v1/batches/${batch.batchId}/zip`,
          eventsUrl: `${base}/api/v1/batches/${batch.batchId}/events`,
          retentionSeconds: Math.round(config.toolRetentionMs / 1000),
          jobs: batch.jobs.map((j) => ({ id: j.id, status: j.status, url: `${base}/api/v1/jobs/${j.id}` })),
        });
      } catch (err) {
        await intake?.withdraw().catch((cause: unknown) => request.log.error({ err: cause }, "withdrawing the jobs of a failed request failed"));
        // What is left is the body's own fault: the multipart parser's errors, or the file stream ending early.
        const code = (err as { code?: string }).code;
        if (code === "FST_FILES_LIMIT") throw tooManyFiles(config.maxBatchFiles);
        if (!(err instanceof AppError) && !code?.startsWith("FST_") && !serverSide.has(err as object) && !isStorageFault(err)) {
          throw new AppError("malformed_multipart", 400, "The multipart body is malformed or ended early.");
        }
        throw err;
      } finally {
        stopWatching();
        await Promise.all(received.map((file) => fs.rm(file.path, { force: true })));
      }
    },
  );

  app.get(
    "/api/v1/jobs/:id",
    { schema: { summary: "A job: status, progress, times, inputs, outputs and downloads", tags: ["jobs"], params: idParams, response: { 200: jobSchema, 404: errorSchema } } },
    async (request) => {
      const view = await jobs.get(request.params.id);
      await visible(request, [view]);
      return jobJson(view, base);
    },
  );

  app.get(
    "/api/v1/jobs/:id/events",
    {
      schema: {
        summary: "Live progress (Server-Sent Events)",
        description: "An `event: job` with the job's JSON at once and at every change of status or progress; the stream ends when the job ends. At most 20 streams are open at once from one network (429 `too_many_streams` past it).",
        tags: ["jobs"],
        params: idParams,
        response: { 404: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const first = await jobs.get(request.params.id);
      await visible(request, [first]);
      streamJobEvents(reply, [first], source, base, streamSlot(request, reply));
    },
  );

  app.get(
    "/api/v1/jobs/:id/outputs/:idx",
    {
      schema: {
        summary: "Download one output (counted; supports Range, so a large download can resume)",
        tags: ["jobs"],
        description: "The file as an attachment; 404 for an unknown job or output, 410 `expired` once the retention period deleted it. A `Range` of bytes answers 206 (416 past the end); a download is counted once, not again when it resumes.",
        params: z.object({ id: z.string(), idx: z.string() }),
      },
    },
    async (request, reply) => {
      const view = await jobs.get(request.params.id);
      await visible(request, [view]);
      // An output's index as the job's JSON gives it; anything else names no output.
      if (!/^(0|[1-9][0-9]{0,4})$/.test(request.params.idx)) throw notFound();
      const output = jobs.storedOutput(view, Number(request.params.idx));
      // A stored output never changes (its key names the attempt that made it): a strong validator.
      const etag = `"${output.blob_key.slice(output.blob_key.lastIndexOf("/") + 1)}"`;
      const ifRange = request.headers["if-range"];
      const range = ifRange && ifRange !== etag ? undefined : parseRange(request.headers.range, output.bytes);
      if (range === "unsatisfiable") {
        reply.header("cache-control", "no-store").header("content-range", `bytes */${output.bytes}`);
        throw new AppError("range_not_satisfiable", 416, `The file has ${output.bytes} bytes.`);
      }
      // A download that resumes part way is the same download.
      const count = request.method !== "HEAD" && (!range || range.start === 0);
      const stream = await jobs.openOutput(output, { count, ...(range ? { range } : {}) });
      reply
        .type(output.mime)
        .header("accept-ranges", "bytes")
        .header("etag", etag)
        .header("cache-control", "private, no-store")
        .header("content-disposition", attachment(output.name));
      if (!range) return reply.header("content-length", output.bytes).send(stream);
      return reply
        .status(206)
        .header("content-range", `bytes ${range.start}-${range.end}/${output.bytes}`)
        .header("content-length", range.end - range.start + 1)
        .send(stream);
    },
  );

  app.delete(
    "/api/v1/jobs/:id",
    {
      schema: {
        summary: "Cancel a job and delete its files at once",
        description: "With the batch's deletion token. The job stays in history without any file.",
        tags: ["jobs"],
        params: idParams,
        headers: z.object({ "x-delete-token": z.string().optional() }),
        response: { 204: z.null().describe("deleted"), 403: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      await visible(request, [await jobs.get(request.params.id)]);
      await jobs.delete(request.params.id, request.headers["x-delete-token"]);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/v1/batches/:id",
    { schema: { summary: "Every job of a batch", tags: ["jobs"], params: idParams, response: { 200: batchSchema, 404: errorSchema } } },
    async (request) => {
      const views = await jobs.batch(request.params.id);
      await visible(request, views);
      return { id: request.params.id, zipUrl: `${base}/api/v1/batches/${request.params.id}/zip`, eventsUrl: `${base}/api/v1/batches/${request.params.id}/events`, jobs: views.map((v) => jobJson(v, base)) };
    },
  );

  app.get(
    "/api/v1/batches/:id/events",
    {
      schema: {
        summary: "Live progress of every job of a batch (Server-Sent Events)",
        description:
          "An `event: job` with each job's JSON at once, then one at every change of a job's status or progress (while several jobs run, their changes are sent together at most every 25 ms); the stream ends when every job of the batch has ended. One connection follows a whole batch (a browser opens at most six to a server). At most 20 streams are open at once from one network (429 `too_many_streams` past it).",
        tags: ["jobs"],
        params: idParams,
        response: { 404: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const first = await jobs.batch(request.params.id);
      await visible(request, first);
      streamJobEvents(reply, first, source, base, streamSlot(request, reply));
    },
  );

  app.get(
    "/api/v1/batches/:id/zip",
    {
      schema: {
        summary: "Every output of a batch still stored, as one ZIP (streamed)",
        description: "404 for an unknown batch, 410 `expired` when none of its files is left.",
        tags: ["jobs"],
        params: idParams,
      },
    },
    async (request, reply) => {
      const views = await jobs.batch(request.params.id);
      await visible(request, views);
      const outputs = views.flatMap((v) => v.outputs.filter((o) => o.blob_key));
      if (outputs.length === 0) {
        if (views.some((v) => v.job.status === "queued" || v.job.status === "running")) {
          throw new AppError("not_ready", 409, "No job of this batch has finished yet; ask again when one has (its events say when).");
        }
        throw new AppError("expired", 410, "This batch has no files left to download.");
      }
      const body = new PassThrough();
      void streamBatchZip(outputs, (o) => jobs.openForArchive(o), body);
      return reply
        .type("application/zip")
        .header("cache-control", "private, no-store")
        .header("content-disposition", `attachment; filename="pixhaven-${request.params.id}.zip"`)
        .send(body);
    },
  );
};

const tooManyFiles = (max: number) => new AppError("too_many_files", 413, `A batch takes at most ${max} files.`);

/**
 * A download's Content-Disposition: an ASCII name for old clients and the real one, in UTF-8
 * (RFC 6266, RFC 8187), for the rest.
 */
export function attachment(name: string): string {
  const ascii = name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z0-9._-]/g, "_");
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

/** Errors of the server's own steps (storing, queueing, fetching), which a malformed body cannot cause: they keep their status (500 when unexpected). */
const serverSide = new WeakSet<object>();

function ours<T>(step: Promise<T>): Promise<T> {
  return step.catch((err: unknown) => {
    if (err !== null && typeof err === "object") serverSide.add(err);
    throw err;
  });
}

function parseParamsField(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_params", 400, 'The field "params" is not valid JSON.');
  }
}

/**
 * Streams one file part to a temp file, failing the moment it passes the upload limit, and keeps its
 * first bytes as they pass: the job's identification reads them from memory, not from the file.
 */
async function receiveFile(part: MultipartFile, tmpDir: string, maxBytes: number): Promise<SubmittedInput> {
  const file: SubmittedInput = { path: path.join(tmpDir, `job-in-${randomBytes(8).toString("hex")}`), name: sanitiseFilename(part.filename) || "file", bytes: 0 };
  const head: Buffer[] = [];
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (file.bytes < HEAD_BYTES) head.push(chunk.subarray(0, HEAD_BYTES - file.bytes));
      file.bytes += chunk.length;
      if (file.bytes > maxBytes) done(new AppError("payload_too_large", 413, `A file is larger than the upload limit of ${maxBytes} bytes.`));
      else done(null, chunk);
    },
  });
  try {
    await writeNewFile(file.path, part.file, limit);
  } catch (err) {
    await fs.rm(file.path, { force: true });
    throw err;
  }
  if (file.bytes === 0) {
    await fs.rm(file.path, { force: true });
    throw new AppError("empty_file", 400, `The file "${file.name}" is empty.`);
  }
  file.head = Buffer.concat(head);
  return file;
}
