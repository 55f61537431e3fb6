/**
 * Share ids and secret tokens, for every domain that names a record or hands out a secret
 * (images, jobs, API tokens, invitations): the lowest layer, so none of them imports another.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
export const SHARE_ID_LENGTH = 11;
/** 11 symbols of 64: 66 bits from the CSPRNG, no time or sequence in it. */
export const SHARE_ID_BITS = SHARE_ID_LENGTH * Math.log2(ALPHABET.length);
const SHARE_ID_PATTERN = /^[A-Za-z0-9_-]{11}$/;

export type ShareId = string & { readonly __brand: "ShareId" };

export function newShareId(): ShareId {
  const bytes = randomBytes(SHARE_ID_LENGTH);
  let id = "";
  // 256 is a multiple of 64, so masking keeps every symbol equally likely.
  for (const b of bytes) id += ALPHABET[b & 63];
  return id as ShareId;
}

export function isShareId(text: string): text is ShareId {
  return SHARE_ID_PATTERN.test(text);
}

/** 256-bit deletion token; only its hash is stored, so a database leak cannot delete anything. */
export function newDeleteToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Tokens carry 256 bits of entropy, so a fast hash is enough (argon2 is for guessable secrets). */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function tokenMatches(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashToken(token), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
