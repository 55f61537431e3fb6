import type { FastifyInstance } from "fastify";
import { AppError } from "../common/errors.js";

/**
 * U+0000 has no place in any text Pixhaven keeps, and PostgreSQL refuses it in a text column:
 * sent in an id, a query or a JSON field, it would end as a server error there and be stored on
 * SQLite. It is refused up front, the same way on both.
 */
export function containsNul(value: unknown): boolean {
  // Iterative: a body nested thousands deep must not exhaust the stack.
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === "string") {
      if (item.includes("\u0000")) return true;
    } else if (Array.isArray(item)) {
      for (const inner of item) pending.push(inner); // not push(...item): a huge array would overflow the stack
    } else if (item !== null && typeof item === "object" && !(item instanceof Uint8Array)) {
      for (const [key, inner] of Object.entries(item)) {
        if (key.includes("\u0000")) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

export const nulRefused = () => new AppError("invalid_text", 400, "Text may not contain the character U+0000 (NUL).");

/** Refuses U+0000 in the path's values, the query and a parsed body, on every route. */
export function refuseNul(app: FastifyInstance): void {
  app.addHook("preValidation", async (request) => {
    if (containsNul(request.params) || containsNul(request.query) || containsNul(request.body)) throw nulRefused();
  });
}
