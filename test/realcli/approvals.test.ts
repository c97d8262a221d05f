import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textOf } from "../helpers/gateway.js";
import { startRealLane, type RealLane } from "./harness.js";

const MODEL = { claude: "claude-sonnet-4-5", codex: "gpt-5.5", gemini: "gemini-2.5-pro" } as const;
const sc = (r: { structuredContent?: unknown }) => r.structuredContent as Record<string, any>;
const tag = () => randomBytes(4).toString("hex");

let lane: RealLane;
let stateDir: string;
let miniLog: string;

/** The texts the tiny MCP server's echo_marker tool was called with. */
const miniCalls = (): string[] =>
  existsSync(miniLog)
    ? readFileSync(miniLog, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).text)
    : [];

beforeAll(async () => {
  // gemini ignores a settings file if any directory above it is world-writable (like /tmp), so the
  // gateway's state for this lane lives under ~/.cache (never the user's ~/.llm-cli-gateway).
  const root = join(homedir(), ".cache", "llm-cli-gateway", "lanes");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  stateDir = mkdtempSync(join(root, "approvals-"));
  miniLog = join(stateDir, "mini-calls.jsonl");
  const config = join(stateDir, "mcp-servers.json");
  const server = {
    command: process.execPath,
    args: [resolve(import.meta.dirname, "mini-mcp-server.mjs")],
    env: { MINI_MCP_LOG: miniLog },
  };
  writeFileSync(config, JSON.stringify({ mcpServers: { mini: server } }));
  lane = await startRealLane({
    LLM_GATEWAY_HOME: join(stateDir, "gateway"),
    LLM_GATEWAY_MCP_CONFIG: config,
  });
});
afterAll(async () => {
  await lane.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe.each(["claude", "codex", "gemini"] as const)(
  "real %s with a per-request MCP server",
  (cli) => {
    const call = (args: Record<string, unknown>) =>
      lane.gateway.call(`${cli}_request`, { model: MODEL[cli], ...args });

    it("an approved request lets the CLI call the server's tool", async () => {
      const t = tag();
      const r = await call({
        prompt: `use it ${t} [[mock:tool=echo_marker {"text":"yes-${t}"}]]`,
        mcpServers: ["mini"],
        approvalStrategy: "mcp_managed",
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(miniCalls()).toContain(`yes-${t}`);
      expect(textOf(r)).toContain(`MCP-ECHO[yes-${t}]`);
      expect(sc(r).approval).toMatchObject({
        decision: "approve",
        granted: { mcpServers: ["mini"] },
      });
      expect(sc(r).mcpServers).toEqual({ requested: ["mini"], enabled: ["mini"], missing: [] });
    });

    it("an unapproved request does not", async () => {
      const t = tag();
      const r = await call({
        prompt: `use it ${t} [[mock:tool=echo_marker {"text":"no-${t}"}]]`,
        mcpServers: ["mini"],
      });
      expect(miniCalls()).not.toContain(`no-${t}`);
      expect(textOf(r)).not.toContain(`MCP-ECHO[no-${t}]`);
    });

    it("strict denies a bypass request before spawning: the mock API sees nothing", async () => {
      const t = tag();
      const bypass = {
        claude: { dangerouslySkipPermissions: true },
        codex: { dangerouslyBypassApprovalsAndSandbox: true },
        gemini: { approvalMode: "yolo" },
      }[cli];
      const r = await call({
        prompt: `bypass ${t}`,
        approvalStrategy: "mcp_managed",
        approvalPolicy: "strict",
        ...bypass,
      });
      expect(textOf(r)).toMatch(/^\[approval_denied\] Denied by the strict approval policy/);
      expect(lane.mainRequests(t)).toEqual([]);
    });

    it("approval_list shows the decisions", async () => {
      const decisions = sc(await lane.gateway.call("approval_list", { cli, limit: 10 })).approvals;
      expect(decisions.map((d: any) => d.decision)).toEqual(["deny", "approve"]);
      expect(decisions[0].policy).toBe("strict");
    });
  },
);
