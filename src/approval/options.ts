import type { Grant, PermissionField, Permissions, Provider } from "../providers/types.js";
import type { Verdict } from "./policy.js";

/** One option the approval step changed: what was asked, what the CLI got, and the policy's reason. */
export interface Adjustment {
  /** A permission option of the CLI (its provider's `permissions.fields`), or the request's mcpServers. */
  field: string;
  asked: unknown;
  applied: unknown;
  reason: string;
}

/** The allowed-tool entries that grant running commands or writing files, by the provider's pattern. */
export function shellOrWriteTools<O>(
  provider: Provider<O>,
  allowedTools: string[] | undefined,
): string[] {
  const pattern = provider.permissions.shellOrWrite;
  return pattern ? (allowedTools ?? []).filter((tool) => pattern.test(tool)) : [];
}

/** What a request's options ask for, in the policy's terms. */
export function permissionsOf<O>(provider: Provider<O>, o: O, mcpServers: string[]): Permissions {
  const { permissions } = provider;
  return {
    ...permissions.requested(o),
    shellTools: shellOrWriteTools(provider, permissions.allowedTools?.(o)),
    mcpServers,
  };
}

/** The CLI options that carry exactly the granted permissions. */
export function withGrant<O>(
  provider: Provider<O>,
  o: O,
  granted: Permissions,
  requested: Permissions,
): O {
  const removed = requested.shellTools.filter((t) => !granted.shellTools.includes(t));
  const allowedTools = provider.permissions
    .allowedTools?.(o)
    ?.filter((tool) => !removed.includes(tool));
  const grant: Grant = { bypass: granted.bypass, workspaceWrite: granted.workspaceWrite };
  return provider.permissions.withGrant(o, allowedTools ? { ...grant, allowedTools } : grant);
}

/** Every option the grant changed, with the reason the policy gave for it. */
export function adjustments<O>(
  provider: Provider<O>,
  asked: O,
  applied: O,
  verdict: Verdict,
): Adjustment[] {
  const { because, requested, granted } = verdict;
  const narrowedBypass = requested.bypass && !granted.bypass;
  const value = (options: O, field: string) => (options as Record<string, unknown>)[field];
  const out: Adjustment[] = [];
  const fields = Object.entries(provider.permissions.fields) as [string, PermissionField<O>][];
  for (const [field, spec] of fields) {
    const before = value(asked, field) ?? spec.omitted;
    const after = value(applied, field) ?? spec.omitted;
    if (JSON.stringify(before) !== JSON.stringify(after))
      out.push({
        field,
        asked: before,
        applied: after,
        reason:
          because[spec.permission(asked, narrowedBypass)] ??
          spec.otherReason?.(applied) ??
          verdict.reasons.join("; "),
      });
  }
  if (JSON.stringify(requested.mcpServers) !== JSON.stringify(granted.mcpServers)) {
    out.push({
      field: "mcpServers",
      asked: requested.mcpServers,
      applied: granted.mcpServers,
      reason: because.mcpServers ?? verdict.reasons.join("; "),
    });
  }
  return out;
}
