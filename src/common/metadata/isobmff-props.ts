import { MalformedImageError, type Removed, fourcc, view } from "./bytes.js";
import { INVALID_ICC, isValidIccProfile } from "./icc.js";
import { Cursor, makeBox, readBoxes, type Box } from "./isobmff-boxes.js";

/**
 * Item properties a decoder uses to draw an AVIF: size, depth, codec
 * configuration, colour, orientation, crop, aspect, auxiliary type, layers,
 * HDR light levels and viewing environment, and scaling.
 */
const RENDERING_PROPERTIES = new Set([
  "ispe", "pixi", "av1C", "colr", "irot", "imir", "clap", "pasp", "auxC", "a1op", "a1lx", "lsel",
  "clli", "mdcv", "cclv", "amve", "rloc", "iscl",
]); // prettier-ignore

/**
 * Rebuilds iprp with only the rendering properties (and colour profiles that
 * are valid ICC), renumbering the associations in ipma. Associations of
 * removed items go too. Dropping a property an item marks essential would
 * change how it must be decoded, so that is refused.
 */
export function rebuildIprp(bytes: Uint8Array, iprp: Box, keepItem: (id: number) => boolean, removed: Removed): Uint8Array {
  const children = readBoxes(bytes, iprp.payload, iprp.end);
  const ipcos = children.filter((child) => child.type === "ipco");
  if (ipcos.length !== 1) throw new MalformedImageError("expected exactly one ipco box");
  const properties = readBoxes(bytes, ipcos[0]!.payload, ipcos[0]!.end);
  // newIndex[i] is the 1-based index of original property i+1 after rebuilding, 0 when dropped.
  const newIndex: number[] = [];
  const kept: Uint8Array[] = [];
  for (const property of properties) {
    const label = propertyLabel(bytes, property);
    if (label !== undefined) {
      removed.add(label);
      newIndex.push(0);
    } else {
      kept.push(bytes.subarray(property.start, property.end));
      newIndex.push(kept.length);
    }
  }
  const parts = children.map((child) => {
    if (child.type === "ipco") return makeBox("ipco", kept);
    if (child.type === "ipma") return rebuildIpma(bytes, child, keepItem, newIndex);
    throw new MalformedImageError(`unexpected '${child.type}' box in iprp`);
  });
  return makeBox("iprp", parts);
}

function propertyLabel(bytes: Uint8Array, property: Box): string | undefined {
  if (property.type === "colr") {
    const kind = fourcc(bytes, property.payload);
    if (kind !== "rICC" && kind !== "prof") return undefined;
    return isValidIccProfile(bytes.subarray(property.payload + 4, property.end)) ? undefined : INVALID_ICC;
  }
  if (RENDERING_PROPERTIES.has(property.type)) return undefined;
  if (property.type === "udes") return "text";
  return "unrecognised data";
}

function rebuildIpma(bytes: Uint8Array, box: Box, keepItem: (id: number) => boolean, newIndex: number[]): Uint8Array {
  const c = new Cursor(bytes, box.payload, box.end);
  const version = c.uint(1);
  const flags = c.uint(3);
  const count = c.uint(4);
  const wide = (flags & 1) === 1;
  const idSize = version < 1 ? 2 : 4;
  const entries: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const id = c.uint(idSize);
    const raw: number[] = [];
    for (let n = c.uint(1); n > 0; n--) raw.push(c.uint(wide ? 2 : 1));
    if (!keepItem(id)) continue;
    const associations: number[] = [];
    for (const value of raw) {
      const essential = value & (wide ? 0x8000 : 0x80);
      const index = value & (wide ? 0x7fff : 0x7f);
      if (index === 0) continue; // "no property": nothing to keep
      const target = newIndex[index - 1];
      if (target === undefined) throw new MalformedImageError(`item ${id} is associated with a missing property`);
      if (target === 0 && essential) throw new MalformedImageError(`item ${id} needs a property that cannot be kept`);
      if (target !== 0) associations.push(essential | target);
    }
    if (associations.length > 255) throw new MalformedImageError("too many property associations");
    const entry = new Uint8Array(idSize + 1 + associations.length * (wide ? 2 : 1));
    const dv = view(entry);
    if (idSize === 2) dv.setUint16(0, id);
    else dv.setUint32(0, id);
    entry[idSize] = associations.length;
    associations.forEach((value, n) => (wide ? dv.setUint16(idSize + 1 + n * 2, value) : dv.setUint8(idSize + 1 + n, value)));
    entries.push(entry);
  }
  const head = bytes.slice(box.payload, box.payload + 8);
  view(head).setUint32(4, entries.length);
  return makeBox("ipma", [head, ...entries]);
}
