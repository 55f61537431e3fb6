import { MalformedImageError, type Removed } from "./bytes.js";
import type { Box } from "./isobmff-boxes.js";
import type { Location } from "./isobmff-iloc.js";

export interface Range {
  start: number;
  end: number;
}

export interface ItemData {
  kept: Range[];
  removed: Range[];
}

/** Where the data of kept and removed items lies in the original file; overlaps are refused. */
export function locateItemData(items: Location[], drop: Set<number>, idat: Box | undefined, fileEnd: number): ItemData {
  const data: ItemData = { kept: [], removed: [] };
  for (const item of items) {
    if (item.method > 1) {
      if (drop.has(item.id)) throw new MalformedImageError(`item ${item.id} is built from other items`);
      continue;
    }
    if (item.dataRef !== 0) throw new MalformedImageError(`item ${item.id} lives in another file`);
    if (item.method === 1 && idat === undefined) throw new MalformedImageError(`item ${item.id} needs a missing idat`);
    const base = item.method === 1 ? idat!.payload : 0;
    const limit = item.method === 1 ? idat!.end : fileEnd;
    for (const extent of item.extents) {
      const start = base + item.baseOffset + extent.offset;
      const end = extent.length === 0 ? limit : start + extent.length;
      if (end > limit) throw new MalformedImageError(`item ${item.id} extends past its container`);
      (drop.has(item.id) ? data.removed : data.kept).push({ start, end });
    }
  }
  for (const wipe of data.removed) {
    if (data.kept.some((k) => k.start < wipe.end && wipe.start < k.end)) throw new MalformedImageError("metadata payload overlaps image data");
  }
  return data;
}

/** Removed items' data must sit where it will be wiped: in a data box, or in a box that is dropped. */
export function checkRemovedDataIsWiped(data: ItemData, dataBoxes: Box[], keptBoxes: Box[]): void {
  for (const range of data.removed) {
    const inData = dataBoxes.some((box) => range.start >= box.payload && range.end <= box.end);
    const inKept = keptBoxes.some((box) => range.start < box.end && box.start < range.end);
    if (!inData && inKept) throw new MalformedImageError("metadata payload lies outside mdat and idat");
  }
}

/**
 * Copies a data box (mdat, idat) with removed items' bytes set to zero and,
 * when `zeroGaps`, also every byte no kept item points at. Gap bytes that held
 * something yet belonged to no item are reported as unreferenced data.
 */
export function wipedDataBox(bytes: Uint8Array, box: Box, data: ItemData, zeroGaps: boolean, removed: Removed): Uint8Array {
  const wipe = zeroGaps ? gaps(box, data.kept) : clip(box, data.removed);
  if (wipe.length === 0) return bytes.subarray(box.start, box.end);
  const copy = bytes.slice(box.start, box.end);
  for (const range of wipe) {
    const hidden = subtract(range, data.removed);
    if (hidden.some((r) => bytes.subarray(r.start, r.end).some((b) => b !== 0))) removed.add("unreferenced data");
    copy.fill(0, range.start - box.start, range.end - box.start);
  }
  return copy;
}

function clip(box: Box, ranges: Range[]): Range[] {
  return ranges
    .map((r) => ({ start: Math.max(r.start, box.payload), end: Math.min(r.end, box.end) }))
    .filter((r) => r.start < r.end);
}

/** The parts of a box's payload outside every range. */
function gaps(box: Box, ranges: Range[]): Range[] {
  return subtract({ start: box.payload, end: box.end }, ranges);
}

function subtract(range: Range, ranges: Range[]): Range[] {
  const sorted = clip({ type: "", start: range.start, payload: range.start, end: range.end }, ranges).sort((a, b) => a.start - b.start);
  const out: Range[] = [];
  let at = range.start;
  for (const r of sorted) {
    if (r.start > at) out.push({ start: at, end: r.start });
    at = Math.max(at, r.end);
  }
  if (at < range.end) out.push({ start: at, end: range.end });
  return out;
}
