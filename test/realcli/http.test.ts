import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textOf } from "../helpers/gateway.js";
import { startHttpLane, type HttpClient, type HttpLane } from "../helpers/http-gateway.js";
import { realCliEnv, writeCliConfigs, type MockApi } from "./harness.js";
import { startMockApi } from "./mock-llm-api.mjs";

// One request per real CLI through `serve --http`, with a token, against the mock model API.
const CLIS = ["claude", "codex", "gemini"] as const;

let mock: MockApi;
let lane: HttpLane;
let client: HttpClient;
let home: string;

beforeAll(async () => {
  mock = (await startMockApi({ port: 0 })) as unknown as MockApi;
  home = mkdtempSync(join(tmpdir(), "llm-gateway-real-http-"));
  mkdirSync(join(home, "tmp"), { recursive: true });
  writeCliConfigs(home, mock.url);
  lane = await startHttpLane(realCliEnv(home, mock.url), [], { fakes: false });
  client = await lane.connect(lane.createToken("realcli"));
});
afterAll(async () => {
  await lane?.close();
  await mock?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("real CLIs over HTTP", () => {
  it.each(CLIS)("%s answers through serve --http", async (cli) => {
    const marker = `http-${cli}-${Date.now()}`;
    const r = await client.call(`${cli}_request`, { prompt: `hello ${marker}` });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toBe(`MOCK-REPLY 1: hello ${marker}`);
    const sessions = (await client.call("session_list", { cli })).structuredContent as {
      sessions: unknown[];
    };
    expect(sessions.sessions).toHaveLength(1);
  });
});
