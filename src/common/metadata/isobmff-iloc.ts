import { MalformedImageError, view, writeUintBE } from "./bytes.js";
import { Cursor, makeBox, type Box } from "./isobmff-boxes.js";

export interface Extent {
  offset: number;
  /** Where the extent_offset field sits in the original file. */
  offsetPos: number;
  length: number;
}

export interface Location {
  id: number;
  method: number;
  dataRef: number;
  baseOffset: number;
  baseOffsetPos: number;
  extents: Extent[];
  /** Byte range of this entry inside the original iloc box. */
  start: number;
  end: number;
}

export interface ItemLocations {
  box: Box;
  offsetSize: number;
  baseOffsetSize: number;
  countPos: number;
  countSize: number;
  itemsStart: number;
  items: Location[];
}

/** A field of the original file to overwrite while copying it. */
export interface Patch {
  pos: number;
  size: number;
  value: number;
}

const FIELD_SIZES = new Set([0, 4, 8]);

export function parseIloc(bytes: Uint8Array, box: Box): ItemLocations {
  const c = new Cursor(bytes, box.payload, box.end);
  const version = c.uint(1);
  c.skip(3);
  if (version > 2) throw new MalformedImageError(`unsupported iloc version ${version}`);
  const sizes = c.uint(1);
  const moreSizes = c.uint(1);
  const offsetSize = sizes >> 4;
  const lengthSize = sizes & 0x0f;
  const baseOffsetSize = moreSizes >> 4;
  const indexSize = version > 0 ? moreSizes & 0x0f : 0;
  for (const size of [offsetSize, lengthSize, baseOffsetSize, indexSize]) {
    if (!FIELD_SIZES.has(size)) throw new MalformedImageError(`unsupported iloc field size ${size}`);
  }
  const countPos = c.pos;
  const countSize = version < 2 ? 2 : 4;
  const count = c.uint(countSize);
  const itemsStart = c.pos;
  const items: Location[] = [];
  for (let i = 0; i < count; i++) {
    const start = c.pos;
    const id = c.uint(version < 2 ? 2 : 4);
    const method = version > 0 ? c.uint(2) & 0x0f : 0;
    const dataRef = c.uint(2);
    const baseOffsetPos = c.pos;
    const baseOffset = c.uint(baseOffsetSize);
    const extentCount = c.uint(2);
    const extents: Extent[] = [];
    for (let e = 0; e < extentCount; e++) {
      c.skip(indexSize);
      const offsetPos = c.pos;
      const offset = c.uint(offsetSize);
      extents.push({ offset, offsetPos, length: c.uint(lengthSize) });
    }
    items.push({ id, method, dataRef, baseOffset, baseOffsetPos, extents, start, end: c.pos });
  }
  return { box, offsetSize, baseOffsetSize, countPos, countSize, itemsStart, items };
}

/** Size of the rebuilt box; it does not depend on the offset values written. */
export function rebuiltIlocSize(iloc: ItemLocations, keep: (id: number) => boolean): number {
  const entries = iloc.items.filter((item) => keep(item.id)).reduce((sum, item) => sum + item.end - item.start, 0);
  return 8 + (iloc.itemsStart - iloc.box.payload) + entries;
}

export function rebuildIloc(
  bytes: Uint8Array,
  iloc: ItemLocations,
  keep: (id: number) => boolean,
  patches: Patch[],
): Uint8Array {
  const kept = iloc.items.filter((item) => keep(item.id));
  const head = iloc.itemsStart - iloc.box.payload;
  const body = new Uint8Array(rebuiltIlocSize(iloc, keep) - 8);
  const dv = view(body);
  body.set(bytes.subarray(iloc.box.payload, iloc.itemsStart));
  writeUintBE(dv, iloc.countPos - iloc.box.payload, iloc.countSize, kept.length);
  let at = head;
  for (const item of kept) {
    body.set(bytes.subarray(item.start, item.end), at);
    for (const patch of patches) {
      if (patch.pos >= item.start && patch.pos < item.end) {
        writeUintBE(dv, at + patch.pos - item.start, patch.size, patch.value);
      }
    }
    at += item.end - item.start;
  }
  return makeBox("iloc", [body]);
}

/**
 * Rewrites the file-relative (construction_method 0) offsets of kept items
 * once boxes before their data grow, shrink or go. `newOffsetOf` maps an
 * offset of the original file to the rebuilt one, throwing for data that
 * cannot move (inside the meta box or a dropped box).
 */
export function relocationPatches(iloc: ItemLocations, keep: (id: number) => boolean, newOffsetOf: (offset: number) => number): Patch[] {
  const patches: Patch[] = [];
  for (const item of iloc.items) {
    if (!keep(item.id) || item.method !== 0 || item.dataRef !== 0) continue;
    const shifts = item.extents.map((extent) => newOffsetOf(item.baseOffset + extent.offset) - (item.baseOffset + extent.offset));
    if (shifts.every((shift) => shift === 0)) continue;
    if (item.baseOffset !== 0 || iloc.offsetSize === 0) {
      // One base offset serves every extent, so they must all move together.
      if (shifts.some((shift) => shift !== shifts[0]) || iloc.baseOffsetSize === 0) {
        throw new MalformedImageError(`item ${item.id} has extents that move apart`);
      }
      patches.push({ pos: item.baseOffsetPos, size: iloc.baseOffsetSize, value: item.baseOffset + shifts[0]! });
      continue;
    }
    item.extents.forEach((extent, i) => {
      if (shifts[i] !== 0) patches.push({ pos: extent.offsetPos, size: iloc.offsetSize, value: extent.offset + shifts[i]! });
    });
  }
  return patches;
}
