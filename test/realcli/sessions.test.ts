import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sc, textOf } from "../helpers/gateway.js";
import { startRealLane, type RealLane } from "./harness.js";

const CLIS = ["claude", "codex", "gemini"] as const;
const MODEL = { claude: "claude-sonnet-4-5", codex: "gpt-5.5", gemini: "gemini-2.5-pro" } as const;

let lane: RealLane;

beforeAll(async () => {
  lane = await startRealLane();
});
afterAll(() => lane.close());

/** A fresh directory per test: claude and gemini find "latest" sessions by directory. */
function freshDir(): string {
  const dir = join(lane.workdir, randomBytes(4).toString("hex"));
  mkdirSync(dir);
  return dir;
}

describe.each(CLIS)("real %s sessions resume with their history", (cli) => {
  const call = async (args: Record<string, unknown>) => {
    const r = await lane.gateway.call(`${cli}_request`, { model: MODEL[cli], ...args });
    expect(r.isError, textOf(r)).toBeFalsy();
    return r;
  };

  /** Turn 2 reached the API with turn 1's prompt and turn 1's reply in its history. */
  function expectHistory(turn1Prompt: string, turn1Reply: string, turn2Prompt: string) {
    const [request] = lane.mainRequests(turn2Prompt);
    expect(request?.turn).toBe(2);
    expect(request?.userTexts).toContain(turn1Prompt);
    expect(request?.assistantTexts).toContain(turn1Reply);
  }

  it("through the sessionId a request returns", async () => {
    const cwd = freshDir();
    const t = randomBytes(4).toString("hex");
    const one = await call({ prompt: `alpha ${t} remember pelican`, cwd });
    const two = await call({ prompt: `beta ${t} what word?`, sessionId: sc(one).sessionId });
    expect(textOf(two)).toBe(`MOCK-REPLY 2: beta ${t} what word?`);
    expect(sc(two).sessionId).toBe(sc(one).sessionId);
    expectHistory(`alpha ${t} remember pelican`, textOf(one), `beta ${t} what word?`);
  });

  it("through session_create and the active session", async () => {
    const created = sc(
      await lane.gateway.call("session_create", { cli, description: "real" }),
    ).session;
    const cwd = freshDir();
    const t = randomBytes(4).toString("hex");
    const one = await call({ prompt: `gamma ${t}`, cwd });
    const two = await call({ prompt: `delta ${t}` });
    expect(textOf(two)).toBe(`MOCK-REPLY 2: delta ${t}`);
    expect(sc(two).gatewaySessionId).toBe(created.id);
    expectHistory(`gamma ${t}`, textOf(one), `delta ${t}`);
    const session = sc(await lane.gateway.call("session_get", { sessionId: created.id })).session;
    expect(session).toMatchObject({ requestCount: 2, cwd, nativeSessionId: sc(two).sessionId });
    if (cli !== "codex") expect(session.nativeSessionId).toBe(created.id);
    await lane.gateway.call("session_set_active", { cli, sessionId: null });
  });

  // codex_request has no "continue the latest" option.
  if (cli !== "codex")
    it("through continueSession / resumeLatest", async () => {
      const cwd = freshDir();
      const t = randomBytes(4).toString("hex");
      const one = await call({ prompt: `epsilon ${t}`, cwd });
      const latest = cli === "claude" ? { continueSession: true } : { resumeLatest: true };
      const two = await call({ prompt: `zeta ${t}`, cwd, ...latest });
      expect(textOf(two)).toBe(`MOCK-REPLY 2: zeta ${t}`);
      expect(sc(two).sessionId).toBe(sc(one).sessionId);
      expectHistory(`epsilon ${t}`, textOf(one), `zeta ${t}`);
    });

  it("across a gateway restart", async () => {
    const created = sc(await lane.gateway.call("session_create", { cli })).session;
    const t = randomBytes(4).toString("hex");
    const one = await call({ prompt: `eta ${t}`, cwd: freshDir() });
    await lane.restartGateway();
    const two = await call({ prompt: `theta ${t}` });
    expect(sc(two).gatewaySessionId).toBe(created.id);
    expectHistory(`eta ${t}`, textOf(one), `theta ${t}`);
    await lane.gateway.call("session_set_active", { cli, sessionId: null });
  });
});
