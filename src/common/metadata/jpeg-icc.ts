import { MAX_ICC_BYTES, isValidIccProfile } from "./icc.js";
import { startsWith } from "./bytes.js";

const APP2 = 0xe2;
const SOS = 0xda;
const ICC_TAG = "ICC_PROFILE\0";
const ICC_HEADER = ICC_TAG.length + 2; // tag, sequence number, segment count

/** Whether an APP2 payload is one piece of an ICC profile. */
export function isIccSegment(marker: number, payload: Uint8Array): boolean {
  return marker === APP2 && startsWith(payload, 0, ICC_TAG);
}

/**
 * A JPEG splits its ICC profile over numbered APP2 segments. Reassembles them
 * from the header segments (those before the first scan) and says whether
 * they form one complete, valid profile; undefined when there is none.
 */
export function jpegIccProfileIsValid(bytes: Uint8Array): boolean | undefined {
  const pieces: Uint8Array[] = [];
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    while (pos < bytes.length && bytes[pos] === 0xff) pos++;
    const marker = bytes[pos];
    if (marker === undefined || marker === SOS || marker === 0xd9) break;
    pos++;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    const length = ((bytes[pos] ?? 0) << 8) | (bytes[pos + 1] ?? 0);
    const payload = bytes.subarray(pos + 2, pos + length);
    if (isIccSegment(marker, payload)) pieces.push(payload);
    pos += length;
  }
  if (pieces.length === 0) return undefined;
  return assemble(pieces) !== undefined;
}

function assemble(pieces: Uint8Array[]): Uint8Array | undefined {
  const count = pieces[0]![ICC_TAG.length + 1]!;
  if (count !== pieces.length) return undefined;
  const ordered: (Uint8Array | undefined)[] = new Array(count);
  let total = 0;
  for (const piece of pieces) {
    if (piece.length < ICC_HEADER || piece[ICC_TAG.length + 1] !== count) return undefined;
    const index = piece[ICC_TAG.length]! - 1;
    if (index < 0 || index >= count || ordered[index] !== undefined) return undefined;
    ordered[index] = piece.subarray(ICC_HEADER);
    total += piece.length - ICC_HEADER;
  }
  if (total > MAX_ICC_BYTES) return undefined;
  const profile = new Uint8Array(total);
  let at = 0;
  for (const part of ordered as Uint8Array[]) {
    profile.set(part, at);
    at += part.length;
  }
  return isValidIccProfile(profile) ? profile : undefined;
}
