import { describe, expect, it } from "vitest";
import { StartPacer } from "../../src/jobs/start-pacer.js";

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe("StartPacer", () => {
  it("lets starts through one at a time, and yields to the event loop between slices", async () => {
    const pacer = new StartPacer();
    const order: string[] = [];
    // Ten starts of 4 ms each: about 10 ms of them per turn, so other work runs in between.
    const starts = Array.from({ length: 10 }, async (_, i) => {
      await pacer.turn();
      order.push(`start ${i}`);
      busy(4);
      pacer.started();
    });
    setImmediate(() => order.push("other work"));
    await Promise.all(starts);
    const other = order.indexOf("other work");
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThan(5);
    expect(order.filter((e) => e.startsWith("start"))).toEqual(
      Array.from({ length: 10 }, (_, i) => `start ${i}`),
    );
  });

  it("starts at once when nothing else is starting", async () => {
    const pacer = new StartPacer();
    let started = false;
    const turn = pacer.turn().then(() => (started = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toBe(true);
    pacer.started();
    await turn;
  });
});
