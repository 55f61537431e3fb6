/**
 * CRC-32 (ISO 3309, the polynomial PNG and zlib use), pure TypeScript so the
 * browser can run it too. It checks every chunk of every uploaded PNG, so it
 * reads eight bytes per step through eight derived tables ("slicing by 8"),
 * several times faster in V8 than the classic one-table loop.
 */

const TABLES = buildTables();

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    first[n] = c >>> 0;
  }
  // Table k gives the CRC contribution of a byte followed by k zero bytes.
  for (let k = 1; k < 8; k++) {
    const previous = tables[k - 1]!;
    const current = tables[k]!;
    for (let n = 0; n < 256; n++) current[n] = (first[previous[n]! & 0xff]! ^ (previous[n]! >>> 8)) >>> 0;
  }
  return tables;
}

/** Continues `crc` (0 to start) over `bytes[from, to)`. */
export function crc32(bytes: Uint8Array, crc = 0, from = 0, to = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc;
  let i = from;
  for (const stop = to - 7; i < stop; i += 8) {
    const low = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t7[low & 0xff]! ^
      t6[(low >>> 8) & 0xff]! ^
      t5[(low >>> 16) & 0xff]! ^
      t4[low >>> 24]! ^
      t3[bytes[i + 4]!]! ^
      t2[bytes[i + 5]!]! ^
      t1[bytes[i + 6]!]! ^
      t0[bytes[i + 7]!]!;
  }
  for (; i < to; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
