import { ChunkList, MalformedImageError, Removed, type StripResult } from "./bytes.js";
import { Cursor, makeBox, parseIinf, readBoxes, rebuildIinf, rebuildIpma, rebuildIref, type Box, type ItemInfo } from "./isobmff-boxes.js";
import { parseIloc, rebuildIloc, rebuiltIlocSize, shiftPatches, type Location } from "./isobmff-iloc.js";

interface Range {
  start: number;
  end: number;
}

/**
 * Removes Exif and XMP items from an AVIF/HEIF file: their item info,
 * locations, references and property associations disappear from the meta
 * box, their payload bytes are zeroed, and every remaining file offset is
 * moved to match the smaller meta box. The coded image items are untouched.
 * Anything outside that well-trodden layout is refused so the caller can
 * fall back to re-encoding.
 */
export function stripIsobmff(bytes: Uint8Array): StripResult {
  const top = readBoxes(bytes, 0, bytes.length);
  if (top[0]?.type !== "ftyp") throw new MalformedImageError("not an ISOBMFF file: missing ftyp");
  const meta = single(top, "meta");
  const children = readBoxes(bytes, meta.payload + 4, meta.end);
  const info = parseIinf(bytes, single(children, "iinf"));

  const removed = new Removed();
  const removedIds = new Set<number>();
  for (const item of info.items) {
    const label = labelFor(item);
    if (label === undefined) continue;
    removed.add(label);
    removedIds.add(item.id);
  }
  if (removedIds.size === 0) return { bytes, removed: [] };

  // Track sample offsets (stco/co64) would need the same shift; not handled.
  if (top.some((box) => box.type === "moov")) throw new MalformedImageError("image sequences with metadata are not rewritten");
  const keep = (id: number): boolean => !removedIds.has(id);
  const pitm = children.find((box) => box.type === "pitm");
  if (pitm !== undefined && !keep(primaryItem(bytes, pitm))) throw new MalformedImageError("primary item is metadata");

  const iloc = parseIloc(bytes, single(children, "iloc"));
  const idat = optionalSingle(children, "idat");
  const wipes = wipeRanges(iloc.items, removedIds, idat, top, bytes.length);

  const rebuilt: (Uint8Array | "iloc")[] = children.map((child) => {
    switch (child.type) {
      case "iinf":
        return rebuildIinf(bytes, info, keep);
      case "iloc":
        return "iloc";
      case "iref":
        return rebuildIref(bytes, child, keep) ?? new Uint8Array(0);
      case "iprp":
        return rebuildIprp(bytes, child, keep);
      case "idat":
        return zeroed(bytes, child, wipes);
      default:
        return bytes.subarray(child.start, child.end);
    }
  });
  const ilocSize = rebuiltIlocSize(iloc, keep);
  const metaSize = rebuilt.reduce((sum, part) => sum + (part === "iloc" ? ilocSize : part.length), 12);
  const delta = metaSize - (meta.end - meta.start);
  const newIloc = rebuildIloc(bytes, iloc, keep, shiftPatches(iloc, keep, meta, delta));
  const newMeta = makeBox("meta", [
    bytes.subarray(meta.payload, meta.payload + 4),
    ...rebuilt.map((part) => (part === "iloc" ? newIloc : part)),
  ]);

  const out = new ChunkList();
  out.push(bytes.subarray(0, meta.start));
  out.push(newMeta);
  out.push(bytes.subarray(meta.end));
  const result = out.concat();
  for (const range of wipes) {
    if (range.start >= meta.start && range.start < meta.end) continue; // idat, zeroed above
    const shift = range.start >= meta.end ? delta : 0;
    result.fill(0, range.start + shift, range.end + shift);
  }
  return { bytes: result, removed: [...removed.labels] };
}

function labelFor(item: ItemInfo): string | undefined {
  if (item.type === "Exif") return "EXIF";
  const contentType = item.contentType.split(";")[0]?.trim().toLowerCase();
  if (item.type === "mime" && contentType === "application/rdf+xml") return "XMP";
  return undefined;
}

function single(boxes: Box[], type: string): Box {
  const box = optionalSingle(boxes, type);
  if (box === undefined) throw new MalformedImageError(`missing '${type}' box`);
  return box;
}

function optionalSingle(boxes: Box[], type: string): Box | undefined {
  const found = boxes.filter((box) => box.type === type);
  if (found.length > 1) throw new MalformedImageError(`more than one '${type}' box`);
  return found[0];
}

function primaryItem(bytes: Uint8Array, pitm: Box): number {
  const c = new Cursor(bytes, pitm.payload, pitm.end);
  const version = c.uint(1);
  c.skip(3);
  return c.uint(version === 0 ? 2 : 4);
}

function rangesOf(item: Location, idat: Box | undefined, fileEnd: number): Range[] {
  if (item.dataRef !== 0) throw new MalformedImageError(`item ${item.id} lives in another file`);
  if (item.method === 1 && idat === undefined) throw new MalformedImageError(`item ${item.id} needs a missing idat`);
  const base = item.method === 1 ? idat!.payload : 0;
  const limit = item.method === 1 ? idat!.end : fileEnd;
  return item.extents.map((extent) => {
    const start = base + item.baseOffset + extent.offset;
    const end = extent.length === 0 ? limit : start + extent.length;
    if (end > limit) throw new MalformedImageError(`item ${item.id} extends past its container`);
    return { start, end };
  });
}

/** Locates the payload of removed items and proves no kept item shares it. */
function wipeRanges(items: Location[], removedIds: Set<number>, idat: Box | undefined, top: Box[], fileEnd: number): Range[] {
  const wipes: Range[] = [];
  const kept: Range[] = [];
  const mdats = top.filter((box) => box.type === "mdat");
  for (const item of items) {
    if (item.method > 1) {
      if (removedIds.has(item.id)) throw new MalformedImageError(`item ${item.id} is built from other items`);
      continue;
    }
    const ranges = rangesOf(item, idat, fileEnd);
    if (!removedIds.has(item.id)) {
      kept.push(...ranges);
      continue;
    }
    for (const range of ranges) {
      const inMdat = item.method === 1 || mdats.some((m) => range.start >= m.payload && range.end <= m.end);
      if (!inMdat) throw new MalformedImageError(`item ${item.id} data is outside mdat`);
      wipes.push(range);
    }
  }
  for (const wipe of wipes) {
    if (kept.some((k) => k.start < wipe.end && wipe.start < k.end)) {
      throw new MalformedImageError("metadata payload overlaps image data");
    }
  }
  return wipes;
}

function rebuildIprp(bytes: Uint8Array, iprp: Box, keep: (id: number) => boolean): Uint8Array {
  const parts = readBoxes(bytes, iprp.payload, iprp.end).map((child) =>
    child.type === "ipma" ? rebuildIpma(bytes, child, keep) : bytes.subarray(child.start, child.end),
  );
  return makeBox("iprp", parts);
}

function zeroed(bytes: Uint8Array, box: Box, wipes: Range[]): Uint8Array {
  const copy = bytes.slice(box.start, box.end);
  for (const range of wipes) {
    if (range.start >= box.payload && range.end <= box.end) copy.fill(0, range.start - box.start, range.end - box.start);
  }
  return copy;
}
