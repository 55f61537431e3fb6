/**
 * Failures as codes, for web workers and the page alike: a worker throws a DeviceFailure (or any
 * error, which becomes "unexpected" with the error's own words), posts its problem, and the pool
 * rejects with a DeviceFailure again on the page, where describeProblem (batch.svelte.ts) words it.
 */
import type { DeviceProblem } from "./protocol.js";

export class DeviceFailure extends Error {
  constructor(readonly problem: DeviceProblem) {
    super(`device problem: ${problem.code}`);
    this.name = "DeviceFailure";
  }
}

/** Refused before decoding: the picture would not fit in the pixels this browser may hold. */
export class TooLargeError extends DeviceFailure {
  constructor(width: number, height: number, maxPixels: number) {
    super({ code: "tooLarge", width, height, maxPixels });
    this.name = "TooLargeError";
  }
}

export function problemOf(err: unknown): DeviceProblem {
  if (err instanceof DeviceFailure) return err.problem;
  const detail = err instanceof Error ? err.message : String(err);
  // The shared metadata remover's and JPEG reader's refusals (MalformedImageError, MalformedJpegError).
  if (err instanceof Error && err.name.startsWith("Malformed")) return { code: "malformed", detail };
  return { code: "unexpected", detail };
}
