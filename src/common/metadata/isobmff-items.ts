import { MalformedImageError, type Removed } from "./bytes.js";
import { Cursor, readBoxes, type Box, type ItemInfo } from "./isobmff-boxes.js";

/** Coded images and the derivations (grid, overlay, tone-mapped HDR) that build pictures from them. */
const IMAGE_ITEMS = new Set(["av01", "grid", "iovl", "tmap"]);
/** References a kept item must still be able to follow. */
const NEEDED_REFERENCES = new Set(["dimg", "base"]);

interface Reference {
  type: string;
  from: number;
  to: number[];
}

/**
 * Decides which items go: metadata items (Exif, XMP and other MIME or URI
 * payloads), thumbnails (which may show a picture before it was cropped) and
 * auxiliary images that only served those. An item of any other type is
 * refused, since it cannot be told apart from an image a decoder needs.
 */
export function itemsToRemove(bytes: Uint8Array, items: ItemInfo[], iref: Box | undefined, removed: Removed): Set<number> {
  const drop = new Set<number>();
  for (const item of items) {
    if (IMAGE_ITEMS.has(item.type)) continue;
    const label = metadataLabel(item);
    if (label === undefined) throw new MalformedImageError(`item type '${item.type}' is not rewritten`);
    removed.add(label);
    drop.add(item.id);
  }
  const references = iref === undefined ? [] : parseIref(bytes, iref);
  for (const ref of references) {
    if (ref.type === "thmb" && !drop.has(ref.from)) {
      removed.add("thumbnail");
      drop.add(ref.from);
    }
  }
  // An alpha or depth plane of a removed thumbnail goes with it.
  for (let grew = true; grew; ) {
    grew = false;
    for (const ref of references) {
      if (ref.type === "auxl" && !drop.has(ref.from) && ref.to.every((id) => drop.has(id))) {
        drop.add(ref.from);
        grew = true;
      }
    }
  }
  for (const ref of references) {
    if (NEEDED_REFERENCES.has(ref.type) && !drop.has(ref.from) && ref.to.some((id) => drop.has(id))) {
      throw new MalformedImageError(`item ${ref.from} is built from an item that is removed`);
    }
  }
  return drop;
}

function metadataLabel(item: ItemInfo): string | undefined {
  if (item.type === "Exif") return "EXIF";
  if (item.type === "uri ") return "unrecognised data";
  if (item.type !== "mime") return undefined;
  const contentType = item.contentType.split(";")[0]?.trim().toLowerCase();
  if (contentType === "application/rdf+xml") return "XMP";
  if (contentType === "application/c2pa") return "C2PA content credentials";
  return "unrecognised data";
}

export function parseIref(bytes: Uint8Array, box: Box): Reference[] {
  const idSize = bytes[box.payload] === 0 ? 2 : 4;
  return readBoxes(bytes, box.payload + 4, box.end).map((ref) => {
    const c = new Cursor(bytes, ref.payload, ref.end);
    const from = c.uint(idSize);
    const to: number[] = [];
    for (let n = c.uint(2); n > 0; n--) to.push(c.uint(idSize));
    return { type: ref.type, from, to };
  });
}

/** Entity groups (alternatives such as HDR and SDR renditions) may not lose a member silently. */
export function checkGroups(bytes: Uint8Array, grpl: Box, drop: Set<number>): void {
  for (const group of readBoxes(bytes, grpl.payload, grpl.end)) {
    const c = new Cursor(bytes, group.payload + 4, group.end);
    c.skip(4); // group_id
    for (let n = c.uint(4); n > 0; n--) {
      if (drop.has(c.uint(4))) throw new MalformedImageError("an entity group names a removed item");
    }
  }
}
