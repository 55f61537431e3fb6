import { ChunkList, MalformedImageError, Removed, type StripResult } from "./bytes.js";
import { Cursor, makeBox, parseIinf, readBoxes, rebuildIinf, rebuildIref, type Box } from "./isobmff-boxes.js";
import { parseIloc, rebuildIloc, rebuiltIlocSize, relocationPatches, type Location } from "./isobmff-iloc.js";
import { checkRemovedDataIsWiped, locateItemData, wipedDataBox } from "./isobmff-data.js";
import { checkGroups, itemsToRemove } from "./isobmff-items.js";
import { rebuildIprp } from "./isobmff-props.js";
import { RENDERING_META_CHILDREN, RENDERING_TOP_LEVEL, checkSequence, droppedBoxLabel } from "./isobmff-top.js";

/**
 * Keeps what an AVIF decoder needs and drops the rest: top-level and meta
 * boxes outside the allow lists (C2PA uuid and jumb boxes, XML, unknown
 * boxes), metadata and thumbnail items with their references and property
 * associations, properties a decoder does not read, invalid colour profiles,
 * and every byte of mdat or idat that no kept item points at. Kept item
 * offsets are moved to match. Anything outside that well-trodden layout is
 * refused so the caller can fall back to re-encoding.
 */
export function stripIsobmff(bytes: Uint8Array): StripResult {
  const top = readBoxes(bytes, 0, bytes.length);
  if (top[0]?.type !== "ftyp") throw new MalformedImageError("not an ISOBMFF file: missing ftyp");
  const removed = new Removed();
  const keptTop = top.filter((box) => RENDERING_TOP_LEVEL.has(box.type) || void note(removed, droppedBoxLabel(bytes, box)));
  const moov = optionalSingle(keptTop, "moov");
  if (moov !== undefined) checkSequence(bytes, moov);
  const meta = single(keptTop, "meta");

  const children = readBoxes(bytes, meta.payload + 4, meta.end).filter(
    (box) => RENDERING_META_CHILDREN.has(box.type) || void note(removed, droppedBoxLabel(bytes, box)),
  );
  const info = parseIinf(bytes, single(children, "iinf"));
  const iref = optionalSingle(children, "iref");
  const drop = itemsToRemove(bytes, info.items, iref, removed);
  const keep = (id: number): boolean => !drop.has(id);
  const pitm = optionalSingle(children, "pitm");
  if (pitm !== undefined && !keep(primaryItem(bytes, pitm))) throw new MalformedImageError("primary item is removed");
  const grpl = optionalSingle(children, "grpl");
  if (grpl !== undefined) checkGroups(bytes, grpl, drop);

  const iloc = parseIloc(bytes, single(children, "iloc"));
  const idat = optionalSingle(children, "idat");
  const data = locateItemData(iloc.items, drop, idat, bytes.length);
  const dataBoxes = [...keptTop.filter((box) => box.type === "mdat"), ...(idat ? [idat] : [])];
  checkRemovedDataIsWiped(data, dataBoxes, keptTop);
  // A sequence's samples are found through moov, which item locations do not describe.
  const zeroGaps = moov === undefined;
  const rebuilt: (Uint8Array | "iloc")[] = children.map((child) => {
    switch (child.type) {
      case "iinf":
        return rebuildIinf(bytes, info, keep);
      case "iloc":
        return "iloc";
      case "iref":
        return rebuildIref(bytes, child, keep) ?? new Uint8Array(0);
      case "iprp":
        return rebuildIprp(bytes, child, keep, removed);
      case "idat":
        return wipedDataBox(bytes, child, data, zeroGaps, removed);
      default:
        return bytes.subarray(child.start, child.end);
    }
  });

  const ilocSize = rebuiltIlocSize(iloc, keep);
  const metaSize = rebuilt.reduce((sum, part) => sum + (part === "iloc" ? ilocSize : part.length), 12);
  const newStart = new Map<Box, number>();
  let at = 0;
  for (const box of keptTop) {
    newStart.set(box, at);
    at += box === meta ? metaSize : box.end - box.start;
  }
  if (moov !== undefined && keptTop.some((box) => box !== meta && newStart.get(box) !== box.start)) {
    throw new MalformedImageError("image sequences are not rewritten when their samples would move");
  }
  const newOffsetOf = (offset: number): number => {
    const box = keptTop.find((b) => b.start <= offset && offset <= b.end);
    if (box === undefined) throw new MalformedImageError("item data lies in a removed box");
    if (box === meta) throw new MalformedImageError("item data points inside the meta box");
    return offset + newStart.get(box)! - box.start;
  };
  const newIloc = rebuildIloc(bytes, iloc, keep, relocationPatches(iloc, keep, newOffsetOf));
  const newMeta = makeBox("meta", [
    bytes.subarray(meta.payload, meta.payload + 4),
    ...rebuilt.map((part) => (part === "iloc" ? newIloc : part)),
  ]);

  const out = new ChunkList();
  for (const box of keptTop) {
    if (box === meta) out.push(newMeta);
    else if (box.type === "mdat") out.push(wipedDataBox(bytes, box, data, zeroGaps, removed));
    else out.push(bytes.subarray(box.start, box.end));
  }
  const result = out.concat();
  if (!removed.any && equal(result, bytes)) return { bytes, removed: [] };
  return { bytes: result, removed: [...removed.labels] };
}

function note(removed: Removed, label: string | undefined): void {
  if (label !== undefined) removed.add(label);
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

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
