import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
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

/**
 * Answers the static files plugin gives for paths it refuses (`..`, a malformed escape): to a
 * client they are addresses where nothing is, so they get the one 404 body.
 */
const NOT_FOUND_CODES = new Set(["FST_STATIC_FORBIDDEN_PATH", "FST_ERR_BAD_URL", "FST_ERR_MAX_PARAM_LENGTH"]);

export function toErrorReply(err: unknown): { status: number; body: ErrorBody } | null {
  if (err instanceof AppError) return { status: err.status, body: { error: { code: err.code, message: err.message } } };
  const fe = err as FastifyError;
  if (fe.code && NOT_FOUND_CODES.has(fe.code)) return toErrorReply(notFound());
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

/**
 * Faults of the server's storage that a client can do something about, by the error's code: the
 * disk or a quota is full, or the database or blob store cannot be reached for now (refused, timed
 * out, PostgreSQL shutting down or out of connections). The client learns when to try again; the
 * operator gets an error line.
 */
const STORAGE_FAULTS: Record<string, [number, string, string, string]> = {};
const FULL: [number, string, string, string] = [507, "storage_full", "The server has no room left to store this; nothing was kept. Try again later", "600"];
const UNREACHABLE: [number, string, string, string] = [503, "unavailable", "The server's storage cannot be reached for now; nothing was kept. Try again shortly", "30"];
for (const code of ["ENOSPC", "EDQUOT"]) STORAGE_FAULTS[code] = FULL;
for (const code of ["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "57P01", "57P03", "53300"]) STORAGE_FAULTS[code] = UNREACHABLE;

const storageFault = (err: unknown) => STORAGE_FAULTS[(err as { code?: string } | null)?.code ?? ""];
export const isStorageFault = (err: unknown): boolean => storageFault(err) !== undefined;

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const known = toErrorReply(err);
    if (known) return reply.status(known.status).send(known.body);
    const fault = storageFault(err);
    if (fault) {
      const [status, code, message, retryAfter] = fault;
      request.log.error({ err }, `storage fault: ${code}`);
      return reply.status(status).header("retry-after", retryAfter).send({ error: { code, message: `${message} (request ${request.id}).` } });
    }
    request.log.error({ err }, "unexpected error");
    return reply.status(500).send({ error: { code: "internal", message: `Something went wrong on our side (request ${request.id}).` } });
  });
  // The same body as an unknown image id, so no route or id shape can be told apart by its 404.
  app.setNotFoundHandler((_request, reply) => reply.status(404).send(toErrorReply(notFound())!.body));
}

/** Fastify's `frameworkErrors`: a malformed URL escape or an over-long id is an unknown address. */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const known = toErrorReply(err) ?? { status: 400, body: { error: { code: "bad_request", message: "The request is malformed." } } };
  void reply.status(known.status).send(known.body);
}

/** Errors Node's HTTP parser and timers raise before a request reaches a route. */
const CONNECTION_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, "request_timeout", "The request took too long to arrive."],
  HPE_HEADER_OVERFLOW: [431, "headers_too_large", "The request headers are too large."],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "payload_too_large", "The chunk extensions are too large."],
};

/**
 * Fastify's `clientErrorHandler`: Node found the request malformed (conflicting lengths, a bad
 * chunk, headers too large) or too slow, so no route runs; the answer is written on the socket
 * directly, in the same shape as every other error, and the connection closes because the rest of
 * the stream cannot be trusted.
 */
export function writeConnectionError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message] = (err.code && CONNECTION_ERRORS[err.code]) || [400, "bad_request", "The request is malformed."];
  // A response already under way cannot be replaced; the connection just ends.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}
