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
