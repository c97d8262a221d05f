import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sc, textOf } from "../helpers/gateway.js";
import { startRealLane, type RealLane } from "./harness.js";
import { processesWithEnv } from "./processes.js";

const CLIS = ["claude", "codex", "gemini"] as const;
type Cli = (typeof CLIS)[number];
/** A model id per CLI that the mock echoes back, to prove the model flag reaches the API. */
const MODELS: Record<Cli, { asked: string; sent: string }> = {
  claude: { asked: "claude-sonnet-4-5", sent: "claude-sonnet-4-5" },
  codex: { asked: "gpt-5.5", sent: "gpt-5.5" },
  gemini: { asked: "pro", sent: "gemini-2.5-pro" },
};
const TRICKY = [
  "--help",
  `say "double" and 'single' quotes`,
  "$(echo injected) `id` ; rm -rf / && echo $HOME",
  "first line\nsecond line\n\tindented",
  "emoji 🦀🚀✨ and CJK 漢字かな한국어",
];

let lane: RealLane;
const tag = () => randomBytes(4).toString("hex");

beforeAll(async () => {
  lane = await startRealLane();
});
afterAll(async () => {
  const envMarker = `LLM_GATEWAY_HOME=${join(lane.home, ".llm-cli-gateway")}`;
  await lane.close();
  // No process of this lane outlives the gateway.
  await new Promise((r) => setTimeout(r, 500));
  expect(processesWithEnv(envMarker)).toEqual([]);
});

// Before the fault tests below, which leave the CLIs' circuit breakers open.
describe("the model a result names is the one the API was asked for", () => {
  it.each(CLIS)("%s without a model", async (cli) => {
    const t = tag();
    const r = sc(await lane.gateway.call(`${cli}_request`, { prompt: `default model ${t}` }));
    expect(r.error).toBeUndefined();
    const sent = lane.mainRequests(t).map((e) => e.model);
    expect(sent.length).toBeGreaterThan(0);
    expect(r.model).toBe(sent.at(-1));
    // codex never prints its model: the gateway knows it from the CLI's defaults.
    expect(r.modelSource).toBe(cli === "codex" ? "default" : "cli");
  });

  it("codex without a model, its config.toml naming one", async () => {
    const configPath = join(lane.home, ".codex", "config.toml");
    const config = readFileSync(configPath, "utf8");
    writeFileSync(configPath, `model = "gpt-5.5"\n${config}`); // root keys come before tables
    try {
      const t = tag();
      const r = sc(await lane.gateway.call("codex_request", { prompt: `config model ${t}` }));
      expect(lane.mainRequests(t).map((e) => e.model)).toEqual(["gpt-5.5"]);
      expect(r).toMatchObject({ model: "gpt-5.5", modelSource: "config" });
    } finally {
      writeFileSync(configPath, config);
    }
  });
});

describe.each(CLIS)("real %s through the gateway", (cli) => {
  const model = MODELS[cli];
  const call = (args: Record<string, unknown>) =>
    lane.gateway.call(`${cli}_request`, { model: model.asked, ...args });

  it("returns the mock's reply with a session id and usage", async () => {
    const t = tag();
    const r = await call({ prompt: `hello ${t}` });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toBe(`MOCK-REPLY 1: hello ${t}`);
    expect(sc(r).sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sc(r).usage.inputTokens).toBeGreaterThan(0);
    expect(sc(r).usage.outputTokens).toBeGreaterThan(0);
    expect(sc(r).exitCode).toBe(0);
  });

  it("sends the model flag to the API", async () => {
    const t = tag();
    await call({ prompt: `model check ${t}` });
    const requests = lane.mainRequests(t);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((e) => e.model === model.sent)).toBe(true);
  });

  it("delivers tricky prompts byte-exact", async () => {
    for (const tricky of TRICKY) {
      const prompt = `${tricky} ${tag()}`;
      const r = await call({ prompt });
      expect(r.isError, textOf(r)).toBeFalsy();
      const [request] = lane.mock
        .log()
        .filter((e) => e.kind === "main" && e.prompt?.includes(prompt.slice(-8)));
      expect(request?.prompt).toBe(prompt);
    }
  });

  it("delivers a 100,000-character CJK prompt", async () => {
    const t = tag();
    const prompt = `${t} ${"漢".repeat(100_000 - t.length - 1)}`;
    expect(prompt.length).toBe(100_000);
    const r = await call({ prompt });
    expect(r.isError, textOf(r)).toBeFalsy();
    const [request] = lane.mainRequests(t);
    expect(request?.prompt).toBe(prompt);
  });

  it("ends a persistent HTTP 500 in provider_error", async () => {
    const r = await call({ prompt: `fault ${tag()} [[mock:500]]` });
    expect(r.isError).toBe(true);
    expect(sc(r).error.category).toBe("provider_error");
  });

  it("ends a persistent 429/529 in rate_limited", async () => {
    const r = await call({ prompt: `fault ${tag()} [[mock:overloaded]]` });
    expect(r.isError).toBe(true);
    expect(sc(r).error.category).toBe("rate_limited");
  });

  it("stops a hung API at timeoutMs and leaves no CLI process behind", async () => {
    const r = await call({ prompt: `fault ${tag()} [[mock:hang]]`, timeoutMs: 6000 });
    expect(r.isError).toBe(true);
    expect(sc(r).error).toEqual({ category: "timeout", message: "Process timed out after 6000ms" });
    await new Promise((res) => setTimeout(res, 300));
    const envMarker = `LLM_GATEWAY_HOME=${join(lane.home, ".llm-cli-gateway")}`;
    // Only the gateway itself is left.
    expect(processesWithEnv(envMarker).length).toBe(1);
  });
});
