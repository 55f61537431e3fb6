import { readFileSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Multipart } from "@fastify/multipart";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../common/errors.js";
import { type Config, packageRoot } from "../config.js";
import type { ImageRow } from "../db/schema.js";
import { ACCEPTED_TYPES } from "../common/formats.js";
import type { NsfwResult, NsfwScores } from "../common/nsfw.js";
import type { ImageService, UploadedImage } from "../images/service.js";
import { fetchUrl, invalidUrl } from "../net/fetch-url.js";
import { anonymiseIp } from "../privacy/anonymise-ip.js";
import type { ProofOfWork } from "../moderation/proof-of-work.js";
import { errorSchema, idParams, imageSchema, serverConfigSchema, uploadedSchema } from "./schemas.js";
import { busy, PendingUploads, type ProgressRule, watchProgress } from "./upload-guard.js";

export interface ImagesRouteDeps {
  images: ImageService;
  config: Config;
  /** the account a request acts for (session or API token); without it every upload is anonymous */
  identify?: (request: FastifyRequest) => Promise<{ userId: string } | null>;
  /** P16: the bot check an anonymous upload passes; absent when PROOF_OF_WORK is off */
  proofOfWork?: ProofOfWork;
}

export function imageJson(row: ImageRow, publicUrl: string) {
  const url = `${publicUrl}/i/${row.id}`;
  return {
    id: row.id,
    url,
    rawUrl: `${url}/raw`,
    thumbUrl: `${url}/thumb`,
    width: row.width,
    height: row.height,
    bytes: row.bytes,
    mime: row.mime,
    frames: row.frames,
    thumbhash: row.thumbhash,
    views: row.views,
    createdAt: new Date(row.created_at).toISOString(),
    nsfw: nsfwJson(row),
  };
}

/** P9: the stored classification, or null while it has not run. */
export function nsfwJson(row: ImageRow): NsfwResult | null {
  if (!row.nsfw_label || row.nsfw_score === null || !row.nsfw_scores) return null;
  return { label: row.nsfw_label as NsfwResult["label"], score: row.nsfw_score, scores: JSON.parse(row.nsfw_scores) as NsfwScores };
}

export const imagesApi: FastifyPluginAsyncZod<ImagesRouteDeps> = async (app, { images, config, identify, proofOfWork }) => {
  const pending = new PendingUploads(config.maxPendingUploads);
  const progress: ProgressRule = { windowMs: config.uploadIdleTimeoutMs, minBytesPerSecond: config.uploadMinBytesPerSecond };
  const importer = urlImporter(images, config);
  app.get(
    "/api/v1/config",
    {
      schema: {
        summary: "Limits the web UI and API clients check before uploading",
        tags: ["images"],
        response: {
          200: serverConfigSchema,
        },
      },
    },
    async () => ({
      maxUploadBytes: config.maxUploadBytes,
      maxPixels: config.maxPixels,
      acceptedTypes: ACCEPTED_TYPES,
      nsfwThreshold: config.nsfwThreshold,
      proofOfWorkBits: proofOfWork?.bits ?? null,
      retention: {
        toolFilesSeconds: seconds(config.toolRetentionMs),
        jobHistorySeconds: seconds(config.jobHistoryRetentionMs),
        tombstoneSeconds: seconds(config.tombstoneRetentionMs),
        unviewedImageSeconds: config.unviewedImageRetentionMs === null ? null : seconds(config.unviewedImageRetentionMs),
        reportSeconds: seconds(config.reportRetentionMs),
        contactSeconds: seconds(config.contactRetentionMs),
        accessLogSeconds: config.accessLog ? seconds(config.accessLog.retentionMs) : null,
      },
    }),
  );

  app.post(
    "/api/v1/images",
    {
      ...(config.uploadRateLimit ? { config: { rateLimit: networkRateLimit(config.uploadRateLimit, "uploads") } } : {}),
      schema: {
        summary: "Upload one image",
        description:
          "multipart/form-data with one image in the field `file` (a second file answers 400 too_many_files), or with a `url` field instead (also accepted as a JSON body `{\"url\": \"https://...\"}`): the server then fetches the image itself, from public addresses only, following at most 3 redirects, within URL_IMPORT_TIMEOUT. The type is decided from the bytes. All EXIF, XMP, IPTC, comments and embedded thumbnails are removed before anything is stored; the picture is rotated upright. HEIC/HEIF is converted to JPEG (or lossless WebP when it has transparency).",
        tags: ["images"],
        consumes: ["multipart/form-data", "application/json"],
        response: { 201: uploadedSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 408: errorSchema, 413: errorSchema, 415: errorSchema, 422: errorSchema, 429: errorSchema, 502: errorSchema, 503: errorSchema, 504: errorSchema, 507: errorSchema },
      },
    },
    async (request, reply) => {
      // Multipart framing adds well under 64 KiB; a body declared larger cannot hold a valid file.
      if (Number(request.headers["content-length"]) > config.maxUploadBytes + 65_536) {
        throw new AppError("payload_too_large", 413, `The file is larger than the upload limit of ${config.maxUploadBytes} bytes.`);
      }
      // Before the body is read: a wrong API token answers 401 without receiving the file.
      const ownerId = identify ? ((await identify(request))?.userId ?? null) : null;
      // An account is its own check; an anonymous upload proves some work was spent on it.
      if (proofOfWork && ownerId === null) await proofOfWork.check(request.headers["x-proof-of-work"] as string | undefined);
      const release = pending.tryAcquire();
      if (!release) {
        // The body is not read; closing keeps the connection from carrying it all the same.
        void reply.header("retry-after", "10").header("connection", "close");
        throw busy();
      }
      let uploaded;
      try {
        uploaded = await receiveUpload(request, reply, images, progress, release, importer, ownerId);
      } finally {
        release();
      }
      const image = imageJson(uploaded.image, config.publicUrl);
      return reply.status(201).send({ ...image, deleteToken: uploaded.deleteToken, deleteUrl: `${image.url}#delete=${uploaded.deleteToken}` });
    },
  );

  app.get(
    "/api/v1/images/:id",
    {
      schema: {
        summary: "Image metadata and view count",
        tags: ["images"],
        params: idParams,
        response: { 200: imageSchema, 404: errorSchema, 410: errorSchema },
      },
    },
    async (request) => imageJson(await images.get(request.params.id), config.publicUrl),
  );

  app.delete(
    "/api/v1/images/:id",
    {
      schema: {
        summary: "Delete an image with its deletion token",
        description: "The stored image and thumbnail are removed at once; the link then answers 410.",
        tags: ["images"],
        params: idParams,
        headers: z.object({ "x-delete-token": z.string().optional() }),
        response: { 204: z.null().describe("deleted"), 403: errorSchema, 404: errorSchema, 410: errorSchema },
      },
    },
    async (request, reply) => {
      // The deletion token is the authority, for an account's image as for an anonymous one: it was
      // given only to the uploader (a ShareX deleteUrl runs without the account's sign-in), and the
      // image itself is public, so a different answer for owned images would only tell who owns it.
      await images.delete(request.params.id, request.headers["x-delete-token"]);
      return reply.status(204).send(null);
    },
  );
};

const seconds = (ms: number) => Math.round(ms / 1000);

/** Counted per anonymised network, so the limiter never holds a full address either. */
export function networkRateLimit({ max, windowMs }: { max: number; windowMs: number }, what: string) {
  return {
    max,
    timeWindow: windowMs,
    keyGenerator: (request: FastifyRequest) => anonymiseIp(request.ip),
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) =>
      new AppError("rate_limited", 429, `Too many ${what} from your network; try again in ${context.after}.`),
  };
}

/** Fetches a user-given URL and uploads what it answers; `received` is called once it has all arrived. */
type UrlImporter = (url: string, received: () => void, ownerId: string | null) => Promise<UploadedImage>;

function urlImporter(images: ImageService, config: Config): UrlImporter {
  const { version } = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string };
  const userAgent = `Pixhaven/${version} (+url import)`;
  return async (url, received, ownerId) => {
    if (!config.urlImport.enabled) throw new AppError("url_import_disabled", 403, "This server does not import images from URLs; upload the file instead.");
    const fetched = await fetchUrl(url, { maxBytes: config.maxUploadBytes, timeoutMs: config.urlImport.timeoutMs, allowList: config.urlImport.allowList, userAgent });
    fetched.stream.once("end", received);
    return images.upload(fetched.stream, fetched.filename, ownerId);
  };
}

/**
 * Streams the `file` part into the service, or imports from the `url` field (multipart or JSON);
 * tells client mistakes from server faults. A body that arrives too slowly is cut: before the file
 * part begins the wait is abandoned, after it the part is destroyed so the service removes its temp
 * file; either way the answer is 408 and the connection closes. `received` is called once the file
 * has fully arrived.
 */
async function receiveUpload(request: FastifyRequest, reply: FastifyReply, images: ImageService, progress: ProgressRule, received: () => void, importer: UrlImporter, ownerId: string | null) {
  if (!request.isMultipart()) {
    const body: unknown = request.headers["content-type"]?.startsWith("application/json") ? request.body : undefined;
    if (body && typeof body === "object" && "url" in body) {
      if (typeof body.url !== "string") throw invalidUrl('"url" must be a string.');
      return importer(body.url, received, ownerId);
    }
    throw new AppError("expected_multipart", 400, 'Send the image as multipart/form-data in the field "file", or {"url": "https://..."} as JSON.');
  }
  let source: Readable | undefined;
  let cut!: (err: AppError) => void;
  const tooSlow = new Promise<never>((_, reject) => (cut = reject));
  tooSlow.catch(() => undefined); // only awaited while no file part is streaming
  const stopWatching = watchProgress(request.raw.socket, progress, (err) => {
    void reply.header("connection", "close");
    source?.destroy(err); // while the file streams; before or after it, the wait is abandoned
    cut(err);
  });
  try {
    let streamError: Error | undefined;
    const parts = request.parts();
    let part;
    try {
      part = await Promise.race([fileOrUrlPart(parts), tooSlow]);
    } catch (err) {
      throw asMultipartError(err);
    }
    if (!part) throw new AppError("missing_file", 400, 'The request has no file in the field "file".');
    if (part.type === "field") {
      stopWatching(); // what remains is the fetch, which keeps its own time limit
      return await importer(part.value, received, ownerId);
    }
    if (part.fieldname !== "file") {
      part.file.resume();
      throw new AppError("missing_file", 400, `Send the image in the field "file", not "${part.fieldname.slice(0, 50)}".`);
    }
    source = part.file;
    source.on("error", (err) => (streamError = err));
    source.once("end", received);
    // A second file is refused before anything is stored, not silently dropped.
    const restOfBody = async () => {
      try {
        await Promise.race([noOtherFile(parts), tooSlow]);
      } catch (err) {
        throw asMultipartError(err);
      } finally {
        stopWatching();
      }
    };
    try {
      return await images.upload(source, part.filename, ownerId, restOfBody);
    } catch (err) {
      if (streamError) throw asMultipartError(streamError);
      throw err;
    }
  } finally {
    stopWatching();
  }
}

type Parts = AsyncIterableIterator<Multipart>;

/** The first file part, or the first `url` field before it; other fields are skipped, as before. */
async function fileOrUrlPart(parts: Parts) {
  for (let next = await parts.next(); !next.done; next = await parts.next()) {
    const part = next.value;
    if (part.type === "file") return part;
    if (part.fieldname !== "url") continue;
    if (part.valueTruncated || typeof part.value !== "string") throw invalidUrl("The URL is too long.");
    return { type: "field" as const, value: part.value };
  }
  return undefined;
}

/** Reads the parts after the file to the end of the body; another file is an error. */
async function noOtherFile(parts: Parts): Promise<void> {
  for (let next = await parts.next(); !next.done; next = await parts.next()) {
    if (next.value.type !== "file") continue;
    next.value.file.resume();
    throw new AppError("too_many_files", 400, 'Send one file per request in the field "file".');
  }
}

function asMultipartError(err: unknown): unknown {
  if (err instanceof AppError) return err; // a cut for slowness, or a limit
  const code = (err as { code?: string }).code;
  if (code?.startsWith("FST_")) return err; // mapped by the error handler (413 for size, ...)
  return new AppError("malformed_multipart", 400, "The multipart body is malformed or ended early.");
}
