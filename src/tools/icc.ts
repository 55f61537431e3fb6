import { crc32, deflateSync } from "node:zlib";

const PNG_SIGNATURE_LENGTH = 8;

/**
 * Adds an iCCP chunk after IHDR of a PNG that has no colour profile. Decoders hand out pixels in
 * the file's own colour space; tagging an intermediate PNG with that space's profile lets sharp
 * carry it to the output (keepIccProfile) instead of assuming sRGB, so colours stay right.
 */
export function addIccToPng(png: Buffer, icc: Uint8Array): Buffer {
  const ihdrEnd = PNG_SIGNATURE_LENGTH + 8 + png.readUInt32BE(PNG_SIGNATURE_LENGTH) + 4;
  const data = Buffer.concat([Buffer.from("icc\0\0", "latin1"), deflateSync(icc)]); // name, NUL, method 0
  const typeAndData = Buffer.concat([Buffer.from("iCCP", "latin1"), data]);
  const chunk = Buffer.alloc(8 + data.length + 4);
  chunk.writeUInt32BE(data.length, 0);
  typeAndData.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(typeAndData) >>> 0, 8 + data.length);
  return Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}

const ICC_MARKER = Buffer.from("ICC_PROFILE\0", "latin1");
const ICC_CHUNK = 65_535 - 2 - ICC_MARKER.length - 2; // segment length field, marker, sequence bytes

/**
 * Inserts a colour profile into a JPEG that has none, as APP2 ICC_PROFILE segments after SOI and
 * any JFIF APP0 (profiles over 64 KiB span several numbered segments).
 */
export function addIccToJpeg(jpeg: Buffer, icc: Uint8Array): Buffer {
  const count = Math.ceil(icc.length / ICC_CHUNK);
  if (count > 255) throw new Error("colour profile too large for JPEG");
  const segments: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = icc.subarray(i * ICC_CHUNK, (i + 1) * ICC_CHUNK);
    const header = Buffer.alloc(4);
    header.writeUInt16BE(0xffe2, 0);
    header.writeUInt16BE(2 + ICC_MARKER.length + 2 + chunk.length, 2);
    segments.push(header, ICC_MARKER, Buffer.from([i + 1, count]), Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  const afterApp0 = jpeg[2] === 0xff && jpeg[3] === 0xe0 ? 4 + jpeg.readUInt16BE(4) : 2;
  return Buffer.concat([jpeg.subarray(0, afterApp0), ...segments, jpeg.subarray(afterApp0)]);
}

const VP8X_ICC = 0x20;
const VP8X_ALPHA = 0x10;

/**
 * Inserts a colour profile into a WebP that has none: an ICCP chunk right after VP8X (added when
 * the file is in the simple format, with the canvas size read from the bitstream) and the ICC flag.
 * Encoders hand out pixels in their input's colour space, so this keeps colours right without a
 * colour conversion or another copy of the pixels.
 */
export function addIccToWebp(webp: Buffer, icc: Uint8Array): Buffer {
  if (webp.toString("latin1", 0, 4) !== "RIFF" || webp.toString("latin1", 8, 12) !== "WEBP") throw new Error("not a WebP");
  const first = webp.toString("latin1", 12, 16);
  let vp8x: Buffer;
  let rest: Buffer;
  if (first === "VP8X") {
    vp8x = Buffer.from(webp.subarray(12, 30));
    rest = webp.subarray(30);
  } else {
    const { width, height, alpha } = simpleWebpCanvas(webp, first);
    vp8x = Buffer.alloc(18);
    vp8x.write("VP8X", 0, "latin1");
    vp8x.writeUInt32LE(10, 4);
    vp8x[8] = alpha ? VP8X_ALPHA : 0;
    vp8x.writeUIntLE(width - 1, 12, 3);
    vp8x.writeUIntLE(height - 1, 15, 3);
    rest = webp.subarray(12);
  }
  vp8x[8]! |= VP8X_ICC;
  const iccp = Buffer.alloc(8 + icc.length + (icc.length & 1));
  iccp.write("ICCP", 0, "latin1");
  iccp.writeUInt32LE(icc.length, 4);
  iccp.set(icc, 8);
  const header = Buffer.from("RIFF\0\0\0\0WEBP", "latin1");
  const out = Buffer.concat([header, vp8x, iccp, rest]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

function simpleWebpCanvas(webp: Buffer, chunk: string): { width: number; height: number; alpha: boolean } {
  const data = 20; // RIFF header (12) + chunk header (8)
  if (chunk === "VP8L") {
    // Signature byte, then 14 bits width-1, 14 bits height-1 and the alpha hint, little-endian.
    const bits = webp.readUInt32LE(data + 1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
  }
  if (chunk === "VP8 ") {
    // Frame tag (3 bytes), start code (3 bytes), then 14-bit width and height.
    return { width: webp.readUInt16LE(data + 6) & 0x3fff, height: webp.readUInt16LE(data + 8) & 0x3fff, alpha: false };
  }
  throw new Error(`unexpected WebP chunk ${chunk}`);
}
