import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ApprovalLog, type ApprovalRecord } from "../../src/approval/log.js";
import {
  adjustments,
  permissionsOf,
  shellOrWriteTools,
  withGrant,
} from "../../src/approval/options.js";
import { decide, type ApprovalPolicy, type Permissions } from "../../src/approval/policy.js";
import { providerOf, type OptionsOf } from "../../src/providers/index.js";

const nothing: Permissions = {
  bypass: false,
  workspaceWrite: false,
  shellTools: [],
  mcpServers: [],
};
const ask = (p: Partial<Permissions>): Permissions => ({ ...nothing, ...p });

describe("approval rules, one per rule and policy", () => {
  it("bypass: strict denies, balanced narrows to workspace writes, permissive approves", () => {
    expect(decide(ask({ bypass: true }), "strict")).toMatchObject({
      decision: "deny",
      granted: nothing,
    });
    expect(decide(ask({ bypass: true }), "balanced")).toMatchObject({
      decision: "narrow",
      granted: { bypass: false, workspaceWrite: true },
    });
    expect(decide(ask({ bypass: true }), "permissive")).toMatchObject({
      decision: "approve",
      granted: { bypass: true },
    });
  });

  it("workspace writes: strict narrows to read-only; balanced and permissive approve", () => {
    expect(decide(ask({ workspaceWrite: true }), "strict")).toMatchObject({
      decision: "narrow",
      granted: { workspaceWrite: false },
    });
    expect(decide(ask({ workspaceWrite: true }), "balanced").decision).toBe("approve");
    expect(decide(ask({ workspaceWrite: true }), "permissive").decision).toBe("approve");
  });

  it("shell and write tools: strict removes their pre-approval; balanced and permissive approve", () => {
    const tools = ask({ shellTools: ["Bash", "Edit"] });
    expect(decide(tools, "strict")).toMatchObject({
      decision: "narrow",
      granted: { shellTools: [] },
    });
    expect(decide(tools, "balanced").granted.shellTools).toEqual(["Bash", "Edit"]);
    expect(decide(tools, "permissive").granted.shellTools).toEqual(["Bash", "Edit"]);
  });

  it("MCP servers: strict allows no calls; balanced and permissive approve", () => {
    expect(decide(ask({ mcpServers: ["mini"] }), "strict")).toMatchObject({
      decision: "narrow",
      granted: { mcpServers: [] },
    });
    expect(decide(ask({ mcpServers: ["mini"] }), "balanced").granted.mcpServers).toEqual(["mini"]);
    expect(decide(ask({ mcpServers: ["mini"] }), "permissive").granted.mcpServers).toEqual([
      "mini",
    ]);
  });

  it("a plain request is approved by every policy", () => {
    for (const policy of ["strict", "balanced", "permissive"] as const) {
      expect(decide(nothing, policy)).toMatchObject({
        decision: "approve",
        granted: nothing,
        reasons: [],
      });
    }
  });

  it("never grants more than asked, under any policy", () => {
    const cases: Permissions[] = [
      nothing,
      ask({ bypass: true }),
      ask({ workspaceWrite: true }),
      ask({ shellTools: ["Bash"], mcpServers: ["m"] }),
    ];
    for (const requested of cases) {
      for (const policy of ["strict", "balanced", "permissive"] as const) {
        const { granted } = decide(requested, policy);
        expect(granted.bypass && !requested.bypass).toBe(false);
        expect(granted.shellTools.every((t) => requested.shellTools.includes(t))).toBe(true);
        expect(granted.mcpServers.every((s) => requested.mcpServers.includes(s))).toBe(true);
        // workspace writes are granted only when asked for, or as the narrowing of a bypass
        if (granted.workspaceWrite) expect(requested.workspaceWrite || requested.bypass).toBe(true);
      }
    }
  });

  it("recognizes the tools that run commands or write files", () => {
    expect(
      shellOrWriteTools(providerOf("claude"), ["Read", "Bash(git log:*)", "Edit", "Grep"]),
    ).toEqual(["Bash(git log:*)", "Edit"]);
    expect(
      shellOrWriteTools(providerOf("gemini"), [
        "read_file",
        "run_shell_command(git)",
        "write_file",
      ]),
    ).toEqual(["run_shell_command(git)", "write_file"]);
  });
});

describe("ApprovalLog", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const record = (i: number, cli: "claude" | "codex" = "claude"): ApprovalRecord => ({
    id: `id-${i}`,
    at: new Date(i).toISOString(),
    cli,
    correlationId: `c-${i}`,
    decision: "approve",
    policy: "balanced",
    requested: nothing,
    granted: nothing,
    reasons: [`reason ${i} 漢字`],
  });

  it("appends owner-only and lists the newest first, across read blocks, filtered by cli", () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-approvals-"));
    dirs.push(dir);
    const log = new ApprovalLog(join(dir, "approvals.jsonl"));
    for (let i = 0; i < 3000; i++) log.append(record(i, i % 3 === 0 ? "codex" : "claude"));
    expect(statSync(join(dir, "approvals.jsonl")).mode & 0o777).toBe(0o600);
    const recent = log.recent(500);
    expect(recent).toHaveLength(500);
    expect(recent[0]!.id).toBe("id-2999");
    expect(recent[499]!.id).toBe("id-2500");
    expect(recent.every((r) => r.reasons[0]!.endsWith("漢字"))).toBe(true);
    const codex = log.recent(10, "codex");
    expect(codex.map((r) => r.id)).toEqual(
      [2997, 2994, 2991, 2988, 2985, 2982, 2979, 2976, 2973, 2970].map((i) => `id-${i}`),
    );
  });

  it("skips a torn last line", () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-approvals-"));
    dirs.push(dir);
    const path = join(dir, "approvals.jsonl");
    writeFileSync(path, JSON.stringify(record(1)) + "\n" + '{"id":"torn', { mode: 0o600 });
    expect(new ApprovalLog(path).recent(5).map((r) => r.id)).toEqual(["id-1"]);
  });
});

describe("adjusted: every option a request runs with otherwise than asked", () => {
  const run = <C extends "claude" | "codex" | "gemini">(
    cli: C,
    o: OptionsOf<C>,
    policy: ApprovalPolicy,
  ) => {
    const provider = providerOf(cli);
    const requested = permissionsOf(provider, o, []);
    const verdict = decide(requested, policy);
    return adjustments(provider, o, withGrant(provider, o, verdict.granted, requested), verdict);
  };

  it("balanced: gemini yolo runs as auto_edit, for the bypass rule's reason", () => {
    expect(run("gemini", { approvalMode: "yolo" }, "balanced")).toEqual([
      {
        field: "approvalMode",
        asked: "yolo",
        applied: "auto_edit",
        reason: "balanced policy: bypass narrowed to workspace writes",
      },
    ]);
  });

  it("strict: codex fullAuto runs read-only; claude loses Bash but keeps Read", () => {
    expect(run("codex", { fullAuto: true }, "strict")).toEqual([
      {
        field: "fullAuto",
        asked: true,
        applied: false,
        reason: "strict policy: workspace writes narrowed to read-only",
      },
    ]);
    expect(run("claude", { allowedTools: ["Read", "Bash(ls)"] }, "strict")).toEqual([
      {
        field: "allowedTools",
        asked: ["Read", "Bash(ls)"],
        applied: ["Read"],
        reason: "strict policy: pre-approval of Bash(ls) removed",
      },
    ]);
  });

  it("permissive: codex takes the bypass alone, and says why fullAuto went", () => {
    const o = { dangerouslyBypassApprovalsAndSandbox: true, fullAuto: true };
    expect(run("codex", o, "permissive")).toEqual([
      {
        field: "fullAuto",
        asked: true,
        applied: false,
        reason: expect.stringMatching(/dangerouslyBypassApprovalsAndSandbox already allows/),
      },
    ]);
    expect(run("claude", { dangerouslySkipPermissions: true }, "permissive")).toEqual([]);
  });
});
