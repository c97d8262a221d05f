import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { sc, textOf, type StartedGateway } from "../helpers/gateway.js";
import { CLI_NAMES } from "../../src/providers/types.js";

let lane: FakeLane;
let gw: StartedGateway;
const argv = (i = 0) => lane.invocations()[i]?.argv ?? [];

beforeAll(async () => {
  lane = await startFakeLane();
  gw = lane.gw;
});
afterAll(() => lane.close());
beforeEach(async () => {
  lane.reset();
  await gw.call("session_clear_all", {});
});

async function create(cli: string, extra: Record<string, unknown> = {}) {
  const r = await gw.call("session_create", { cli, ...extra });
  expect(r.isError, textOf(r)).toBeFalsy();
  return sc(r).session;
}

describe("session tools", () => {
  it("creates, lists, gets, activates and deletes sessions", async () => {
    const a = await create("claude", { description: "Code review" });
    expect(a).toMatchObject({
      cli: "claude",
      description: "Code review",
      active: true,
      requestCount: 0,
      nativeSessionId: null,
    });
    const b = await create("claude", { setAsActive: false });
    expect(b.description).toBe("Claude Session");
    const list = sc(await gw.call("session_list", { cli: "claude" }));
    expect(list.sessions.map((s: any) => s.id).sort()).toEqual([a.id, b.id].sort());
    expect(list.activeSessions).toEqual({ claude: a.id });

    await gw.call("session_set_active", { cli: "claude", sessionId: b.id });
    expect(sc(await gw.call("session_get", { sessionId: b.id })).session.active).toBe(true);
    await gw.call("session_set_active", { cli: "claude", sessionId: null });
    expect(sc(await gw.call("session_list", {})).activeSessions.claude).toBeNull();

    expect(sc(await gw.call("session_delete", { sessionId: a.id })).deleted).toBe(a.id);
    const gone = await gw.call("session_get", { sessionId: a.id });
    expect(gone.isError).toBe(true);
    expect(textOf(gone)).toMatch(/was deleted/);
  });

  it("session_list's cli filter applies to the active sessions too", async () => {
    const claude = await create("claude");
    const gemini = await create("gemini");
    const codex = await create("codex");
    const list = sc(await gw.call("session_list", { cli: "codex" }));
    expect(list).toEqual({
      sessions: [expect.objectContaining({ id: codex.id, active: true })],
      activeSessions: { codex: codex.id },
    });
    for (const other of [claude, gemini]) expect(JSON.stringify(list)).not.toContain(other.id);
    // Every CLI of the provider table is listed; those without an active session as null.
    expect(sc(await gw.call("session_list", {})).activeSessions).toEqual({
      ...Object.fromEntries(CLI_NAMES.map((c) => [c, null])),
      claude: claude.id,
      codex: codex.id,
      gemini: gemini.id,
    });
  });

  it("clears all sessions, or one CLI's", async () => {
    await create("claude");
    await create("codex");
    await create("gemini");
    expect(sc(await gw.call("session_clear_all", { cli: "codex" })).deletedCount).toBe(1);
    expect(sc(await gw.call("session_list", {})).sessions).toHaveLength(2);
    expect(sc(await gw.call("session_clear_all", {})).deletedCount).toBe(2);
  });

  it("refuses to activate another CLI's session", async () => {
    const s = await create("gemini");
    const r = await gw.call("session_set_active", { cli: "claude", sessionId: s.id });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/belongs to gemini/);
  });
});

describe("requests continue sessions natively", () => {
  it.each(["claude", "gemini"])(
    "%s: session_create reserves the id, the first request creates it, the next resumes it",
    async (cli) => {
      const s = await create(cli);
      const first = sc(await gw.call(`${cli}_request`, { prompt: "one" }));
      expect(argv()).toEqual(expect.arrayContaining(["--session-id", s.id]));
      expect(first.sessionId).toBe(s.id);
      expect(first.gatewaySessionId).toBe(s.id);
      lane.reset();
      await gw.call(`${cli}_request`, { prompt: "two" });
      expect(argv()).toEqual(expect.arrayContaining(["--resume", s.id]));
      const after = sc(await gw.call("session_get", { sessionId: s.id })).session;
      expect(after.requestCount).toBe(2);
      expect(after.nativeSessionId).toBe(s.id);
      expect(after.usage.inputTokens).toBeGreaterThan(0);
      expect(after.cwd).toBe(gw.home);
    },
  );

  it("codex: the thread id the first request reports is resumed by the next", async () => {
    const s = await create("codex");
    const first = sc(await gw.call("codex_request", { prompt: "one", model: "gpt-5.5" }));
    expect(argv()).not.toContain("resume");
    expect(first.gatewaySessionId).toBe(s.id);
    expect(first.sessionId).not.toBe(s.id);
    lane.reset();
    const second = sc(await gw.call("codex_request", { prompt: "two" }));
    expect(argv()).toEqual([
      "exec",
      "--json",
      "--skip-git-repo-check",
      "-m",
      "gpt-5.5",
      "resume",
      first.sessionId,
      "-",
    ]);
    expect(second.sessionId).toBe(first.sessionId);
  });

  it("codex: resuming with another model is refused before anything runs", async () => {
    const first = sc(await gw.call("codex_request", { prompt: "one", model: "gpt-5.5" }));
    lane.reset();
    const r = await gw.call("codex_request", {
      prompt: "two",
      sessionId: first.sessionId,
      model: "gpt-6-sol",
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/uses model gpt-5.5; resuming it with gpt-6-sol/);
    expect(lane.invocations()).toEqual([]);
  });

  it.each(["claude", "codex", "gemini"])(
    "%s: a returned sessionId resumes that session",
    async (cli) => {
      const first = sc(await gw.call(`${cli}_request`, { prompt: "one" }));
      lane.reset();
      const second = sc(
        await gw.call(`${cli}_request`, { prompt: "two", sessionId: first.sessionId }),
      );
      expect(argv().join(" ")).toContain(
        cli === "codex" ? `resume ${first.sessionId}` : `--resume ${first.sessionId}`,
      );
      expect(second.sessionId).toBe(first.sessionId);
      expect(
        sc(await gw.call("session_get", { sessionId: first.sessionId })).session.requestCount,
      ).toBe(2);
    },
  );

  it("createNewSession starts fresh even with an active session", async () => {
    await create("claude");
    await gw.call("claude_request", { prompt: "new", createNewSession: true });
    expect(argv()).not.toContain("--resume");
    expect(argv()).not.toContain("--session-id");
  });

  it("continueSession resumes the active session, or claude's latest in the directory", async () => {
    await gw.call("claude_request", { prompt: "x", continueSession: true });
    expect(argv()).toContain("--continue");
    const s = await create("claude");
    await gw.call("claude_request", { prompt: "one" });
    lane.reset();
    await gw.call("claude_request", { prompt: "x", continueSession: true });
    expect(argv()).toEqual(expect.arrayContaining(["--resume", s.id]));
  });

  it("resumeLatest asks gemini for its latest session and records what it resumed", async () => {
    const r = sc(await gw.call("gemini_request", { prompt: "x", resumeLatest: true }));
    expect(argv()).toEqual(expect.arrayContaining(["--resume", "latest"]));
    expect(sc(await gw.call("session_get", { sessionId: r.sessionId })).session.cli).toBe("gemini");
  });

  it("a resume runs in the session's directory; another cwd is refused for claude and gemini", async () => {
    const dir = join(lane.dir, "project");
    mkdirSync(dir, { recursive: true });
    const first = sc(await gw.call("claude_request", { prompt: "one", cwd: dir }));
    lane.reset();
    await gw.call("claude_request", { prompt: "two", sessionId: first.sessionId });
    expect(lane.invocations()[0]?.cwd).toBe(dir);
    const r = await gw.call("claude_request", {
      prompt: "two",
      sessionId: first.sessionId,
      cwd: lane.dir,
    });
    expect(textOf(r)).toMatch(/started in .*project; claude finds sessions by directory/);
  });
});

describe("bad session ids are refused before any process starts", () => {
  it("unknown, deleted, another CLI's and malformed ids", async () => {
    const gem = sc(await gw.call("gemini_request", { prompt: "one" }));
    const deleted = sc(await gw.call("claude_request", { prompt: "one" })).sessionId;
    await gw.call("session_delete", { sessionId: deleted });
    lane.reset();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        "claude_request",
        { sessionId: "11111111-2222-4333-8444-555555555555" },
        /Unknown sessionId .* for claude/,
      ],
      ["claude_request", { sessionId: deleted }, /was deleted/],
      ["claude_request", { sessionId: gem.sessionId }, /belongs to gemini; use gemini_request/],
      ["codex_request", { sessionId: "--resume" }, /sessionId must be a session id/],
      ["gemini_request", { sessionId: "../x" }, /sessionId must be a session id/],
      ["claude_request", { sessionId: "a\u0000b" }, /sessionId must be a session id/],
    ];
    for (const [tool, args, message] of cases) {
      const r = await gw.call(tool, { prompt: "x", ...args });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(message);
    }
    expect(lane.invocations()).toEqual([]);
  });
});

describe("sessions outlive the gateway process", () => {
  it("a session created before a restart resumes after it", async () => {
    const s = await create("claude");
    await gw.call("claude_request", { prompt: "one" });
    const restarted = await lane.startAnother();
    lane.reset();
    const r = sc(await restarted.call("claude_request", { prompt: "two" }));
    expect(lane.invocations()[0]?.argv).toEqual(expect.arrayContaining(["--resume", s.id]));
    expect(r.sessionId).toBe(s.id);
  });

  it("imports a sessions.json of the seed's format once", async () => {
    const other = await lane.startAnother(); // same home: write the legacy file, then start again
    const file = join(other.home, ".llm-cli-gateway", "sessions.json");
    mkdirSync(dirname(file), { recursive: true }); // on PostgreSQL no gateway.db made it
    writeFileSync(
      file,
      JSON.stringify({
        sessions: {
          "legacy-1": {
            id: "legacy-1",
            cli: "codex",
            createdAt: "2026-01-01T00:00:00.000Z",
            lastUsedAt: "2026-01-02T00:00:00.000Z",
            description: "Old review",
          },
        },
        activeSession: { claude: null, codex: "legacy-1", gemini: null },
      }),
    );
    const third = await lane.startAnother();
    const listed = sc(await third.call("session_list", { cli: "codex" }));
    expect(listed.sessions).toEqual([
      expect.objectContaining({ id: "legacy-1", description: "Old review", active: true }),
    ]);
    await third.call("session_delete", { sessionId: "legacy-1" });
    const fourth = await lane.startAnother();
    expect(sc(await fourth.call("session_list", { cli: "codex" })).sessions).toEqual([]);
  });
});
