/**
 * Reads what a picture tells about its owner, with values, so the strip tool can show a person what
 * would have travelled with it (location as plain coordinates: no map is loaded from anywhere).
 * Only EXIF is read for values (JPEG APP1, PNG eXIf, WebP EXIF); the other kinds of data are named
 * by the categories the shared report uses.
 */
import { exifCategories, labelCategory, sortCategories, type MetadataCategory } from "$common/tools/metadata-report.js";
import type { DeviceFormat } from "./header.js";
import type { MetadataFound } from "./protocol.js";

const TEXT_TAGS = {
  make: 0x010f,
  model: 0x0110,
  software: 0x0131,
  artist: 0x013b,
  copyright: 0x8298,
  modified: 0x0132,
  taken: 0x9003,
  digitised: 0x9004,
  owner: 0xa430,
  serial: 0xa431,
  lens: 0xa434,
} as const;
const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;
const MAX_ENTRIES = 500;

type Value = string | number[] | undefined;

/** `removed`: the metadata remover's labels for the same file, when known. */
export function readMetadata(bytes: Uint8Array, format: DeviceFormat, removed: string[] = []): MetadataFound {
  const found: MetadataFound = { dates: [], author: [], categories: [] };
  const categories = new Set<MetadataCategory>();
  const exif = findExif(bytes, format);
  if (exif) {
    for (const c of exifCategories(exif)) categories.add(c);
    try {
      readExifValues(exif, found);
    } catch {
      // A malformed block still counts as found; its values stay unread.
    }
  }
  for (const label of removed) {
    const c = labelCategory(label);
    if (c) categories.add(c);
    else if (label === "EXIF" && !exif) categories.add("other EXIF");
  }
  found.categories = sortCategories(categories);
  return found;
}

function findExif(b: Uint8Array, format: DeviceFormat): Uint8Array | null {
  if (format === "jpeg") {
    let at = 2;
    while (at + 4 <= b.length && b[at] === 0xff) {
      const marker = b[at + 1]!;
      if (marker === 0xda || marker === 0xd9) return null;
      const length = (b[at + 2]! << 8) | b[at + 3]!;
      if (marker === 0xe1 && text(b, at + 4, 6) === "Exif\0\0") return b.subarray(at + 10, at + 2 + length);
      at += 2 + length;
    }
    return null;
  }
  if (format === "png") {
    for (let at = 8; at + 12 <= b.length; ) {
      const length = u32be(b, at);
      if (text(b, at + 4, 4) === "eXIf") return b.subarray(at + 8, at + 8 + length);
      if (text(b, at + 4, 4) === "IDAT") return null;
      at += 12 + length;
    }
    return null;
  }
  if (format === "webp") {
    for (let at = 12; at + 8 <= b.length; ) {
      const length = b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24);
      if (text(b, at, 4) === "EXIF") {
        const block = b.subarray(at + 8, at + 8 + length);
        return text(block, 0, 6) === "Exif\0\0" ? block.subarray(6) : block;
      }
      at += 8 + length + (length & 1);
    }
  }
  return null;
}

function readExifValues(tiff: Uint8Array, found: MetadataFound): void {
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const little = tiff[0] === 0x49;
  const read = (ifd: number): Map<number, Value> => {
    const tags = new Map<number, Value>();
    if (ifd < 8 || ifd + 2 > tiff.length) return tags;
    const count = Math.min(view.getUint16(ifd, little), MAX_ENTRIES);
    for (let i = 0; i < count; i++) {
      const entry = ifd + 2 + i * 12;
      if (entry + 12 > tiff.length) break;
      tags.set(view.getUint16(entry, little), valueAt(view, tiff, entry, little));
    }
    return tags;
  };
  const ifd0 = read(view.getUint32(4, little));
  const pointer = (tags: Map<number, Value>, tag: number) => (Array.isArray(tags.get(tag)) ? (tags.get(tag) as number[])[0] : undefined);
  const exifIfd = pointer(ifd0, EXIF_IFD);
  const gpsIfd = pointer(ifd0, GPS_IFD);
  const exif = exifIfd ? read(exifIfd) : new Map<number, Value>();
  const all = new Map([...ifd0, ...exif]);
  const str = (tag: number) => {
    const v = all.get(tag);
    return typeof v === "string" && v.trim() ? v.trim() : undefined;
  };
  const camera = [str(TEXT_TAGS.make), str(TEXT_TAGS.model)].filter(Boolean).join(" ");
  if (camera) found.camera = camera;
  const lens = str(TEXT_TAGS.lens);
  if (lens) found.lens = lens;
  const serial = str(TEXT_TAGS.serial);
  if (serial) found.serial = serial;
  const software = str(TEXT_TAGS.software);
  if (software) found.software = software;
  found.dates = [...new Set([TEXT_TAGS.taken, TEXT_TAGS.digitised, TEXT_TAGS.modified].map(str).filter((d): d is string => !!d))];
  found.author = [...new Set([TEXT_TAGS.artist, TEXT_TAGS.copyright, TEXT_TAGS.owner].map(str).filter((d): d is string => !!d))];
  const orientation = ifd0.get(0x0112);
  if (Array.isArray(orientation) && orientation[0]! >= 1 && orientation[0]! <= 8) found.orientation = orientation[0];
  if (gpsIfd) {
    const gps = read(gpsIfd);
    const latitude = degrees(gps.get(2), gps.get(1));
    const longitude = degrees(gps.get(4), gps.get(3));
    if (latitude !== undefined && longitude !== undefined) {
      const alt = gps.get(6);
      found.location = { latitude, longitude, ...(Array.isArray(alt) && alt.length ? { altitude: alt[0]! * (gps.get(5) === "1" ? -1 : 1) } : {}) };
    }
  }
}

function degrees(value: Value, ref: Value): number | undefined {
  if (!Array.isArray(value) || value.length < 3) return undefined;
  const [d, m, s] = value as [number, number, number];
  const sign = ref === "S" || ref === "W" ? -1 : 1;
  return sign * (d + m / 60 + s / 3600);
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };

/** ASCII tags as strings, numbers and rationals as arrays of numbers; other types are skipped. */
function valueAt(view: DataView, tiff: Uint8Array, entry: number, little: boolean): Value {
  const type = view.getUint16(entry + 2, little);
  const count = view.getUint32(entry + 4, little);
  const size = TYPE_SIZE[type];
  if (!size || count > 4096) return undefined;
  const at = size * count <= 4 ? entry + 8 : view.getUint32(entry + 8, little);
  if (at + size * count > tiff.length) return undefined;
  if (type === 2) return text(tiff, at, count).replace(/\0.*$/s, "");
  if (type === 1 && count === 2) return text(tiff, at, 1); // GPS refs stored as bytes
  const values: number[] = [];
  for (let i = 0; i < Math.min(count, 16); i++) {
    const p = at + i * size;
    if (type === 3) values.push(view.getUint16(p, little));
    else if (type === 4) values.push(view.getUint32(p, little));
    else if (type === 9) values.push(view.getInt32(p, little));
    else if (type === 5 || type === 10) {
      const num = type === 5 ? view.getUint32(p, little) : view.getInt32(p, little);
      const den = type === 5 ? view.getUint32(p + 4, little) : view.getInt32(p + 4, little);
      values.push(den ? num / den : 0);
    } else values.push(tiff[p]!);
  }
  return values;
}

function text(b: Uint8Array, at: number, n: number): string {
  let s = "";
  for (let i = at; i < at + n && i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}
