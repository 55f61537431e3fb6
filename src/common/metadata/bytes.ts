/**
 * Shared helpers for the metadata strippers. Kept free of Node APIs so the
 * same code can run in the browser before an upload ever leaves the device.
 */

/** The container structure is broken (or beyond what can be rewritten safely). */
export class MalformedImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedImageError";
  }
}

/**
 * Collects slices of the output and concatenates them once at the end, so the
 * large payloads (entropy data, IDAT, mdat) are copied exactly one time.
 */
export class ChunkList {
  private readonly parts: Uint8Array[] = [];
  length = 0;

  push(part: Uint8Array): void {
    if (part.length === 0) return;
    this.parts.push(part);
    this.length += part.length;
  }

  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

/** Records removal labels once each, in the order they were first seen. */
export class Removed {
  readonly labels: string[] = [];

  add(label: string): void {
    if (!this.labels.includes(label)) this.labels.push(label);
  }

  get any(): boolean {
    return this.labels.length > 0;
  }
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Compares a byte range against an ASCII signature without allocating. */
export function startsWith(bytes: Uint8Array, at: number, ascii: string): boolean {
  if (at < 0 || at + ascii.length > bytes.length) return false;
  for (let i = 0; i < ascii.length; i++) {
    if (bytes[at + i] !== ascii.charCodeAt(i)) return false;
  }
  return true;
}

export function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
}

export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Reads an unsigned big-endian integer of 0, 1, 2, 3, 4 or 8 bytes. */
export function readUintBE(dv: DataView, at: number, size: number): number {
  switch (size) {
    case 0:
      return 0;
    case 1:
      return dv.getUint8(at);
    case 2:
      return dv.getUint16(at);
    case 3:
      return (dv.getUint8(at) << 16) | dv.getUint16(at + 1);
    case 4:
      return dv.getUint32(at);
    case 8: {
      const value = dv.getBigUint64(at);
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedImageError("64-bit value out of range");
      return Number(value);
    }
    default:
      throw new MalformedImageError(`unsupported field size ${size}`);
  }
}

export function writeUintBE(dv: DataView, at: number, size: number, value: number): void {
  if (value < 0 || !Number.isSafeInteger(value) || (size < 8 && value >= 2 ** (size * 8))) {
    throw new MalformedImageError(`value ${value} does not fit in ${size} bytes`);
  }
  switch (size) {
    case 1:
      dv.setUint8(at, value);
      return;
    case 2:
      dv.setUint16(at, value);
      return;
    case 4:
      dv.setUint32(at, value);
      return;
    case 8:
      dv.setBigUint64(at, BigInt(value));
      return;
    default:
      throw new MalformedImageError(`cannot write a ${size}-byte field`);
  }
}

export interface StripResult {
  bytes: Uint8Array;
  /** Human-readable labels of what was removed, each once, in the order found. */
  removed: string[];
}

export function result(input: Uint8Array, out: ChunkList | Uint8Array, removed: Removed): StripResult {
  // Untouched files come back as-is so "nothing to strip" is byte-identical.
  if (!removed.any) return { bytes: input, removed: [] };
  return { bytes: out instanceof ChunkList ? out.concat() : out, removed: [...removed.labels] };
}
