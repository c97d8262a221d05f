import { describe, expect, it } from "vitest";
import type { GatewayResult } from "../../src/request.js";
import { structuredResult } from "../../src/mcp/tools/request-common.js";

describe("structuredContent of a request result (what Claude Code and Codex hand their model)", () => {
  const base = {
    text: "hi",
    cli: "claude",
    correlationId: "c",
    durationMs: 5,
    exitCode: 0,
    retryCount: 0,
  };

  it("leaves out empty fields and zero token counters, and rounds the cost", () => {
    const result = {
      ...base,
      model: "",
      optimization: {},
      mcpServers: undefined,
      usage: { inputTokens: 10, outputTokens: 2, cacheReadTokens: 0, reasoningTokens: 0 },
      costUsd: 0.06597900000000001,
      raw: { big: true },
      thinking: ["..."],
      acted: false,
    } as unknown as GatewayResult;
    expect(structuredResult(result)).toEqual({
      ...base,
      usage: { inputTokens: 10, outputTokens: 2 },
      costUsd: 0.065979,
    });
  });

  it("keeps the fields the output schema requires, even when empty", () => {
    const failed = { ...base, text: "", exitCode: null, usage: {} } as unknown as GatewayResult;
    expect(structuredResult(failed)).toEqual({ ...base, text: "", exitCode: null });
  });

  it("names the CLI's own session id sessionId, in its place, as clients have always seen it", () => {
    const result = {
      ...base,
      nativeSessionId: "n-1",
      gatewaySessionId: "g-1",
      usage: {},
    } as unknown as GatewayResult;
    const visible = structuredResult(result);
    expect(visible).toEqual({ ...base, sessionId: "n-1", gatewaySessionId: "g-1" });
    expect(Object.keys(visible)).toEqual([...Object.keys(base), "sessionId", "gatewaySessionId"]);
  });
});
