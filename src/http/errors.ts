import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { AppError, notFound } from "../common/errors.js";

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Fastify and multipart errors a client can cause, in Pixhaven's words. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  FST_REQ_FILE_TOO_LARGE: [413, "payload_too_large", "The file is larger than the upload limit."],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, "payload_too_large", "The request body is too large."],
  FST_FILES_LIMIT: [400, "too_many_files", "Send one file per request in the field \"file\"."],
  FST_PARTS_LIMIT: [400, "too_many_parts", "The multipart request has too many parts."],
  FST_FIELDS_LIMIT: [400, "too_many_fields", "The multipart request has too many fields."],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [400, "expected_multipart", "Send the image as multipart/form-data in the field \"file\"."],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, "malformed_json", "The JSON body could not be parsed."],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, "malformed_json", "The JSON body is empty."],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, "unsupported_media_type", "This Content-Type is not accepted here."],
};

export function toErrorReply(err: unknown): { status: number; body: ErrorBody } | null {
  if (err instanceof AppError) return { status: err.status, body: { error: { code: err.code, message: err.message } } };
  const fe = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const detail = fe.validation.map((v) => `${v.instancePath || fe.validationContext || "request"}: ${v.message}`).join("; ");
    return { status: 400, body: { error: { code: "invalid_request", message: detail } } };
  }
  const known = fe.code ? CLIENT_ERRORS[fe.code] : undefined;
  if (known) return { status: known[0], body: { error: { code: known[1], message: known[2] } } };
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: { code: "bad_request", message: fe.message } } };
  }
  return null;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const known = toErrorReply(err);
    if (known) return reply.status(known.status).send(known.body);
    request.log.error({ err }, "unexpected error");
    return reply.status(500).send({ error: { code: "internal", message: `Something went wrong on our side (request ${request.id}).` } });
  });
  // The same body as an unknown image id, so no route or id shape can be told apart by its 404.
  app.setNotFoundHandler((_request, reply) => reply.status(404).send(toErrorReply(notFound())!.body));
}
