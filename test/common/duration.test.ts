import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/common/duration.js";

describe("durations", () => {
  it("reads the forms settings use", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("60m")).toBe(3_600_000);
    expect(parseDuration("72h")).toBe(259_200_000);
    expect(parseDuration("30d")).toBe(2_592_000_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration("45")).toBe(45_000);
    expect(parseDuration("250ms")).toBe(250);
  });

  it("refuses anything else with a message that shows the value", () => {
    for (const bad of ["", "soon", "10 minutes", "-5m", "5w"]) expect(() => parseDuration(bad)).toThrow(/not a duration/);
  });
});
