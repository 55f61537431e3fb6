import { isIPv4, isIPv6 } from "node:net";

/**
 * The only form of an address Pixhaven keeps or logs: IPv4 with the last octet zeroed, IPv6
 * reduced to its /48 network. IPv4-mapped IPv6 addresses are treated as IPv4.
 */
export function anonymiseIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped ? mapped[1]! : ip;
  if (isIPv4(v4)) return v4.replace(/\.\d+$/, ".0");
  if (isIPv6(ip)) {
    const network = expandIpv6(ip).slice(0, 3);
    while (network.at(-1) === "0") network.pop(); // canonical form: trailing zero groups fold into "::"
    return `${network.join(":")}::`;
  }
  return "unknown";
}

function expandIpv6(ip: string): string[] {
  const [head = "", tail = ""] = ip.split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  return [...left, ...Array(Math.max(missing, 0)).fill("0"), ...right].map((g) => (parseInt(g, 16) || 0).toString(16));
}
