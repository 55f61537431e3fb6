import { ChunkList, MalformedImageError, Removed, result, startsWith, type StripResult } from "./bytes.js";
import { INVALID_ICC } from "./icc.js";
import { isIccSegment, jpegIccProfileIsValid } from "./jpeg-icc.js";

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const COM = 0xfe;
const APP0 = 0xe0;
const KEEP = true;

type Verdict = typeof KEEP | string | Uint8Array;

/**
 * Markers of the coded image: frame headers of every coding process (C0-CF
 * but for DHT C4, JPG C8 and DAC CC), Huffman and arithmetic tables,
 * quantisation tables, restart interval, line count and scans.
 */
const CODING_MARKERS = new Set([
  0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf,
  0xc4, 0xcc, 0xdb, 0xdd, 0xdc, SOS,
]); // prettier-ignore

/**
 * Removes every segment that can describe the person, place or device behind
 * a JPEG while copying the compressed image data untouched. Only segments a
 * decoder needs to reproduce the same pixels and colours survive: the coding
 * markers, JFIF (minus its thumbnail), a valid ICC profile and the Adobe
 * colour-transform flag.
 */
export function stripJpeg(bytes: Uint8Array): StripResult {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) {
    throw new MalformedImageError("not a JPEG: missing SOI marker");
  }
  const end = bytes.length;
  const out = new ChunkList();
  const removed = new Removed();
  out.push(bytes.subarray(0, 2));
  let pos = 2;
  let sawScan = false;
  let sawEoi = false;
  const keepIcc = jpegIccProfileIsValid(bytes) === true;

  while (pos < end) {
    if (bytes[pos] !== 0xff) throw new MalformedImageError(`expected a JPEG marker at byte ${pos}`);
    while (pos < end && bytes[pos] === 0xff) pos++; // fill bytes
    if (pos >= end) break;
    const marker = bytes[pos]!;
    pos++;
    if (marker === EOI) {
      out.push(bytes.subarray(pos - 2, pos));
      sawEoi = true;
      break;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      out.push(bytes.subarray(pos - 2, pos)); // parameterless markers
      continue;
    }
    if (marker === 0x00 || marker === SOI) throw new MalformedImageError(`unexpected marker 0x${marker.toString(16)}`);
    if (pos + 2 > end) throw new MalformedImageError("truncated JPEG segment header");
    const length = (bytes[pos]! << 8) | bytes[pos + 1]!;
    const segmentEnd = pos + length;
    if (length < 2 || segmentEnd > end) throw new MalformedImageError("JPEG segment runs past the end of the file");

    const payload = bytes.subarray(pos + 2, segmentEnd);
    const verdict = isIccSegment(marker, payload) ? (keepIcc ? KEEP : INVALID_ICC) : classify(marker, payload);
    if (verdict === KEEP) {
      out.push(bytes.subarray(pos - 2, segmentEnd));
    } else if (typeof verdict === "string") {
      removed.add(verdict);
    } else {
      out.push(verdict);
      removed.add("JFIF thumbnail");
    }
    pos = segmentEnd;
    if (marker === SOS) {
      sawScan = true;
      pos = copyEntropyData(bytes, pos, out);
    }
  }

  if (!sawScan) throw new MalformedImageError("JPEG has no image data");
  // Bytes after EOI are typically MPF previews, a second image or maker data.
  if (sawEoi && pos < end) removed.add("trailing data");
  return result(bytes, out, removed);
}

/**
 * Copies entropy-coded data up to the next real marker. Stuffed 0xFF00 bytes
 * and restart markers belong to the scan; indexOf keeps this at native speed.
 */
function copyEntropyData(bytes: Uint8Array, from: number, out: ChunkList): number {
  const end = bytes.length;
  let i = from;
  for (;;) {
    i = bytes.indexOf(0xff, i);
    if (i < 0 || i + 1 >= end) {
      out.push(bytes.subarray(from)); // scan ends without EOI: keep it, the decoder decides
      return end;
    }
    const next = bytes[i + 1]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      i += 2;
    } else if (next === 0xff) {
      i += 1;
    } else {
      out.push(bytes.subarray(from, i));
      return i;
    }
  }
}

function classify(marker: number, payload: Uint8Array): Verdict {
  if (marker === APP0) return classifyApp0(payload);
  if (marker === 0xe1) {
    if (startsWith(payload, 0, "Exif\0")) return "EXIF";
    if (startsWith(payload, 0, "http://ns.adobe.com/xap/1.0/\0")) return "XMP";
    if (startsWith(payload, 0, "http://ns.adobe.com/xmp/extension/\0")) return "XMP";
    return "APP1";
  }
  if (marker === 0xe2) return startsWith(payload, 0, "MPF\0") ? "MPF" : "APP2";
  if (marker === 0xed) return startsWith(payload, 0, "Photoshop 3.0\0") ? "IPTC" : "APP13";
  // Adobe APP14 tells the decoder whether YCC/YCCK colour transform applies.
  if (marker === 0xee) return startsWith(payload, 0, "Adobe") ? KEEP : "APP14";
  if (marker === 0xeb) return "C2PA content credentials"; // APP11 carries JUMBF, which is what C2PA writes
  if (marker > APP0 && marker <= 0xef) return `APP${marker - APP0}`;
  if (marker === COM) return "comment";
  return CODING_MARKERS.has(marker) ? KEEP : "unrecognised data";
}

function classifyApp0(payload: Uint8Array): Verdict {
  if (startsWith(payload, 0, "JFXX\0")) return "JFXX thumbnail";
  if (!startsWith(payload, 0, "JFIF\0")) return "APP0";
  // Anything past the 14 fixed bytes is an uncompressed preview of the picture.
  return payload.length <= 14 ? KEEP : rewriteJfif(payload);
}

function rewriteJfif(payload: Uint8Array): Uint8Array {
  const segment = new Uint8Array(18);
  segment.set([0xff, APP0, 0x00, 0x10]);
  segment.set(payload.subarray(0, 12), 4); // identifier, version, units, density
  return segment; // thumbnail width and height left at zero
}
