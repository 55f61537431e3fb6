import { describe, expect, it } from "vitest";

import { MalformedImageError, stripMetadata } from "../../src/common/metadata/index.js";
import { readBoxes } from "../../src/common/metadata/isobmff-boxes.js";
import { parseIloc } from "../../src/common/metadata/isobmff-iloc.js";
import { CREATOR, box } from "../fixtures/metadata-attacks.js";

/** Hand-built HEIF containers for the item rules no encoder output exercises. */

const MAIN = Buffer.from("MAIN-IMAGE-coded-av1-payload", "latin1");
const THUMB = Buffer.from(`THUMB-before-crop-${CREATOR}`, "latin1");
const THUMB_ALPHA = Buffer.from(`THUMB-ALPHA-${CREATOR}`, "latin1");

function fullBox(type: string, version: number, ...parts: Uint8Array[]): Buffer {
  return box(type, Buffer.from([version, 0, 0, 0]), ...parts);
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

interface Item {
  id: number;
  type: string;
  data: Buffer;
  contentType?: string;
}

interface Options {
  items: Item[];
  refs: [type: string, from: number, to: number][];
  properties?: Buffer[];
  /** [item, property index with the essential bit as 0x80] */
  associations?: [number, number][];
}

function heif({ items, refs, properties = [box("ispe", Buffer.alloc(12))], associations = [[1, 0x81]] }: Options): Buffer {
  const ftyp = box("ftyp", Buffer.from("avif\0\0\0\0mif1avif", "latin1"));
  const build = (mdatPayload: number): Buffer => {
    let at = mdatPayload;
    const locations = items.map((item) => {
      const entry = Buffer.concat([u16(item.id), u16(0), u16(1), u32(at), u32(item.data.length)]);
      at += item.data.length;
      return entry;
    });
    const infes = items.map((item) =>
      fullBox("infe", 2, u16(item.id), u16(0), Buffer.from(item.type + "\0" + (item.contentType === undefined ? "" : `${item.contentType}\0`), "latin1")),
    );
    const ipma = fullBox("ipma", 0, u32(associations.length), ...associations.map(([id, prop]) => Buffer.concat([u16(id), Buffer.from([1, prop])])));
    return fullBox(
      "meta",
      0,
      fullBox("hdlr", 0, u32(0), Buffer.from("pict"), Buffer.alloc(13)),
      fullBox("pitm", 0, u16(1)),
      fullBox("iloc", 0, Buffer.from([0x44, 0x00]), u16(items.length), ...locations),
      fullBox("iinf", 0, u16(items.length), ...infes),
      fullBox("iref", 0, ...refs.map(([type, from, to]) => box(type, u16(from), u16(1), u16(to)))),
      box("iprp", box("ipco", ...properties), ipma),
    );
  };
  const mdatPayload = ftyp.length + build(0).length + 8;
  return Buffer.concat([ftyp, build(mdatPayload), box("mdat", ...items.map((item) => item.data))]);
}

function has(bytes: Uint8Array, text: string): boolean {
  return Buffer.from(bytes).includes(text, 0, "latin1");
}

function mainImageOf(file: Uint8Array): Buffer {
  const top = readBoxes(file, 0, file.length);
  const meta = top.find((b) => b.type === "meta")!;
  const iloc = parseIloc(file, readBoxes(file, meta.payload + 4, meta.end).find((b) => b.type === "iloc")!);
  const main = iloc.items.find((i) => i.id === 1)!;
  const at = main.baseOffset + main.extents[0]!.offset;
  return Buffer.from(file.subarray(at, at + main.extents[0]!.length));
}

describe("stripMetadata: AVIF items", () => {
  it("P7: a thumbnail item and its alpha plane are removed; the main image stays addressable", () => {
    const input = heif({
      items: [
        { id: 1, type: "av01", data: MAIN },
        { id: 2, type: "av01", data: THUMB },
        { id: 3, type: "av01", data: THUMB_ALPHA },
      ],
      refs: [
        ["thmb", 2, 1],
        ["auxl", 3, 2],
      ],
      associations: [[1, 0x81], [2, 0x81], [3, 0x81]],
    });
    const { bytes, removed } = stripMetadata(input, "avif");
    expect(removed).toEqual(["thumbnail"]);
    expect(has(bytes, CREATOR) || has(bytes, "thmb") || has(bytes, "auxl")).toBe(false);
    expect(mainImageOf(bytes)).toEqual(MAIN);
  });

  it("P7: a C2PA manifest item and a private property are removed", () => {
    const input = heif({
      items: [
        { id: 1, type: "av01", data: MAIN },
        { id: 2, type: "mime", data: Buffer.from(CREATOR), contentType: "application/c2pa" },
      ],
      refs: [["cdsc", 2, 1]],
      properties: [box("zzzz", Buffer.from(CREATOR)), box("ispe", Buffer.alloc(12))],
      associations: [[1, 0x02]],
    });
    const { bytes, removed } = stripMetadata(input, "avif");
    expect(removed).toEqual(["C2PA content credentials", "unrecognised data"]);
    expect(has(bytes, CREATOR) || has(bytes, "zzzz")).toBe(false);
    expect(mainImageOf(bytes)).toEqual(MAIN);
  });

  it("refuses unknown item types and dropping a property marked essential, so the file is re-encoded", () => {
    const unknownItem = heif({ items: [{ id: 1, type: "av01", data: MAIN }, { id: 2, type: "hvc1", data: THUMB }], refs: [["cdsc", 2, 1]] });
    expect(() => stripMetadata(unknownItem, "avif")).toThrow(MalformedImageError);
    const essentialUnknown = heif({
      items: [{ id: 1, type: "av01", data: MAIN }],
      refs: [["cdsc", 1, 1]],
      properties: [box("zzzz", Buffer.alloc(4))],
      associations: [[1, 0x81]],
    });
    expect(() => stripMetadata(essentialUnknown, "avif")).toThrow(/cannot be kept/);
  });

  it("refuses an image sequence whose moov carries user data", () => {
    const still = heif({ items: [{ id: 1, type: "av01", data: MAIN }], refs: [["cdsc", 1, 1]] });
    const moov = box("moov", box("mvhd", Buffer.alloc(100)), box("udta", box("\xa9xyz", Buffer.from("+48.85+002.35/"))));
    expect(() => stripMetadata(Buffer.concat([still, moov]), "avif")).toThrow(/image sequences/);
  });
});
