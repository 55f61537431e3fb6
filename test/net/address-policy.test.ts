import { describe, expect, it } from "vitest";
import { classifyAddress, forbiddenReason, isAllowed, literalAddress, parseAllowList } from "../../src/net/address-policy.js";
import { formatIp, parseIp } from "../../src/net/ip.js";

// Addresses here are only classified; nothing in this file opens a connection.

/** What the fetcher does with a URL whose host is an address: the URL parser first, then the check. */
const verdictForUrl = (url: string) => {
  const ip = literalAddress(new URL(url));
  if (ip === null) throw new Error(`${url} has a name, not an address`);
  return classifyAddress(ip);
};

describe("IPv4 ranges", () => {
  it.each([
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "reserved"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["100.64.0.1", "carrier-grade-nat"],
    ["100.127.255.254", "carrier-grade-nat"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.169.254", "link-local"],
    ["169.254.0.1", "link-local"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.0.0.170", "reserved"],
    ["192.0.2.1", "documentation"],
    ["192.88.99.1", "reserved"],
    ["192.168.1.1", "private"],
    ["198.18.0.1", "reserved"],
    ["198.19.255.255", "reserved"],
    ["198.51.100.7", "documentation"],
    ["203.0.113.9", "documentation"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
  ])("%s is refused as %s", (ip, reason) => {
    expect(classifyAddress(ip)).toBe(reason);
  });

  it.each(["93.184.216.34", "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "169.253.255.255", "192.0.1.255", "198.20.0.0", "223.255.255.255"])(
    "%s is public",
    (ip) => {
      expect(classifyAddress(ip)).toBe("public");
    },
  );
});

describe("IPv6 ranges", () => {
  it.each([
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["fe80::1", "link-local"],
    ["FE80::ABCD", "link-local"],
    ["febf:ffff::1", "link-local"],
    ["fec0::1", "private"],
    ["fc00::1", "private"],
    ["fd12:3456:789a::1", "private"],
    ["ff02::1", "multicast"],
    ["FF05::1:3", "multicast"],
    ["2001:db8::1", "documentation"],
    ["3fff::1", "documentation"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"], // Teredo
    ["2001:2::1", "reserved"], // benchmarking
    ["100::1", "reserved"], // discard-only
    ["64:ff9b:1::1", "reserved"], // local-use NAT64
    ["5f00::1", "reserved"], // outside global unicast
  ])("%s is refused as %s", (ip, reason) => {
    expect(classifyAddress(ip)).toBe(reason);
  });

  it.each(["2606:4700::1", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e", "2001:4860:4860::8888"])("%s is public", (ip) => {
    expect(classifyAddress(ip)).toBe("public");
  });

  it("ignores a zone id but still judges the address", () => {
    expect(classifyAddress("fe80::1%eth0")).toBe("link-local");
    expect(classifyAddress("::1%lo")).toBe("loopback");
    expect(classifyAddress("ff02::1%1")).toBe("multicast");
  });
});

describe("IPv6 forms that carry an IPv4 address are judged by it", () => {
  it.each([
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::FFFF:7F00:0001", "loopback"],
    ["0:0:0:0:0:ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["64:ff9b::127.0.0.1", "loopback"],
    ["64:ff9b::a9fe:a9fe", "link-local"],
    ["64:ff9b::c0a8:101", "private"],
    ["2002:7f00:1::", "loopback"],
    ["2002:a9fe:a9fe::1", "link-local"],
    ["2002:c0a8:0101:1::1", "private"],
    ["2002:0a00:0001::", "private"],
  ])("%s is refused as %s", (ip, reason) => {
    expect(classifyAddress(ip)).toBe(reason);
  });

  it("refuses IPv4-compatible addresses whatever they carry, as that form is deprecated", () => {
    expect(classifyAddress("::127.0.0.1")).toBe("reserved");
    expect(classifyAddress("::7f00:1")).toBe("reserved");
    expect(classifyAddress("::93.184.216.34")).toBe("reserved");
  });

  it("lets mapped, NAT64 and 6to4 forms of public addresses through", () => {
    expect(classifyAddress("::ffff:93.184.216.34")).toBe("public");
    expect(classifyAddress("64:ff9b::5db8:d822")).toBe("public");
    expect(classifyAddress("2002:5db8:d822::1")).toBe("public");
  });
});

describe("URL host spellings, normalised by the URL parser and then judged", () => {
  it.each([
    ["http://127.0.0.1/", "loopback"],
    ["http://2130706433/", "loopback"],
    ["http://0177.0.0.1/", "loopback"],
    ["http://0x7f.1/", "loopback"],
    ["http://0x7F000001/", "loopback"],
    ["http://127.1/", "loopback"],
    ["http://127.0.1/", "loopback"],
    ["http://127.0.0.1./", "loopback"],
    ["http://0/", "unspecified"],
    ["http://0x0/", "unspecified"],
    ["http://169.254.169.254/latest/meta-data/", "link-local"],
    ["http://2852039166/", "link-local"],
    ["http://0xa9.0xfe.0xa9.0xfe/", "link-local"],
    ["http://012.1/", "private"],
    ["http://[::1]/", "loopback"],
    ["http://[0:0::1]:8080/", "loopback"],
    ["http://[::ffff:127.0.0.1]/", "loopback"],
    ["http://[::ffff:7f00:1]/", "loopback"],
    ["http://[::FFFF:7F00:1]/", "loopback"],
    ["http://[64:ff9b::7f00:1]/", "loopback"],
    ["http://[2002:7f00:1::]/", "loopback"],
    ["http://[FE80::1]/", "link-local"],
    ["https://[fd00::1]:443/", "private"],
    ["http://[::]/", "unspecified"],
    ["http://１２７.０.０.１/", "loopback"], // full-width digits
    ["http://%31%32%37.0.0.1/", "loopback"], // percent-encoded
    ["http://0x7f%2e1/", "loopback"],
  ])("%s is refused as %s", (url, reason) => {
    expect(verdictForUrl(url)).toBe(reason);
  });

  it("judges public literals as public", () => {
    expect(verdictForUrl("http://93.184.216.34/")).toBe("public");
    expect(verdictForUrl("http://1572395042/")).toBe("public"); // 93.184.216.34
    expect(verdictForUrl("https://[2606:4700::1]/a.png")).toBe("public");
  });

  it("leaves names to the resolver, trailing dot or not", () => {
    expect(literalAddress(new URL("http://localhost./"))).toBeNull();
    expect(literalAddress(new URL("http://example.com/"))).toBeNull();
  });

  it("rejects malformed hosts at the URL parser, never reaching the check", () => {
    expect(() => new URL("http://1.2.3.4.5/")).toThrow();
    expect(() => new URL("http://[fe80::1%25eth0]/")).toThrow();
    expect(() => new URL("http://256.0.0.1/")).toThrow();
  });
});

describe("addresses that are not canonical text are refused, not guessed at", () => {
  it.each(["127.1", "0177.0.0.1", "2130706433", "0x7f.0.0.1", "127.000.0.1", "1.2.3.256", "", "localhost", "::1::", "1:2:3:4:5:6:7:8:9", "[::1]", "::ffff:127.1", "g::1"])(
    "%j is invalid",
    (ip) => {
      expect(classifyAddress(ip)).toBe("invalid");
    },
  );
});

describe("allow list", () => {
  const allow = parseAllowList(" 127.0.0.1/32, 10.0.0.0/8 ,fd00::/8, 192.168.5.7");

  it("opens the ranges an operator lists, and only those", () => {
    expect(forbiddenReason("127.0.0.1", allow)).toBeNull();
    expect(forbiddenReason("127.0.0.2", allow)).toBe("loopback");
    expect(forbiddenReason("10.20.30.40", allow)).toBeNull();
    expect(forbiddenReason("fd12::1", allow)).toBeNull();
    expect(forbiddenReason("fc00::1", allow)).toBe("private");
    expect(forbiddenReason("192.168.5.7", allow)).toBeNull();
    expect(forbiddenReason("192.168.5.8", allow)).toBe("private");
    expect(forbiddenReason("::1", allow)).toBe("loopback");
    expect(forbiddenReason("169.254.169.254", allow)).toBe("link-local");
  });

  it("matches an IPv4-mapped address as its IPv4 address, but not NAT64 or 6to4 forms", () => {
    expect(isAllowed("::ffff:127.0.0.1", allow)).toBe(true);
    expect(isAllowed("::ffff:7f00:2", allow)).toBe(false);
    expect(isAllowed("64:ff9b::7f00:1", allow)).toBe(false);
    expect(isAllowed("2002:7f00:1::", allow)).toBe(false);
  });

  it("never opens addresses that name no single host", () => {
    const everything = parseAllowList("0.0.0.0/0,::/0");
    expect(forbiddenReason("10.0.0.1", everything)).toBeNull();
    expect(forbiddenReason("0.0.0.0", everything)).toBe("unspecified");
    expect(forbiddenReason("::", everything)).toBe("unspecified");
    expect(forbiddenReason("224.0.0.1", everything)).toBe("multicast");
    expect(forbiddenReason("255.255.255.255", everything)).toBe("broadcast");
    expect(forbiddenReason("ff02::1", everything)).toBe("multicast");
    expect(forbiddenReason("not-an-ip", everything)).toBe("invalid");
  });

  it("leaves public addresses allowed with an empty list", () => {
    expect(parseAllowList("")).toEqual([]);
    expect(forbiddenReason("93.184.216.34", [])).toBeNull();
    expect(forbiddenReason("2606:4700::1", [])).toBeNull();
  });

  it.each(["10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0/8", "localhost/8", "10.0.0.0/8/8", "fe80::1%eth0/64", "10.0.0.0/-1"])("refuses the bad entry %j", (entry) => {
    expect(() => parseAllowList(entry)).toThrow();
  });

  it("clears host bits, so 10.1.2.3/8 means 10.0.0.0/8", () => {
    expect(forbiddenReason("10.200.0.1", parseAllowList("10.1.2.3/8"))).toBeNull();
  });
});

describe("canonical text", () => {
  it.each([
    ["::1", "::1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2606:4700:0:0:0:0:0:1", "2606:4700::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ["::ffff:127.0.0.1", "::ffff:7f00:1"],
    ["fe80::1%eth0", "fe80::1"],
    ["192.0.2.1", "192.0.2.1"],
  ])("%s is written %s", (input, output) => {
    expect(formatIp(parseIp(input)!)).toBe(output);
  });
});
