/**
 * What kinds of personal data a picture carried, named by category and never by value, for the
 * strip tool's report. EXIF is walked just far enough to tell its tags apart (IFD0, the Exif and
 * GPS IFDs, IFD1's thumbnail); the container-level findings come from the metadata remover's labels.
 */
export const METADATA_CATEGORIES = [
  "GPS position",
  "camera make and model",
  "serial numbers and unique IDs",
  "lens",
  "capture and edit dates",
  "software",
  "author, owner and copyright",
  "descriptions and comments",
  "maker notes",
  "embedded thumbnail",
  "extra images (MPF)",
  "XMP",
  "IPTC",
  "C2PA content credentials",
  "other EXIF",
  "other data",
] as const;
export type MetadataCategory = (typeof METADATA_CATEGORIES)[number];

const TAGS: Record<number, MetadataCategory> = {
  0x010f: "camera make and model",
  0x0110: "camera make and model",
  0xa431: "serial numbers and unique IDs",
  0xc62f: "serial numbers and unique IDs",
  0xa420: "serial numbers and unique IDs",
  0xa435: "serial numbers and unique IDs",
  0xa432: "lens",
  0xa433: "lens",
  0xa434: "lens",
  0x0132: "capture and edit dates",
  0x9003: "capture and edit dates",
  0x9004: "capture and edit dates",
  0x000b: "software",
  0x0131: "software",
  0x013c: "software",
  0x013b: "author, owner and copyright",
  0x8298: "author, owner and copyright",
  0x9c9d: "author, owner and copyright",
  0xa430: "author, owner and copyright",
  0x010e: "descriptions and comments",
  0x9286: "descriptions and comments",
  0x9c9b: "descriptions and comments",
  0x9c9c: "descriptions and comments",
  0x9c9e: "descriptions and comments",
  0x9c9f: "descriptions and comments",
  0x927c: "maker notes",
};
/** Tags that only tell a decoder how to draw the picture: removed, but nothing personal to report. */
const RENDERING = new Set([0x0112, 0x011a, 0x011b, 0x0128, 0x0213, 0x9000, 0x9101, 0xa000, 0xa001, 0xa002, 0xa003, 0xa005]);
const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;
const MAX_ENTRIES = 1000;

/** Categories found in an EXIF block (with or without its "Exif\0\0" prefix); malformed parts are skipped. */
export function exifCategories(exif: Uint8Array): Set<MetadataCategory> {
  const found = new Set<MetadataCategory>();
  const start = exif.length >= 6 && String.fromCharCode(...exif.subarray(0, 4)) === "Exif" ? 6 : 0;
  const tiff = new DataView(exif.buffer, exif.byteOffset + start, exif.byteLength - start);
  if (tiff.byteLength < 8) return found;
  const order = tiff.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return found;
  const little = order === 0x4949;
  const u16 = (at: number) => tiff.getUint16(at, little);
  const u32 = (at: number) => tiff.getUint32(at, little);
  const visited = new Set<number>();

  const walk = (at: number, kind: "ifd0" | "exif" | "gps" | "ifd1"): number => {
    if (visited.has(at) || at < 8 || at + 2 > tiff.byteLength) return 0;
    visited.add(at);
    const count = Math.min(u16(at), MAX_ENTRIES);
    if (at + 2 + count * 12 + 4 > tiff.byteLength) return 0;
    for (let i = 0; i < count; i++) {
      const entry = at + 2 + i * 12;
      const tag = u16(entry);
      if (kind === "gps") found.add("GPS position");
      else if (kind === "ifd1") found.add("embedded thumbnail");
      else if (tag === EXIF_IFD) walk(u32(entry + 8), "exif");
      else if (tag === GPS_IFD) walk(u32(entry + 8), "gps");
      else if (!RENDERING.has(tag)) found.add(TAGS[tag] ?? "other EXIF");
    }
    return u32(at + 2 + count * 12);
  };
  const ifd1 = walk(u32(4), "ifd0");
  if (ifd1) walk(ifd1, "ifd1");
  return found;
}

/** The metadata remover's container labels, as categories ("EXIF" is refined by `exifCategories`). */
export function labelCategory(label: string): MetadataCategory | undefined {
  if (label === "EXIF") return undefined;
  if (label === "XMP") return "XMP";
  if (label === "IPTC") return "IPTC";
  if (label === "C2PA content credentials") return "C2PA content credentials";
  if (label === "comment" || label === "text") return "descriptions and comments";
  if (label === "timestamp") return "capture and edit dates";
  if (/thumbnail/i.test(label)) return "embedded thumbnail";
  if (label === "MPF") return "extra images (MPF)";
  return "other data";
}

/** Categories in a stable order, for a report that reads the same for the same picture. */
export function sortCategories(found: Iterable<MetadataCategory>): MetadataCategory[] {
  const set = new Set(found);
  return METADATA_CATEGORIES.filter((c) => set.has(c));
}
