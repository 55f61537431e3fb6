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
