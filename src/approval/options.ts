import type { CliName } from "../providers/types.js";
import { shellOrWriteTools, type Permissions, type Verdict } from "./policy.js";

/** The permission options of every CLI's request, as the approval step sees them. */
export interface AnyOptions {
  allowedTools?: string[];
  dangerouslySkipPermissions?: boolean;
  fullAuto?: boolean;
  dangerouslyBypassApprovalsAndSandbox?: boolean;
  approvalMode?: "default" | "auto_edit" | "yolo";
}

/** One option the approval step changed: what was asked, what the CLI got, and the policy's reason. */
export interface Adjustment {
  field: keyof AnyOptions | "mcpServers";
  asked: unknown;
  applied: unknown;
  reason: string;
}

/** What a request's options ask for, in the policy's terms. */
export function permissionsOf(cli: CliName, o: AnyOptions, mcpServers: string[]): Permissions {
  return {
    bypass: Boolean(
      o.dangerouslySkipPermissions ||
      o.dangerouslyBypassApprovalsAndSandbox ||
      o.approvalMode === "yolo",
    ),
    workspaceWrite: Boolean(o.fullAuto || o.approvalMode === "auto_edit"),
    shellTools: shellOrWriteTools(cli, o.allowedTools),
    mcpServers,
  };
}

/** The CLI options that carry exactly the granted permissions. */
export function withGrant(
  cli: CliName,
  o: AnyOptions,
  granted: Permissions,
  requested: Permissions,
): AnyOptions {
  const removed = requested.shellTools.filter((t) => !granted.shellTools.includes(t));
  const allowedTools = o.allowedTools?.filter((t) => !removed.includes(t));
  switch (cli) {
    case "claude":
      return { ...o, allowedTools, dangerouslySkipPermissions: granted.bypass || undefined };
    case "codex":
      return {
        ...o,
        dangerouslyBypassApprovalsAndSandbox: granted.bypass || undefined,
        fullAuto: (!granted.bypass && granted.workspaceWrite) || undefined,
      };
    case "gemini":
      return {
        ...o,
        allowedTools,
        approvalMode: granted.bypass
          ? "yolo"
          : granted.workspaceWrite
            ? "auto_edit"
            : o.approvalMode === "default"
              ? "default"
              : undefined,
      };
  }
}

/** The permission options each CLI has, and what each means when it is left out. */
const FIELDS: Record<CliName, (keyof AnyOptions)[]> = {
  claude: ["dangerouslySkipPermissions", "allowedTools"],
  codex: ["dangerouslyBypassApprovalsAndSandbox", "fullAuto"],
  gemini: ["approvalMode", "allowedTools"],
};
const OMITTED: Record<keyof AnyOptions, unknown> = {
  allowedTools: [],
  dangerouslySkipPermissions: false,
  fullAuto: false,
  dangerouslyBypassApprovalsAndSandbox: false,
  approvalMode: "default",
};

/** Every option the grant changed, with the reason the policy gave for it. */
export function adjustments(
  cli: CliName,
  asked: AnyOptions,
  applied: AnyOptions,
  verdict: Verdict,
): Adjustment[] {
  const { because, requested, granted } = verdict;
  const narrowedBypass = requested.bypass && !granted.bypass;
  const permissionOf: Record<keyof AnyOptions, keyof Permissions> = {
    dangerouslySkipPermissions: "bypass",
    dangerouslyBypassApprovalsAndSandbox: "bypass",
    // A narrowed bypass turns into workspace writes: that is why fullAuto/auto_edit appear.
    fullAuto: narrowedBypass ? "bypass" : "workspaceWrite",
    approvalMode: asked.approvalMode === "yolo" ? "bypass" : "workspaceWrite",
    allowedTools: "shellTools",
  };
  const reasonFor = (permission: keyof Permissions, field?: keyof AnyOptions) =>
    because[permission] ??
    (field === "fullAuto" && applied.dangerouslyBypassApprovalsAndSandbox
      ? "dangerouslyBypassApprovalsAndSandbox already allows workspace writes: codex takes one of the two"
      : verdict.reasons.join("; "));
  const out: Adjustment[] = [];
  for (const field of FIELDS[cli]) {
    const before = asked[field] ?? OMITTED[field];
    const after = applied[field] ?? OMITTED[field];
    if (JSON.stringify(before) !== JSON.stringify(after))
      out.push({
        field,
        asked: before,
        applied: after,
        reason: reasonFor(permissionOf[field], field),
      });
  }
  if (JSON.stringify(requested.mcpServers) !== JSON.stringify(granted.mcpServers)) {
    out.push({
      field: "mcpServers",
      asked: requested.mcpServers,
      applied: granted.mcpServers,
      reason: reasonFor("mcpServers"),
    });
  }
  return out;
}
