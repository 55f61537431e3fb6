import { MalformedImageError, fourcc } from "./bytes.js";
import { readBoxes, type Box } from "./isobmff-boxes.js";

/** Top-level boxes of a still AVIF (ftyp, meta, mdat) and of an image sequence (moov). */
export const RENDERING_TOP_LEVEL = new Set(["ftyp", "meta", "mdat", "moov"]);
/** What a still image's meta box holds for a decoder. */
export const RENDERING_META_CHILDREN = new Set(["hdlr", "dinf", "pitm", "iloc", "iinf", "iref", "iprp", "idat", "grpl"]);

const C2PA_UUID = "d8fec3d61b0e483c92975828877ec481";

/** The removal label of a box that is not kept; undefined for padding that holds only zeros. */
export function droppedBoxLabel(bytes: Uint8Array, box: Box): string | undefined {
  switch (box.type) {
    case "uuid":
      return hex(bytes.subarray(box.payload - 16, box.payload)) === C2PA_UUID ? "C2PA content credentials" : "unrecognised data";
    case "jumb":
      return "C2PA content credentials";
    case "xml ":
    case "bxml":
      return "XMP";
    case "free":
    case "skip":
      return bytes.subarray(box.payload, box.end).some((b) => b !== 0) ? "unrecognised data" : undefined;
    default:
      return "unrecognised data";
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const SEQUENCE_CONTAINERS = new Set(["moov", "trak", "mdia", "minf", "stbl", "dinf", "edts"]);
const SEQUENCE_LEAVES = new Set([
  "mvhd", "tkhd", "tref", "elst", "mdhd", "hdlr", "vmhd", "nmhd", "dref", "stsd", "stts", "stss", "stsc",
  "stsz", "stz2", "stco", "co64", "ctts", "sdtp", "sbgp", "sgpd", "cslg", "subs", "saiz", "saio",
]); // prettier-ignore

/**
 * An image sequence's moov box holds only the track structure a player
 * needs; user data (udta, where cameras put GPS), metadata and unknown boxes
 * would need its sample offsets rewritten, so such files are refused and the
 * caller re-encodes them.
 */
export function checkSequence(bytes: Uint8Array, box: Box): void {
  for (const child of readBoxes(bytes, box.payload, box.end)) {
    if (SEQUENCE_CONTAINERS.has(child.type)) checkSequence(bytes, child);
    else if (!SEQUENCE_LEAVES.has(child.type)) {
      throw new MalformedImageError(`image sequences carrying '${fourcc(bytes, child.start + 4)}' boxes are not rewritten`);
    }
  }
}
