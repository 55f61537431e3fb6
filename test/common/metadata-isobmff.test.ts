import { describe, expect, it } from "vitest";

import { MalformedImageError, stripMetadata } from "../../src/common/metadata/index.js";
import { readBoxes, type Box } from "../../src/common/metadata/isobmff-boxes.js";
import { parseIloc } from "../../src/common/metadata/isobmff-iloc.js";
import { SECRETS } from "../fixtures/metadata.js";

/**
 * Hand-built HEIF containers exercising iloc layouts that encoders rarely
 * produce (8-byte offsets, version 2, idat-stored items) so offset rewriting
 * is proven on each of them.
 */

const IMAGE = Buffer.from("IMAGEDATA-0123456789-coded-av1-payload", "latin1");
const EXIF = Buffer.from(`\0\0\0\x06Exif\0\0II*\0${SECRETS.serial}`, "latin1");
const XMP = Buffer.from(`<x:xmpmeta>${SECRETS.xmp}</x:xmpmeta>`, "utf8");

function box(type: string, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length);
  head.write(type, 4, "latin1");
  return Buffer.concat([head, body]);
}

function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE((version << 24) | flags);
  return box(type, vf, ...parts);
}

function uint(size: number, value: number): Buffer {
  const b = Buffer.alloc(size);
  if (size === 2) b.writeUInt16BE(value);
  else if (size === 4) b.writeUInt32BE(value);
  else if (size === 8) b.writeBigUInt64BE(BigInt(value));
  return b;
}

interface Layout {
  version: 0 | 1 | 2;
  offsetSize: 4 | 8;
  baseOffsetSize: 0 | 4 | 8;
  /** Address mdat items through base_offset rather than extent_offset. */
  useBase: boolean;
  exifMethod?: number;
  primary?: number;
  extraTopLevel?: Buffer;
}

function item(layout: Layout, id: number, method: number, location: number, length: number): Buffer {
  const idSize = layout.version === 2 ? 4 : 2;
  const base = layout.useBase && method === 0 ? location : 0;
  return Buffer.concat([
    uint(idSize, id),
    uint(2, method),
    uint(2, 0),
    uint(layout.baseOffsetSize, base),
    uint(2, 1),
    uint(layout.offsetSize, location - base),
    uint(4, length),
  ]);
}

function infe(id: number, type: string, contentType?: string): Buffer {
  const tail = contentType === undefined ? "\0" : `\0${contentType}\0`;
  return fullBox("infe", 2, 0, uint(2, id), uint(2, 0), Buffer.from(type + tail, "latin1"));
}

function meta(layout: Layout, mdatPayload: number): Buffer {
  const sizes = Buffer.from([(layout.offsetSize << 4) | 4, layout.baseOffsetSize << 4]);
  const exifMethod = layout.exifMethod ?? 1;
  const iloc = fullBox(
    "iloc",
    layout.version,
    0,
    sizes,
    uint(layout.version === 2 ? 4 : 2, 3),
    item(layout, 1, 0, mdatPayload, IMAGE.length),
    item(layout, 2, exifMethod, 0, EXIF.length),
    item(layout, 3, 0, mdatPayload + IMAGE.length, XMP.length),
  );
  return fullBox(
    "meta",
    0,
    0,
    fullBox("hdlr", 0, 0, uint(4, 0), Buffer.from("pict"), Buffer.alloc(13)),
    fullBox("pitm", 0, 0, uint(2, layout.primary ?? 1)),
    iloc,
    fullBox("iinf", 0, 0, uint(2, 3), infe(1, "av01"), infe(2, "Exif"), infe(3, "mime", "application/rdf+xml")),
    fullBox("iref", 0, 0, box("cdsc", uint(2, 2), uint(2, 1), uint(2, 1)), box("cdsc", uint(2, 3), uint(2, 1), uint(2, 1))),
    box("iprp", box("ipco", box("ispe", Buffer.alloc(12))), fullBox("ipma", 0, 0, uint(4, 2), Buffer.from([0, 1, 1, 0x81, 0, 2, 0]))),
    box("idat", EXIF),
  );
}

function heif(layout: Layout): Buffer {
  const ftyp = box("ftyp", Buffer.from("avif\0\0\0\0mif1avif", "latin1"));
  const metaSize = meta(layout, 0).length;
  const mdatPayload = ftyp.length + metaSize + 8;
  return Buffer.concat([ftyp, meta(layout, mdatPayload), box("mdat", IMAGE, XMP), layout.extraTopLevel ?? Buffer.alloc(0)]);
}

function metaChildren(file: Uint8Array): Map<string, Box> {
  const top = readBoxes(file, 0, file.length);
  const metaBox = top.find((b) => b.type === "meta")!;
  return new Map(readBoxes(file, metaBox.payload + 4, metaBox.end).map((b) => [b.type, b]));
}

describe("stripMetadata: ISOBMFF item layouts", () => {
  it.each<Layout>([
    { version: 0, offsetSize: 4, baseOffsetSize: 0, useBase: false, exifMethod: 0 },
    { version: 1, offsetSize: 4, baseOffsetSize: 4, useBase: false },
    { version: 1, offsetSize: 8, baseOffsetSize: 8, useBase: true },
    { version: 2, offsetSize: 8, baseOffsetSize: 0, useBase: false },
    { version: 2, offsetSize: 4, baseOffsetSize: 4, useBase: true },
  ])("P7: removes Exif and XMP items and re-addresses image data (%o)", (layout) => {
    const input = layout.exifMethod === 0 ? heifWithExifInMdat(layout) : heif(layout);
    const { bytes, removed } = stripMetadata(input, "avif");

    expect(removed).toEqual(["EXIF", "XMP"]);
    const text = Buffer.from(bytes).toString("latin1");
    expect(text).not.toContain(SECRETS.serial);
    expect(text).not.toContain(SECRETS.xmp);
    expect(text).not.toContain("application/rdf+xml");
    expect(text).not.toContain("cdsc");

    const children = metaChildren(bytes);
    const iloc = parseIloc(bytes, children.get("iloc")!);
    expect(iloc.items.map((i) => i.id)).toEqual([1]);
    const only = iloc.items[0]!;
    const at = only.baseOffset + only.extents[0]!.offset;
    expect(Buffer.from(bytes.subarray(at, at + IMAGE.length))).toEqual(IMAGE);
    // ipma is the last box in iprp: one entry left, item 1 with its single association.
    const iprp = children.get("iprp")!;
    expect(Buffer.from(bytes.subarray(iprp.end - 8, iprp.end))).toEqual(Buffer.from([0, 0, 0, 1, 0, 1, 1, 0x81]));
  });

  it("refuses image sequences, derived metadata items and metadata as the primary item", () => {
    const base: Layout = { version: 1, offsetSize: 4, baseOffsetSize: 4, useBase: false };
    const withMoov = heif({ ...base, extraTopLevel: box("moov", Buffer.alloc(8)) });
    expect(() => stripMetadata(withMoov, "avif")).toThrow(/image sequences/);
    expect(() => stripMetadata(heif({ ...base, exifMethod: 2 }), "avif")).toThrow(/built from other items/);
    expect(() => stripMetadata(heif({ ...base, primary: 2 }), "avif")).toThrow(/primary item/);
    expect(() => stripMetadata(heif({ ...base, primary: 2 }), "avif")).toThrow(MalformedImageError);
  });
});

/** Same container, but the Exif payload sits in mdat (construction method 0). */
function heifWithExifInMdat(layout: Layout): Buffer {
  const ftyp = box("ftyp", Buffer.from("avif\0\0\0\0mif1avif", "latin1"));
  const build = (mdatPayload: number): Buffer => {
    const sizes = Buffer.from([(layout.offsetSize << 4) | 4, layout.baseOffsetSize << 4]);
    const items = [
      item(layout, 1, 0, mdatPayload, IMAGE.length),
      item(layout, 2, 0, mdatPayload + IMAGE.length, EXIF.length),
      item(layout, 3, 0, mdatPayload + IMAGE.length + EXIF.length, XMP.length),
    ].map((entry) => Buffer.concat([entry.subarray(0, 2), entry.subarray(4)])); // version 0 has no construction_method
    return fullBox(
      "meta",
      0,
      0,
      fullBox("pitm", 0, 0, uint(2, 1)),
      fullBox("iloc", 0, 0, sizes, uint(2, 3), ...items),
      fullBox("iinf", 0, 0, uint(2, 3), infe(1, "av01"), infe(2, "Exif"), infe(3, "mime", "application/rdf+xml")),
      fullBox("iref", 0, 0, box("cdsc", uint(2, 2), uint(2, 1), uint(2, 1)), box("cdsc", uint(2, 3), uint(2, 1), uint(2, 1))),
      box("iprp", box("ipco", box("ispe", Buffer.alloc(12))), fullBox("ipma", 0, 0, uint(4, 2), Buffer.from([0, 1, 1, 0x81, 0, 2, 0]))),
    );
  };
  const mdatPayload = ftyp.length + build(0).length + 8;
  return Buffer.concat([ftyp, build(mdatPayload), box("mdat", IMAGE, EXIF, XMP)]);
}
