import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sc, textOf } from "../helpers/gateway.js";
import { startRealLane, type RealLane } from "./harness.js";

const MODEL = { claude: "claude-sonnet-4-5", codex: "gpt-5.5", gemini: "gemini-2.5-pro" } as const;
const tag = () => randomBytes(4).toString("hex");

/** A private (0700, root-owned) place for a lane's HOME, never the user's own dot-directories. */
function privateRoot(): string {
  const root = join(homedir(), ".cache", "llm-cli-gateway", "lanes");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return root;
}

// gemini skips a settings file when a directory above it is writable by others (/tmp): the
// gateway must hand gemini its servers wherever HOME is, so the whole file runs in both.
describe.each([
  ["HOME under /tmp", "/tmp"],
  ["HOME under a private directory", privateRoot()],
])("%s", (_label, root) => {
  let lane: RealLane;
  let stateDir: string;
  let miniLog: string;
  /** The server's env value that must never appear on a command line or in a log line. */
  const SECRET = `sk-mini-${randomBytes(12).toString("hex")}`;

  const miniEntries = (): Record<string, any>[] =>
    existsSync(miniLog)
      ? readFileSync(miniLog, "utf8")
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [];
  /** The texts the tiny MCP server's echo_marker tool was called with. */
  const miniCalls = () => miniEntries().flatMap((e) => (e.text === undefined ? [] : [e.text]));

  beforeAll(async () => {
    stateDir = mkdtempSync(join(root, "approvals-"));
    miniLog = join(stateDir, "mini-calls.jsonl");
    const config = join(stateDir, "mcp-servers.json");
    const server = {
      command: process.execPath,
      args: [resolve(import.meta.dirname, "mini-mcp-server.mjs")],
      env: { MINI_MCP_LOG: miniLog, MINI_MCP_SECRET: SECRET },
    };
    writeFileSync(config, JSON.stringify({ mcpServers: { mini: server } }));
    // DEBUG=1: the gateway logs every CLI's args, the line most likely to leak a secret.
    lane = await startRealLane({ LLM_GATEWAY_MCP_CONFIG: config, DEBUG: "1" }, { root });
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

      it("the server's env reaches the server, but no command line and no log line", async () => {
        const call = miniEntries().findLast((e) => e.text !== undefined);
        expect(call?.secret).toBe(SECRET);
        // The command lines of the server's running ancestors: the CLI (and its wrapper), the
        // spawner, the gateway, read from /proc/<pid>/cmdline while the CLI ran.
        const chain = miniEntries().findLast((e) => e.ancestors)!.ancestors as {
          cmdline: string[];
        }[];
        const cmdlines = chain.map((a) => a.cmdline.join(" "));
        expect(cmdlines.some((c) => c.includes(cli))).toBe(true);
        expect(cmdlines.filter((c) => c.includes(SECRET))).toEqual([]);
        expect(lane.gateway.stderr()).toContain(`${cli} args:`);
        expect(lane.gateway.stderr()).not.toContain(SECRET);
        expect(JSON.stringify(lane.mock.log())).not.toContain(SECRET);
      });

      // codex gets the values in its environment (to forward them to the server), and hands that
      // environment to the commands its agent runs: there the values must be blank.
      it.runIf(cli === "codex")(
        "the agent's own commands do not see the server's env",
        async () => {
          const t = tag();
          const r = await call({
            prompt: `env ${t} [[mock:tool=exec_command {"cmd":"env"}]]`,
            mcpServers: ["mini"],
            approvalStrategy: "mcp_managed",
          });
          expect(r.isError, textOf(r)).toBeFalsy();
          const bodies = lane.mock.log().map((e) => JSON.stringify(e.body ?? ""));
          // The command ran and its output went back to the model...
          expect(bodies.some((b) => b.includes("MINI_MCP_SECRET="))).toBe(true);
          // ...without the value.
          expect(bodies.filter((b) => b.includes(SECRET))).toEqual([]);
        },
      );

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
        const decisions = sc(
          await lane.gateway.call("approval_list", { cli, limit: 10 }),
        ).approvals;
        const approved = cli === "codex" ? ["approve", "approve"] : ["approve"];
        expect(decisions.map((d: any) => d.decision)).toEqual(["deny", ...approved]);
        expect(decisions[0].policy).toBe("strict");
      });
    },
  );
});
