import { MalformedJpegError } from "./errors.js";

/**
 * Zero bytes after the data, so the bit reader can fetch ahead without a bounds check per read:
 * more than one block's worst case (about 210 bytes) past where the reader checks.
 */
export const SLACK = 512;

/**
 * A scan's entropy-coded data with the stuffed zero bytes and restart markers taken out, so that
 * reading it needs no per-byte marker check. `ends[i]` is where restart interval i ends, and
 * `markers[i]` the number of the restart marker that followed it.
 */
export interface EntropyData {
  data: Uint8Array;
  ends: number[];
  markers: number[];
}

/**
 * The data's memory is kept for the next scan in this thread, up to this size: a fresh buffer each
 * time is fresh pages to fault in (with the server's 128 KiB mmap threshold, several milliseconds
 * for a 12 MP photo). Only the slack must be zero, and it is cleared on each use.
 */
const KEEP_BYTES = 32 * 1024 * 1024;
let spare: Uint8Array | undefined;

/** The scan's data is valid until the next call in this thread. */
export function unstuff(bytes: Uint8Array, start: number, end: number): EntropyData {
  const size = end - start + SLACK;
  let data = spare && spare.length >= size ? spare : new Uint8Array(size);
  if (data !== spare && size <= KEEP_BYTES) spare = data;
  const ends: number[] = [];
  const markers: number[] = [];
  let length = 0;
  let from = start;
  for (;;) {
    const ff = bytes.indexOf(0xff, from);
    const stop = ff < 0 || ff >= end ? end : ff;
    data.set(bytes.subarray(from, stop), length);
    length += stop - from;
    if (stop === end) break;
    const next = bytes[ff + 1];
    if (next === 0x00) {
      data[length++] = 0xff;
      from = ff + 2;
    } else if (next !== undefined && next >= 0xd0 && next <= 0xd7 && ff + 1 < end) {
      ends.push(length);
      markers.push(next - 0xd0);
      from = ff + 2;
    } else if (next === 0xff) {
      from = ff + 1; // fill byte before a marker
    } else {
      throw new MalformedJpegError("unexpected marker inside entropy-coded data");
    }
  }
  ends.push(length);
  data = data.subarray(0, length + SLACK);
  data.fill(0, length);
  return { data, ends, markers };
}
