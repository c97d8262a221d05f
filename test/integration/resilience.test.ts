import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { delay, sc, textOf, type StartedGateway } from "../helpers/gateway.js";

let lane: FakeLane;
let gw: StartedGateway;

beforeAll(async () => {
  lane = await startFakeLane({
    LLM_GATEWAY_RETRY_MAX_ATTEMPTS: "3",
    LLM_GATEWAY_RETRY_BASE_DELAY_MS: "20",
    LLM_GATEWAY_BREAKER_THRESHOLD: "3",
    LLM_GATEWAY_BREAKER_COOLDOWN_MS: "1500",
  });
  gw = lane.gw;
});
afterAll(() => lane.close());
beforeEach(() => lane.reset());

const breaker = async (cli: string) => sc(await gw.call("list_models", { cli })).clis[cli].breaker;

describe("retries over MCP", () => {
  it("a transient failure that outlives the CLI's own retries is retried, and the retry counted", async () => {
    const r = await gw.call("gemini_request", {
      prompt: "once [[fake:sample=gemini-fault-500]] [[fake:fails=1]]",
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(sc(r)).toMatchObject({ retryCount: 1, circuit: "closed" });
    expect(lane.invocations()).toHaveLength(2);
  });

  it("a turn in which the agent acted is not re-run", async () => {
    const r = await gw.call("claude_request", {
      prompt: "acted [[fake:stream=1]] [[fake:sample=claude-fault-500]]",
    });
    expect(sc(r)).toMatchObject({ retryCount: 0, error: { category: "provider_error" } });
    expect(lane.invocations()).toHaveLength(1);
  });

  it("... unless the request allows it", async () => {
    const r = await gw.call("claude_request", {
      prompt: "rerun [[fake:stream=1]] [[fake:sample=claude-fault-500]] [[fake:fails=1]]",
      allowRerun: true,
    });
    expect(sc(r)).toMatchObject({ retryCount: 1 });
    expect(r.isError).toBeFalsy();
  });

  it("a non-transient failure is not retried", async () => {
    const r = await gw.call("codex_request", { prompt: "[[fake:exit=2]] [[fake:sample=none]]" });
    expect(sc(r)).toMatchObject({ retryCount: 0, error: { category: "cli_error" } });
    expect(lane.invocations()).toHaveLength(1);
  });
});

describe("the circuit breaker over MCP", () => {
  it("opens on persistent failures, fails fast without spawning, and closes after a good probe", async () => {
    // Three attempts, three consecutive transient failures: the breaker opens.
    const down = await gw.call("codex_request", { prompt: "down [[fake:sample=codex-fault-500]]" });
    expect(sc(down)).toMatchObject({
      retryCount: 2,
      circuit: "open",
      error: { category: "provider_error" },
    });
    expect(lane.invocations()).toHaveLength(3);
    const open = await breaker("codex");
    expect(open.state).toBe("open");
    expect(Date.parse(open.nextAttemptAt)).toBeGreaterThan(Date.now());

    lane.reset();
    const refused = await gw.call("codex_request", { prompt: "while open" });
    expect(textOf(refused)).toMatch(
      /^\[circuit_open\] The codex circuit breaker is open .* Next attempt allowed at /,
    );
    const refusedAsync = await gw.call("codex_request_async", { prompt: "while open" });
    expect(textOf(refusedAsync)).toMatch(/^\[circuit_open\]/);
    expect(lane.invocations()).toEqual([]);
    expect((await breaker("claude")).state).toBe("closed");

    await delay(1600);
    expect((await breaker("codex")).state).toBe("half_open");
    const probe = await gw.call("codex_request", { prompt: "probe" });
    expect(sc(probe)).toMatchObject({ text: "FAKE-REPLY: probe", circuit: "closed" });
    expect((await breaker("codex")).state).toBe("closed");
  });
});
