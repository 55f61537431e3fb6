import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { forbiddenReason } from "../../src/net/address-policy.js";

describe("URL import settings", () => {
  it("is on by default, with 20 s and no internal range allowed", () => {
    const { urlImport } = loadConfig({});
    expect(urlImport).toEqual({ enabled: true, timeoutMs: 20_000, allowList: [] });
  });

  it("reads the switch, the time limit and the allow list", () => {
    const { urlImport } = loadConfig({ URL_IMPORT: "off", URL_IMPORT_TIMEOUT: "5s", URL_IMPORT_ALLOW: "10.1.0.0/16, fd00::/8" });
    expect(urlImport.enabled).toBe(false);
    expect(urlImport.timeoutMs).toBe(5_000);
    expect(forbiddenReason("10.1.2.3", urlImport.allowList)).toBeNull();
    expect(forbiddenReason("fd00::5", urlImport.allowList)).toBeNull();
    expect(forbiddenReason("10.2.0.1", urlImport.allowList)).toBe("private");
  });

  it.each([
    [{ URL_IMPORT: "yes" }, "URL_IMPORT"],
    [{ URL_IMPORT_TIMEOUT: "soon" }, "URL_IMPORT_TIMEOUT"],
    [{ URL_IMPORT_ALLOW: "10.0.0.0/33" }, "URL_IMPORT_ALLOW"],
    [{ URL_IMPORT_ALLOW: "intranet" }, "URL_IMPORT_ALLOW"],
  ])("names the bad setting in %j", (env, name) => {
    expect(() => loadConfig(env)).toThrow(name);
  });
});
