/**
 * What a picture is and how large it decodes, read from its first bytes only, so the page can refuse
 * or shrink a picture before any decoder allocates its pixels. Judged from magic bytes, never from
 * the name or the MIME type a browser guessed.
 */
export type DeviceFormat = "jpeg" | "png" | "webp" | "gif" | "avif" | "heic";

export interface PictureHeader {
  format: DeviceFormat;
  /** stored size; an EXIF orientation of 5-8 swaps it when shown upright */
  width: number;
  height: number;
  /** EXIF orientation 1-8 (JPEG only; other containers are turned by the decoder or the remover) */
  orientation: number;
}

/** Enough for every header but an ISOBMFF file whose boxes come late; those get a second, larger read. */
export const HEADER_BYTES = 256 * 1024;

export function sniffFormat(b: Uint8Array): DeviceFormat | null {
  if (b.length < 12) return null;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b[0] === 0x89 && ascii(b, 1, 3) === "PNG") return "png";
  if (ascii(b, 0, 4) === "GIF8") return "gif";
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP") return "webp";
  if (ascii(b, 4, 4) === "ftyp") {
    const size = Math.min(readU32(b, 0), b.length);
    const brands = [ascii(b, 8, 4)];
    for (let at = 16; at + 4 <= size; at += 4) brands.push(ascii(b, at, 4));
    if (brands.includes("avif") || brands.includes("avis")) return "avif";
    if (brands.some((x) => ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].includes(x))) return "heic";
  }
  return null;
}

/** Returns null when the bytes are not a picture the tools read, or its size cannot be found. */
export function readHeader(b: Uint8Array): PictureHeader | null {
  const format = sniffFormat(b);
  if (!format) return null;
  const size = format === "jpeg" ? jpegSize(b) : format === "png" ? pngSize(b) : format === "gif" ? gifSize(b) : format === "webp" ? webpSize(b) : ispeSize(b);
  if (!size || size.width < 1 || size.height < 1) return null;
  return { format, width: size.width, height: size.height, orientation: format === "jpeg" ? (size.orientation ?? 1) : 1 };
}

/** The size the picture has once turned upright. */
export function uprightSize(h: PictureHeader): { width: number; height: number } {
  return h.orientation >= 5 ? { width: h.height, height: h.width } : { width: h.width, height: h.height };
}

type Size = { width: number; height: number; orientation?: number };

function jpegSize(b: Uint8Array): Size | null {
  let at = 2;
  let orientation = 1;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = readU16(b, at + 2);
    if (marker === 0xe1 && ascii(b, at + 4, 4) === "Exif") orientation = exifOrientation(b.subarray(at + 10, at + 2 + length)) ?? orientation;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame && at + 9 <= b.length) return { height: readU16(b, at + 5), width: readU16(b, at + 7), orientation };
    if (marker === 0xda) return null;
    at += 2 + length;
  }
  return null;
}

/** Orientation tag of IFD0 in a TIFF block, or null. */
export function exifOrientation(tiff: Uint8Array): number | null {
  if (tiff.length < 8) return null;
  const little = tiff[0] === 0x49;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return null;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return null;
    if (view.getUint16(entry, little) === 0x0112) {
      const value = view.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : null;
    }
  }
  return null;
}

function pngSize(b: Uint8Array): Size | null {
  return ascii(b, 12, 4) === "IHDR" ? { width: readU32(b, 16), height: readU32(b, 20) } : null;
}

function gifSize(b: Uint8Array): Size {
  return { width: b[6]! | (b[7]! << 8), height: b[8]! | (b[9]! << 8) };
}

function webpSize(b: Uint8Array): Size | null {
  const chunk = ascii(b, 12, 4);
  if (chunk === "VP8X") return { width: 1 + (b[24]! | (b[25]! << 8) | (b[26]! << 16)), height: 1 + (b[27]! | (b[28]! << 8) | (b[29]! << 16)) };
  if (chunk === "VP8L") {
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  if (chunk === "VP8 ") return { width: readU16le(b, 26) & 0x3fff, height: readU16le(b, 28) & 0x3fff };
  return null;
}

/** AVIF and HEIC: the largest `ispe` (image spatial extents) property is the primary picture's. */
function ispeSize(b: Uint8Array): Size | null {
  let best: Size | null = null;
  for (let at = 4; at + 16 <= b.length; at++) {
    if (b[at] !== 0x69 || ascii(b, at, 4) !== "ispe") continue;
    const width = readU32(b, at + 8);
    const height = readU32(b, at + 12);
    if (!best || width * height > best.width * best.height) best = { width, height };
  }
  return best;
}

function ascii(b: Uint8Array, at: number, n: number): string {
  let s = "";
  for (let i = at; i < at + n && i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function readU16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

function readU16le(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

function readU32(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) >>> 0) + (((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0));
}
