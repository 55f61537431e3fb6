/**
 * IP addresses as numbers, so that ranges are compared arithmetically rather than as text: text
 * comparisons are where the many spellings of one address slip through.
 */
export interface IpAddress {
  family: 4 | 6;
  /** 32 bits for IPv4, 128 for IPv6 */
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** the address with its host bits cleared */
  base: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

/**
 * Parses a canonical address as resolvers and the URL parser give it: dotted decimal IPv4 (exactly
 * four parts, no leading zeros), or IPv6 with an optional dotted tail and an optional zone id,
 * which is dropped. Anything else is null: the loose IPv4 spellings (`0x7f.1`, `2130706433`) are
 * the URL parser's to normalise, and refusing them here keeps this check from guessing.
 */
export function parseIp(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(text.replace(/%[^%]*$/, ""));
  return v6 === null ? null : { family: 6, value: v6 };
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const groups = halves.map((half) => (half === "" ? [] : half.split(":")));
  const tail = groups[groups.length - 1]!;
  const last = tail[tail.length - 1];
  if (last?.includes(".")) {
    const v4 = parseIpv4(last);
    if (v4 === null) return null;
    tail.splice(-1, 1, (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
  }
  const count = groups.reduce((n, g) => n + g.length, 0);
  if (halves.length === 1 ? count !== 8 : count > 7) return null;
  const words = [...groups[0]!, ...Array<string>(8 - count).fill("0"), ...(groups[1] ?? [])];
  let value = 0n;
  for (const word of words) {
    if (!/^[0-9a-f]{1,4}$/.test(word)) return null;
    value = (value << 16n) | BigInt(`0x${word}`);
  }
  return value;
}

/** "10.0.0.0/8", "fc00::/7", or a single address (a /32 or /128); throws on anything else. */
export function parseCidr(text: string): Cidr {
  const [addr = "", prefixText, ...rest] = text.trim().split("/");
  const ip = parseIp(addr);
  if (!ip || addr.includes("%") || rest.length > 0) throw new Error(`not an address range: "${text}" (use e.g. 10.0.0.0/8 or fd00::/8)`);
  const bits = BITS[ip.family];
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) throw new Error(`bad prefix length in "${text}": use 0 to ${bits}`);
  return { family: ip.family, base: ip.value & mask(bits, prefix), prefix };
}

export function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  return ip.family === cidr.family && (ip.value & mask(BITS[ip.family], cidr.prefix)) === cidr.base;
}

/** Whether a client's address (as a socket or a proxy gives it; IPv4-mapped IPv6 is read as IPv4) lies in one of `cidrs`. */
export function inAnyCidr(text: string, cidrs: readonly Cidr[]): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  const ip = parseIp(mapped ? mapped[1]! : text);
  return ip !== null && cidrs.some((cidr) => inCidr(ip, cidr));
}

function mask(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/** The canonical text of an address, as a socket is given it. */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join(".");
  const words = Array.from({ length: 8 }, (_, i) => ((ip.value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // The longest run of two or more zero words becomes "::" (RFC 5952).
  let best = { at: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return words.join(":");
  return `${words.slice(0, best.at).join(":")}::${words.slice(best.at + best.length).join(":")}`;
}
