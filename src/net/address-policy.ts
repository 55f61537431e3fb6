import { type Cidr, formatIp, inCidr, type IpAddress, parseCidr, parseIp } from "./ip.js";

/** Why an address is not one the server may fetch from on a user's behalf. */
export type ForbiddenReason =
  | "invalid"
  | "unspecified"
  | "loopback"
  | "private"
  | "link-local"
  | "carrier-grade-nat"
  | "multicast"
  | "broadcast"
  | "documentation"
  | "reserved";

export type AddressClass = "public" | ForbiddenReason;

type Rule = [cidr: string, reason: ForbiddenReason];

// IANA's special-purpose registries, reduced to what a public web server can never be.
const V4_RULES: Rule[] = [
  ["0.0.0.0/32", "unspecified"], // Linux connects 0.0.0.0 to this very host
  ["0.0.0.0/8", "reserved"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "carrier-grade-nat"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"], // cloud metadata services live here
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"], // IETF protocol assignments, NAT64 discovery
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "reserved"], // 6to4 relay anycast, deprecated
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"], // benchmarking
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["255.255.255.255/32", "broadcast"],
  ["240.0.0.0/4", "reserved"],
];

// Checked after the forms that embed an IPv4 address have been unwrapped (see classifyV6).
const V6_RULES: Rule[] = [
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["ff00::/8", "multicast"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "private"], // site-local, deprecated but still routed inside some sites
  ["fc00::/7", "private"],
  ["2001:db8::/32", "documentation"],
  ["3fff::/20", "documentation"],
  // Teredo (2001::/32), benchmarking, ORCHID: tunnels and non-routed experiments.
  ["2001::/23", "reserved"],
];

const compile = (rules: Rule[]) => rules.map(([cidr, reason]) => ({ cidr: parseCidr(cidr), reason }));
const V4 = compile(V4_RULES);
const V6 = compile(V6_RULES);
const GLOBAL_UNICAST_V6 = parseCidr("2000::/3");
const MAPPED = parseCidr("::ffff:0:0/96");
const NAT64 = parseCidr("64:ff9b::/96");
const SIX_TO_FOUR = parseCidr("2002::/16");

/**
 * Whether `ip` (a resolved or literal address in canonical text, as `parseIp` reads it) may be
 * fetched from by anyone on the internet's say-so. IPv6 forms that carry an IPv4 address (mapped,
 * NAT64, 6to4) are judged by the address they carry, since that is where the packets end up.
 */
export function classifyAddress(ip: string): AddressClass {
  const parsed = parseIp(ip);
  return parsed ? classify(parsed) : "invalid";
}

function classify(ip: IpAddress): AddressClass {
  if (ip.family === 4) return V4.find((r) => inCidr(ip, r.cidr))?.reason ?? "public";
  return classifyV6(ip);
}

function classifyV6(ip: IpAddress): AddressClass {
  const embedded = embeddedV4(ip);
  if (embedded) return classify(embedded);
  const rule = V6.find((r) => inCidr(ip, r.cidr));
  if (rule) return rule.reason;
  // Outside 2000::/3 nothing is assigned for global unicast (::/96 forms included: the
  // deprecated IPv4-compatible addresses are refused whatever they carry).
  return inCidr(ip, GLOBAL_UNICAST_V6) ? "public" : "reserved";
}

function embeddedV4(ip: IpAddress): IpAddress | null {
  if (inCidr(ip, MAPPED) || inCidr(ip, NAT64)) return { family: 4, value: ip.value & 0xffff_ffffn };
  if (inCidr(ip, SIX_TO_FOUR)) return { family: 4, value: (ip.value >> 80n) & 0xffff_ffffn };
  return null;
}

/**
 * The operator's exceptions (URL_IMPORT_ALLOW), e.g. an internal image server. An IPv4-mapped
 * address is matched as the IPv4 address it is. Addresses that name no single host (unspecified,
 * multicast, broadcast) stay refused whatever the list says.
 */
export function isAllowed(ip: string, allowList: readonly Cidr[]): boolean {
  const parsed = parseIp(ip);
  if (!parsed) return false;
  const verdict = classify(parsed);
  if (verdict === "unspecified" || verdict === "multicast" || verdict === "broadcast") return false;
  const candidates = inCidr(parsed, MAPPED) ? [parsed, { family: 4 as const, value: parsed.value & 0xffff_ffffn }] : [parsed];
  return allowList.some((cidr) => candidates.some((c) => inCidr(c, cidr)));
}

/** The verdict on one address: null when the fetch may connect to it, the reason otherwise. */
export function forbiddenReason(ip: string, allowList: readonly Cidr[]): ForbiddenReason | null {
  const verdict = classifyAddress(ip);
  if (verdict === "public" || isAllowed(ip, allowList)) return null;
  return verdict;
}

/**
 * The IP address a URL's host already is, in canonical form, or null when the host is a name to
 * resolve. `url` must come from the WHATWG URL parser, which has already turned every IPv4
 * spelling (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`, a trailing dot) into dotted decimal.
 */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const ip = parseIp(host);
  return ip ? formatIp(ip) : null;
}

/** Parses a list of ranges (URL_IMPORT_ALLOW, BLOCKED_NETWORKS): comma-separated; empty means none. Throws on a bad entry. */
export function parseAllowList(text: string): Cidr[] {
  return text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map(parseCidr);
}

export type { Cidr } from "./ip.js";
