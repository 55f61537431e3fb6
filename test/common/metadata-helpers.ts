/** Shared assertions for the metadata stripping tests. */
import exifr from "exifr";
import sharp from "sharp";
import { expect } from "vitest";

import { SECRETS, pictureRaw } from "../fixtures/metadata.js";

export const EXIFR_OPTIONS = { tiff: true, exif: true, gps: true, xmp: true, iptc: true, ifd1: true };
export const SECRET_TEXT = [
  SECRETS.make,
  SECRETS.model,
  SECRETS.serial,
  SECRETS.lens,
  SECRETS.dateOriginal,
  SECRETS.xmp,
  SECRETS.iptc,
  SECRETS.comment,
];
const PERSONAL_KEYS = [
  "latitude",
  "longitude",
  "GPSLatitude",
  "Make",
  "Model",
  "SerialNumber",
  "LensModel",
  "DateTimeOriginal",
  "CreateDate",
  "ModifyDate",
  "City",
  "Byline",
  "Comment",
];

export function leakedSecrets(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes).toString("latin1");
  return SECRET_TEXT.filter((secret) => text.includes(secret));
}

export async function expectSecretsReadable(bytes: Uint8Array): Promise<void> {
  const parsed = await exifr.parse(bytes, EXIFR_OPTIONS);
  expect(parsed.latitude).toBeCloseTo(SECRETS.gpsLatitude, 3);
  expect(parsed.longitude).toBeCloseTo(SECRETS.gpsLongitude, 3);
  expect(parsed.Make).toBe(SECRETS.make);
  expect(parsed.Model).toBe(SECRETS.model);
  expect(parsed.SerialNumber).toBe(SECRETS.serial);
  expect(parsed.LensModel).toBe(SECRETS.lens);
  expect(parsed.DateTimeOriginal).toBeInstanceOf(Date);
}

export async function expectNothingPersonal(bytes: Uint8Array): Promise<void> {
  const parsed: Record<string, unknown> = (await exifr.parse(bytes, EXIFR_OPTIONS)) ?? {};
  for (const key of PERSONAL_KEYS) expect(parsed[key], key).toBeUndefined();
  expect(leakedSecrets(bytes)).toEqual([]);
}

export async function expectSamePixels(a: Uint8Array, b: Uint8Array, animated = false): Promise<void> {
  const [left, right] = await Promise.all([
    sharp(a, { animated }).raw().toBuffer(),
    sharp(b, { animated }).raw().toBuffer(),
  ]);
  expect(left.length).toBeGreaterThan(0);
  expect(left.equals(right)).toBe(true);
}

export async function iccOf(bytes: Uint8Array): Promise<Buffer | undefined> {
  return (await sharp(bytes).metadata()).icc;
}

export function randomBytes(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** The fixture picture encoded without any metadata. */
export function plainImage(): sharp.Sharp {
  return sharp(pictureRaw(), { raw: { width: 64, height: 48, channels: 3 } });
}
