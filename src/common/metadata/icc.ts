import { Unzlib } from "fflate";

import { fourcc, view } from "./bytes.js";

/**
 * Display profiles are a few kilobytes and the largest press (CMYK) profiles
 * in common use stay under 2 MiB; anything beyond 4 MiB is not a colour
 * profile but a payload, and the cap also bounds what a compressed profile may
 * inflate to.
 */
export const MAX_ICC_BYTES = 4 * 1024 * 1024;

export const INVALID_ICC = "invalid ICC profile";

const HEADER_BYTES = 128;
const DEVICE_CLASSES = new Set(["scnr", "mntr", "prtr", "link", "spac", "abst", "nmcl", "cenc", "mid ", "mlnk", "mvis"]);
const COLOUR_SPACES = new Set(["XYZ ", "Lab ", "Luv ", "YCbr", "Yxy ", "RGB ", "GRAY", "HSV ", "HLS ", "CMYK", "CMY "]);
const PROFILE_CONNECTION_SPACES = new Set(["XYZ ", "Lab "]);

function isColourSpace(sig: string): boolean {
  // "2CLR" to "FCLR": generic n-colour spaces of press profiles.
  return COLOUR_SPACES.has(sig) || /^[2-9A-F]CLR$/.test(sig);
}

/**
 * Checks that bytes are an ICC profile a colour engine would accept: the
 * declared size matches, the header signatures are known values and every tag
 * lies inside the profile. Decoders given anything else either ignore it (so
 * it is not needed) or misread it (so it must not be stored).
 */
export function isValidIccProfile(profile: Uint8Array): boolean {
  if (profile.length < HEADER_BYTES + 4 || profile.length > MAX_ICC_BYTES) return false;
  const dv = view(profile);
  if (dv.getUint32(0) !== profile.length) return false;
  if (fourcc(profile, 36) !== "acsp") return false;
  const major = profile[8]!;
  if (major < 2 || major > 5) return false;
  const deviceClass = fourcc(profile, 12);
  if (!DEVICE_CLASSES.has(deviceClass)) return false;
  if (!isColourSpace(fourcc(profile, 16))) return false;
  const pcs = fourcc(profile, 20);
  // A device link connects two device spaces, so its "PCS" is a colour space.
  if (!(deviceClass === "link" ? isColourSpace(pcs) : PROFILE_CONNECTION_SPACES.has(pcs) || major === 5)) return false;
  const tagCount = dv.getUint32(HEADER_BYTES);
  if (HEADER_BYTES + 4 + tagCount * 12 > profile.length) return false;
  for (let i = 0; i < tagCount; i++) {
    const at = HEADER_BYTES + 4 + i * 12;
    const offset = dv.getUint32(at + 4);
    const size = dv.getUint32(at + 8);
    if (offset < HEADER_BYTES || offset + size > profile.length) return false;
  }
  return true;
}

/**
 * Inflates a zlib stream (PNG iCCP) but gives up, returning undefined, as soon
 * as the output passes MAX_ICC_BYTES or the stream is broken. Input is fed in
 * small slices so a deflate bomb costs at most one slice of work past the cap.
 */
export function inflateIccProfile(compressed: Uint8Array): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let total = 0;
  let done = false;
  const stream = new Unzlib((chunk, final) => {
    total += chunk.length;
    if (total <= MAX_ICC_BYTES) parts.push(chunk);
    if (final) done = true;
  });
  const SLICE = 1024; // deflate expands at most ~1032:1, so about 1 MiB per slice
  try {
    for (let at = 0; at < compressed.length && total <= MAX_ICC_BYTES; at += SLICE) {
      const end = Math.min(at + SLICE, compressed.length);
      stream.push(compressed.subarray(at, end), end === compressed.length);
    }
  } catch {
    return undefined;
  }
  if (!done || total > MAX_ICC_BYTES) return undefined;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
