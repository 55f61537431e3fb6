import { MalformedImageError, ascii, fourcc, readUintBE, view } from "./bytes.js";

/** A box located in the original file; `payload` is where its header ends. */
export interface Box {
  type: string;
  start: number;
  payload: number;
  end: number;
}

export function readBoxes(bytes: Uint8Array, from: number, to: number): Box[] {
  const dv = view(bytes);
  const boxes: Box[] = [];
  let pos = from;
  while (pos < to) {
    if (pos + 8 > to) throw new MalformedImageError("truncated box header");
    let size = dv.getUint32(pos);
    const type = fourcc(bytes, pos + 4);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > to) throw new MalformedImageError("truncated box header");
      size = readUintBE(dv, pos + 8, 8);
      header = 16;
    } else if (size === 0) {
      size = to - pos;
    }
    if (type === "uuid") header += 16;
    if (size < header || pos + size > to) throw new MalformedImageError(`box '${type}' runs past its container`);
    boxes.push({ type, start: pos, payload: pos + header, end: pos + size });
    pos += size;
  }
  return boxes;
}

/** Builds a box with a compact header; metadata boxes never approach 4 GiB. */
export function makeBox(type: string, parts: Uint8Array[]): Uint8Array {
  const size = parts.reduce((sum, p) => sum + p.length, 8);
  if (size > 0xffffffff) throw new MalformedImageError(`box '${type}' too large to rebuild`);
  const out = new Uint8Array(size);
  view(out).setUint32(0, size);
  out.set(ascii(type), 4);
  let at = 8;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Bounds-checked sequential reader; every overrun is a malformed file. */
export class Cursor {
  private readonly dv: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {
    this.dv = view(bytes);
  }

  uint(size: number): number {
    this.need(size);
    const value = readUintBE(this.dv, this.pos, size);
    this.pos += size;
    return value;
  }

  skip(size: number): void {
    this.need(size);
    this.pos += size;
  }

  fourcc(): string {
    this.need(4);
    const value = fourcc(this.bytes, this.pos);
    this.pos += 4;
    return value;
  }

  /** A null-terminated string; a missing terminator at the box end is tolerated. */
  cstring(): string {
    let stop = this.bytes.indexOf(0, this.pos);
    if (stop < 0 || stop > this.end) stop = this.end;
    const value = new TextDecoder().decode(this.bytes.subarray(this.pos, stop));
    this.pos = Math.min(stop + 1, this.end);
    return value;
  }

  private need(size: number): void {
    if (this.pos + size > this.end) throw new MalformedImageError("box content runs past its end");
  }
}

export interface ItemInfo {
  id: number;
  type: string;
  contentType: string;
  box: Box;
}

export interface ItemInfoList {
  box: Box;
  version: number;
  items: ItemInfo[];
}

export function parseIinf(bytes: Uint8Array, box: Box): ItemInfoList {
  const cursor = new Cursor(bytes, box.payload, box.end);
  const version = cursor.uint(1);
  cursor.skip(3);
  const count = cursor.uint(version === 0 ? 2 : 4);
  const entries = readBoxes(bytes, cursor.pos, box.end);
  if (entries.length !== count || entries.some((e) => e.type !== "infe")) {
    throw new MalformedImageError("iinf entry count does not match its contents");
  }
  const items = entries.map((entry) => {
    const c = new Cursor(bytes, entry.payload, entry.end);
    const infeVersion = c.uint(1);
    c.skip(3);
    if (infeVersion < 2) throw new MalformedImageError("unsupported infe version");
    const id = c.uint(infeVersion === 2 ? 2 : 4);
    c.skip(2); // item_protection_index
    const type = c.fourcc();
    c.cstring(); // item_name
    const contentType = type === "mime" ? c.cstring() : "";
    return { id, type, contentType, box: entry };
  });
  return { box, version, items };
}

export function rebuildIinf(bytes: Uint8Array, list: ItemInfoList, keep: (id: number) => boolean): Uint8Array {
  const kept = list.items.filter((item) => keep(item.id));
  const countSize = list.version === 0 ? 2 : 4;
  const head = new Uint8Array(4 + countSize);
  head.set(bytes.subarray(list.box.payload, list.box.payload + 4));
  if (countSize === 2) view(head).setUint16(4, kept.length);
  else view(head).setUint32(4, kept.length);
  return makeBox("iinf", [head, ...kept.map((item) => bytes.subarray(item.box.start, item.box.end))]);
}

/** Drops references made by removed items and references pointing at them. */
export function rebuildIref(bytes: Uint8Array, box: Box, keep: (id: number) => boolean): Uint8Array | undefined {
  const version = bytes[box.payload];
  const idSize = version === 0 ? 2 : 4;
  const parts: Uint8Array[] = [];
  for (const ref of readBoxes(bytes, box.payload + 4, box.end)) {
    const c = new Cursor(bytes, ref.payload, ref.end);
    const from = c.uint(idSize);
    const count = c.uint(2);
    const targets: number[] = [];
    for (let i = 0; i < count; i++) targets.push(c.uint(idSize));
    const keptTargets = targets.filter(keep);
    if (!keep(from) || keptTargets.length === 0) continue;
    if (keptTargets.length === targets.length) {
      parts.push(bytes.subarray(ref.start, ref.end));
      continue;
    }
    const body = new Uint8Array(idSize + 2 + keptTargets.length * idSize);
    const dv = view(body);
    const put = (at: number, id: number) => (idSize === 2 ? dv.setUint16(at, id) : dv.setUint32(at, id));
    put(0, from);
    dv.setUint16(idSize, keptTargets.length);
    keptTargets.forEach((id, i) => put(idSize + 2 + i * idSize, id));
    parts.push(makeBox(ref.type, [body]));
  }
  if (parts.length === 0) return undefined;
  return makeBox("iref", [bytes.subarray(box.payload, box.payload + 4), ...parts]);
}
