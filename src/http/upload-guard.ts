import type { Socket } from "node:net";
import { AppError } from "../common/errors.js";

/**
 * Counts uploads still receiving their body. Each holds a connection, a temp file and a parser, and
 * a client trickling bytes holds them for as long as it likes; past the bound, uploads are refused
 * before a byte of their body is read.
 */
export class PendingUploads {
  private count = 0;

  constructor(readonly max: number) {}

  /** A release function (safe to call twice), or null when the bound is reached. */
  tryAcquire(): (() => void) | null {
    if (this.count >= this.max) return null;
    this.count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.count--;
    };
  }
}

export const busy = () => new AppError("busy", 503, "Too many uploads are arriving at once; try again in a few seconds.");

export const tooSlow = (windowMs: number, minBytes: number) =>
  new AppError("request_timeout", 408, `The upload was too slow: fewer than ${minBytes} bytes arrived in ${windowMs / 1000} s.`);

export interface ProgressRule {
  /** each window of this length must bring at least `minBytesPerSecond × window` (and one byte) */
  windowMs: number;
  minBytesPerSecond: number;
}

/**
 * Calls `onTooSlow` once when a window passes in which the connection brought too few bytes.
 * Bytes read from the socket are counted, so the multipart parser is not disturbed; the server
 * reads as fast as it writes the temp file, so a short count is the client's doing. Returns `stop`.
 */
export function watchProgress(socket: Socket, { windowMs, minBytesPerSecond }: ProgressRule, onTooSlow: (err: AppError) => void): () => void {
  if (windowMs <= 0) return () => undefined;
  const minBytes = Math.max(1, Math.floor((minBytesPerSecond * windowMs) / 1000));
  let seen = socket.bytesRead;
  const timer = setInterval(() => {
    const now = socket.bytesRead;
    if (now - seen < minBytes) {
      clearInterval(timer);
      onTooSlow(tooSlow(windowMs, minBytes));
    }
    seen = now;
  }, windowMs);
  timer.unref();
  return () => clearInterval(timer);
}
