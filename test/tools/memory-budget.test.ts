import { describe, expect, it } from "vitest";
import { MemoryBudget } from "../../src/tools/memory-budget.js";

const later = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("MemoryBudget", () => {
  it("never lets reservations in use exceed its capacity, and serves waiters in arrival order", async () => {
    const budget = new MemoryBudget(100);
    let peak = 0;
    const order: string[] = [];
    const job = (name: string, bytes: number) =>
      budget.run(bytes, async () => {
        order.push(name);
        peak = Math.max(peak, budget.inUse);
        await later();
      });
    await Promise.all([job("a", 60), job("b", 60), job("c", 10), job("d", 40)]);
    expect(peak).toBeLessThanOrEqual(100);
    // c would fit beside a, but b arrived first: a large decode is never starved by small ones.
    expect(order).toEqual(["a", "b", "c", "d"]);
    expect(budget.inUse).toBe(0);
  });

  it("returns the reservation when the task fails", async () => {
    const budget = new MemoryBudget(10);
    await expect(budget.run(10, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(budget.inUse).toBe(0);
    expect(budget.fits(11)).toBe(false);
  });
});
