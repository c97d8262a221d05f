import type { AgentOptions, PermissionOptions } from "./types.js";

/**
 * How agent_request's permission fields (the approval policy's own terms, the same for every CLI
 * it serves) map onto the policy: a provider served by agent_request says only which of its tools
 * run commands or write files.
 */
export function agentPermissions(shellOrWrite: RegExp): PermissionOptions<AgentOptions> {
  return {
    requested: (o) => ({
      bypass: Boolean(o.bypassPermissions),
      workspaceWrite: Boolean(o.workspaceWrite),
    }),
    allowedTools: (o) => o.allowedTools,
    shellOrWrite,
    withGrant: (o, grant) => ({
      ...o,
      bypassPermissions: grant.bypass || undefined,
      workspaceWrite: (!grant.bypass && grant.workspaceWrite) || undefined,
      allowedTools: grant.allowedTools,
    }),
    fields: {
      bypassPermissions: { omitted: false, permission: () => "bypass" },
      workspaceWrite: {
        omitted: false,
        permission: (_asked, narrowedBypass) => (narrowedBypass ? "bypass" : "workspaceWrite"),
        otherReason: (applied) =>
          applied.bypassPermissions
            ? "bypassPermissions already allows workspace writes: the CLI takes one of the two"
            : undefined,
      },
      allowedTools: { omitted: [], permission: () => "shellTools" },
    },
  };
}
