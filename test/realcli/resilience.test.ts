import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { delay, sc, textOf } from "../helpers/gateway.js";
import { startRealLane, type RealLane } from "./harness.js";

const MODEL = { claude: "claude-sonnet-4-5", codex: "gpt-5.5", gemini: "gemini-2.5-pro" } as const;
/** Model requests each CLI makes for a persistent 500 in one run, with the lane's retry settings (harness.ts). */
const CLI_ATTEMPTS = { claude: 3, codex: 9, gemini: 2 } as const;
const COOLDOWN_MS = 4000;
const tag = () => randomBytes(4).toString("hex");

let lane: RealLane;

beforeAll(async () => {
  lane = await startRealLane({
    LLM_GATEWAY_RETRY_MAX_ATTEMPTS: "2",
    LLM_GATEWAY_RETRY_BASE_DELAY_MS: "200",
    LLM_GATEWAY_BREAKER_THRESHOLD: "2",
    LLM_GATEWAY_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
  });
});
afterAll(() => lane.close());

describe.each(["claude", "codex", "gemini"] as const)("real %s under faults", (cli) => {
  const call = (args: Record<string, unknown>) =>
    lane.gateway.call(`${cli}_request`, { model: MODEL[cli], ...args });
  const breaker = async () => sc(await lane.gateway.call("list_models", { cli })).clis[cli].breaker;

  it("a fault that outlives the CLI's own retries is retried by the gateway and succeeds", async () => {
    const t = tag();
    const r = await call({ prompt: `flaky ${t} [[mock:500x${CLI_ATTEMPTS[cli]}]]` });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toBe(`MOCK-REPLY 1: flaky ${t}`);
    expect(sc(r)).toMatchObject({ retryCount: 1, circuit: "closed" });
    expect(lane.mainRequests(t)).toHaveLength(CLI_ATTEMPTS[cli] + 1);
  });

  it("persistent 500s open the breaker; the next request fails fast; after the cooldown a probe closes it", async () => {
    const t = tag();
    const down = await call({ prompt: `down ${t} [[mock:500]]` });
    expect(sc(down)).toMatchObject({
      retryCount: 1,
      circuit: "open",
      error: { category: "provider_error" },
    });
    expect(lane.mainRequests(t)).toHaveLength(2 * CLI_ATTEMPTS[cli]);
    expect((await breaker()).state).toBe("open");

    const t2 = tag();
    const refused = await call({ prompt: `refused ${t2}` });
    expect(textOf(refused)).toMatch(/^\[circuit_open\].*Next attempt allowed at/);
    expect(lane.mainRequests(t2)).toEqual([]);

    await delay(COOLDOWN_MS + 200);
    const t3 = tag();
    const probe = await call({ prompt: `probe ${t3}` });
    expect(textOf(probe)).toBe(`MOCK-REPLY 1: probe ${t3}`);
    expect(sc(probe).circuit).toBe("closed");
    expect((await breaker()).state).toBe("closed");
  });
});

describe("an agent that already acted", () => {
  it("is not re-run after a transient failure", async () => {
    const t = tag();
    const pending = lane.gateway.call("claude_request", {
      prompt: `act ${t} [[mock:tool=Bash {"command":"sleep 2","description":"wait"}]]`,
      model: MODEL.claude,
      allowedTools: ["Bash"],
    });
    // Once the model has asked for the tool, every later model call for this prompt fails.
    for (let i = 0; i < 100 && lane.mainRequests(t).length === 0; i++) await delay(50);
    lane.mock.queueFault("500", { dialect: "anthropic", match: t });
    const r = await pending;
    expect(sc(r)).toMatchObject({ retryCount: 0, error: { category: "provider_error" } });
    // One request that called the tool, then claude's own 3 attempts; no second gateway attempt.
    expect(lane.mainRequests(t)).toHaveLength(1 + CLI_ATTEMPTS.claude);
  });
});
