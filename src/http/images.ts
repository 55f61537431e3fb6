import type { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../common/errors.js";
import type { Config } from "../config.js";
import type { ImageRow } from "../db/schema.js";
import { ACCEPTED_TYPES } from "../images/formats.js";
import type { ImageService } from "../images/service.js";
import { anonymiseIp } from "../privacy/anonymise-ip.js";
import { errorSchema, idParams, imageSchema, uploadedSchema } from "./schemas.js";

export interface ImagesRouteDeps {
  images: ImageService;
  config: Config;
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
  };
}

export const imagesApi: FastifyPluginAsyncZod<ImagesRouteDeps> = async (app, { images, config }) => {
  app.get(
    "/api/v1/config",
    {
      schema: {
        summary: "Limits the web UI and API clients check before uploading",
        tags: ["images"],
        response: { 200: z.object({ maxUploadBytes: z.number(), maxPixels: z.number(), acceptedTypes: z.array(z.string()) }) },
      },
    },
    async () => ({ maxUploadBytes: config.maxUploadBytes, maxPixels: config.maxPixels, acceptedTypes: ACCEPTED_TYPES }),
  );

  app.post(
    "/api/v1/images",
    {
      ...(config.uploadRateLimit ? { config: { rateLimit: uploadRateLimit(config.uploadRateLimit) } } : {}),
      schema: {
        summary: "Upload one image",
        description:
          "multipart/form-data with the image in the field `file`. The type is decided from the bytes. All EXIF, XMP, IPTC, comments and embedded thumbnails are removed before anything is stored; the picture is rotated upright. HEIC/HEIF is converted to JPEG (or lossless WebP when it has transparency).",
        tags: ["images"],
        consumes: ["multipart/form-data"],
        response: { 201: uploadedSchema, 400: errorSchema, 413: errorSchema, 415: errorSchema, 422: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      // Multipart framing adds well under 64 KiB; a body declared larger cannot hold a valid file.
      if (Number(request.headers["content-length"]) > config.maxUploadBytes + 65_536) {
        throw new AppError("payload_too_large", 413, `The file is larger than the upload limit of ${config.maxUploadBytes} bytes.`);
      }
      const uploaded = await receiveUpload(request, images);
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
      await images.delete(request.params.id, request.headers["x-delete-token"]);
      return reply.status(204).send(null);
    },
  );
};

/** Counted per anonymised network, so the limiter never holds a full address either. */
function uploadRateLimit({ max, windowMs }: { max: number; windowMs: number }) {
  return {
    max,
    timeWindow: windowMs,
    keyGenerator: (request: FastifyRequest) => anonymiseIp(request.ip),
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) =>
      new AppError("rate_limited", 429, `Too many uploads from your network; try again in ${context.after}.`),
  };
}

/** Streams the `file` part into the service; tells client mistakes from server faults. */
async function receiveUpload(request: FastifyRequest, images: ImageService) {
  if (!request.isMultipart()) throw new AppError("expected_multipart", 400, 'Send the image as multipart/form-data in the field "file".');
  let streamError: Error | undefined;
  let part;
  try {
    part = await request.file();
  } catch (err) {
    throw asMultipartError(err);
  }
  if (!part) throw new AppError("missing_file", 400, 'The request has no file in the field "file".');
  if (part.fieldname !== "file") {
    part.file.resume();
    throw new AppError("missing_file", 400, `Send the image in the field "file", not "${part.fieldname.slice(0, 50)}".`);
  }
  const source: Readable = part.file;
  source.on("error", (err) => (streamError = err));
  try {
    return await images.upload(source, part.filename);
  } catch (err) {
    if (streamError) throw asMultipartError(streamError);
    throw err;
  }
}

function asMultipartError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code?.startsWith("FST_")) return err; // mapped by the error handler (413 for size, ...)
  return new AppError("malformed_multipart", 400, "The multipart body is malformed or ended early.");
}
