import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GatewayError } from "../../src/errors.js";
import type { GatewayResult } from "../../src/request.js";
import { createLogger } from "../../src/log.js";
import { Resilience } from "../../src/resilience.js";

const quiet = createLogger(false, () => true);
const config = {
  maxAttempts: 3,
  baseDelayMs: 1000,
  breakerThreshold: 3,
  breakerCooldownMs: 60_000,
};
const ok: GatewayResult = {
  text: "fine",
  cli: "codex",
  correlationId: "c",
  durationMs: 1,
  exitCode: 0,
  usage: {},
  retryCount: 0,
};
const fail = (category: string, acted = false): GatewayResult => ({
  ...ok,
  text: "",
  exitCode: 1,
  acted,
  error: { category: category as never, message: category },
});

/** Runs `results` in order as the attempts of one request; returns the final result and how many ran. */
async function runSeq(r: Resilience, results: GatewayResult[], allowRerun = false) {
  let calls = 0;
  const promise = r.run({
    cli: "codex",
    allowRerun,
    signal: new AbortController().signal,
    attempt: async () => results[Math.min(calls++, results.length - 1)]!,
  });
  await vi.runAllTimersAsync();
  return { result: await promise, calls };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("retries", () => {
  it("retry a transient failure with backoff and count the retries", async () => {
    const r = new Resilience(config, quiet);
    const { result, calls } = await runSeq(r, [fail("provider_error"), fail("rate_limited"), ok]);
    expect(calls).toBe(3);
    expect(result).toMatchObject({ text: "fine", retryCount: 2, circuit: "closed" });
  });

  it("wait at least the base delay before retrying", async () => {
    const r = new Resilience({ ...config, maxAttempts: 2 }, quiet);
    let calls = 0;
    const promise = r.run({
      cli: "codex",
      allowRerun: false,
      signal: new AbortController().signal,
      attempt: async () => (calls++ ? ok : fail("timeout")),
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toBe(1);
    await vi.runAllTimersAsync();
    expect(calls).toBe(2);
    expect((await promise).retryCount).toBe(1);
  });

  it("stop after maxAttempts and return the last failure", async () => {
    const r = new Resilience(config, quiet);
    const { result, calls } = await runSeq(r, [fail("provider_error")]);
    expect(calls).toBe(3);
    expect(result).toMatchObject({ retryCount: 2, error: { category: "provider_error" } });
  });

  it.each(["cli_error", "auth_error", "invalid_input", "canceled", "output_overflow"])(
    "never retry %s",
    async (category) => {
      const { calls, result } = await runSeq(new Resilience(config, quiet), [fail(category), ok]);
      expect(calls).toBe(1);
      expect(result.retryCount).toBe(0);
    },
  );

  it("do not re-run a turn in which the agent acted, unless the request allows it", async () => {
    expect(
      (await runSeq(new Resilience(config, quiet), [fail("provider_error", true), ok])).calls,
    ).toBe(1);
    expect(
      (await runSeq(new Resilience(config, quiet), [fail("provider_error", true), ok], true)).calls,
    ).toBe(2);
  });
});

describe("circuit breaker", () => {
  it("opens after N consecutive transient failures, refuses at once, and probes after the cooldown", async () => {
    const r = new Resilience({ ...config, maxAttempts: 1 }, quiet);
    for (let i = 0; i < 3; i++) await runSeq(r, [fail("provider_error")]);
    expect(r.status("codex").state).toBe("open");
    expect(r.status("claude").state).toBe("closed");
    expect(() => r.assertAvailable("codex")).toThrow(GatewayError);
    try {
      r.assertAvailable("codex");
    } catch (err) {
      expect((err as GatewayError).category).toBe("circuit_open");
      expect((err as GatewayError).message).toMatch(/Next attempt allowed at \d{4}-\d\d-\d\dT/);
    }
    expect(r.status("codex").nextAttemptAt).toBe(new Date(Date.now() + 60_000).toISOString());

    vi.advanceTimersByTime(60_001);
    expect(r.status("codex").state).toBe("half_open");
    expect(() => r.assertAvailable("codex")).not.toThrow();
    const probe = await runSeq(r, [ok]);
    expect(probe.result).toMatchObject({ text: "fine", circuit: "closed" });
    expect(r.status("codex").state).toBe("closed");
  });

  it("a failed probe opens it again", async () => {
    const r = new Resilience({ ...config, maxAttempts: 1 }, quiet);
    for (let i = 0; i < 3; i++) await runSeq(r, [fail("rate_limited")]);
    vi.advanceTimersByTime(60_001);
    const probe = await runSeq(r, [fail("rate_limited")]);
    expect(probe.result.circuit).toBe("open");
    expect(() => r.assertAvailable("codex")).toThrow(/circuit breaker is open/);
  });

  it("a success resets the count; non-transient failures do not count", async () => {
    const r = new Resilience({ ...config, maxAttempts: 1 }, quiet);
    for (const result of [
      fail("provider_error"),
      fail("provider_error"),
      ok,
      fail("cli_error"),
      fail("provider_error"),
      fail("provider_error"),
    ]) {
      await runSeq(r, [result]);
    }
    expect(r.status("codex").state).toBe("closed");
  });

  it("stops retrying when the breaker opens between attempts", async () => {
    const r = new Resilience({ ...config, maxAttempts: 5, breakerThreshold: 2 }, quiet);
    const { calls, result } = await runSeq(r, [fail("provider_error")]);
    expect(calls).toBe(2);
    expect(result).toMatchObject({ circuit: "open", error: { category: "provider_error" } });
  });
});
