import type { Permissions } from "../providers/types.js";

// The policy's vocabulary, defined where every provider maps its options onto it.
export type { Permissions };

export const APPROVAL_POLICIES = ["strict", "balanced", "permissive"] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];

export interface Decision {
  decision: "approve" | "deny" | "narrow";
  policy: ApprovalPolicy;
  requested: Permissions;
  /** Never more than requested. */
  granted: Permissions;
  reasons: string[];
}

/** A decision, and which of its reasons changed which permission. */
export interface Verdict extends Decision {
  because: Partial<Record<keyof Permissions, string>>;
}

/**
 * The rules, per policy (a decision is approve, deny, or approve with a narrower permission):
 *
 * | asks for                      | strict             | balanced                        | permissive |
 * | bypass                        | deny               | narrow to workspace writes      | approve    |
 * | workspace writes              | narrow: read-only  | approve                         | approve    |
 * | shell / write tools allowed   | narrow: removed    | approve                         | approve    |
 * | calls to MCP servers          | narrow: none       | approve                         | approve    |
 */
export function decide(requested: Permissions, policy: ApprovalPolicy): Verdict {
  const granted: Permissions = {
    ...requested,
    shellTools: [...requested.shellTools],
    mcpServers: [...requested.mcpServers],
  };
  const reasons: string[] = [];
  const because: Verdict["because"] = {};
  const note = (permission: keyof Permissions, reason: string) => {
    because[permission] = reason;
    reasons.push(reason);
  };
  let denied = false;

  if (requested.bypass) {
    if (policy === "strict") {
      denied = true;
      note("bypass", "strict policy: bypassing permissions and the sandbox is never allowed");
    } else if (policy === "balanced") {
      granted.bypass = false;
      granted.workspaceWrite = true;
      note("bypass", "balanced policy: bypass narrowed to workspace writes");
    }
  }
  if (requested.workspaceWrite && policy === "strict") {
    granted.workspaceWrite = false;
    note("workspaceWrite", "strict policy: workspace writes narrowed to read-only");
  }
  if (requested.shellTools.length && policy === "strict") {
    granted.shellTools = [];
    note("shellTools", `strict policy: pre-approval of ${requested.shellTools.join(", ")} removed`);
  }
  if (requested.mcpServers.length && policy === "strict") {
    granted.mcpServers = [];
    note(
      "mcpServers",
      `strict policy: calls to MCP servers ${requested.mcpServers.join(", ")} not allowed`,
    );
  }

  if (denied) return { decision: "deny", policy, requested, granted: none(), reasons, because };
  const narrowed = JSON.stringify(granted) !== JSON.stringify(requested);
  const decision = narrowed ? "narrow" : "approve";
  return { decision, policy, requested, granted, reasons, because };
}

const none = (): Permissions => ({
  bypass: false,
  workspaceWrite: false,
  shellTools: [],
  mcpServers: [],
});
