import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/common/clock.js";
import { ViewCounter } from "../../src/images/views.js";

describe("ViewCounter", () => {
  it("counts a visitor once per image per UTC day", () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 1, 23, 59));
    const views = new ViewCounter(clock);
    expect(views.shouldCount("img1", "198.51.100.7", "ua")).toBe(true);
    expect(views.shouldCount("img1", "198.51.100.7", "ua")).toBe(false);
    expect(views.shouldCount("img2", "198.51.100.7", "ua")).toBe(true);
    expect(views.shouldCount("img1", "198.51.100.7", "other ua")).toBe(true);
    clock.advance(60_000); // past midnight UTC
    expect(views.shouldCount("img1", "198.51.100.7", "ua")).toBe(true);
  });

  it("treats hosts of one anonymised network with one browser as one visitor", () => {
    const views = new ViewCounter(new ManualClock());
    expect(views.shouldCount("img", "198.51.100.7", "ua")).toBe(true);
    expect(views.shouldCount("img", "198.51.100.99", "ua")).toBe(false);
    expect(views.shouldCount("img", "198.51.101.7", "ua")).toBe(true);
  });
});
