import { randomUUID } from "node:crypto";
import type { ApprovalConfig } from "../config.js";
import { GatewayError, invalidInput } from "../errors.js";
import type { AnyCliRequest } from "../request.js";
import { missingServersError, selectMcpServers, type McpSelection } from "../mcp-servers.js";
import type { CliName } from "../providers/types.js";
import type { ApprovalLog, ApprovalRecord } from "./log.js";
import { providerOf } from "../providers/index.js";
import { adjustments, permissionsOf, withGrant } from "./options.js";
import { decide } from "./policy.js";

/** Asks the person at the client (MCP elicitation); resolves to their answer. */
export type Elicit = (message: string) => Promise<"accept" | "decline" | "cancel">;

export interface Reviewed {
  request: AnyCliRequest;
  approval?: ApprovalRecord;
  mcp: Omit<McpSelection, "servers">;
}

/**
 * The approval step of the pipeline. `legacy`: the caller's permission options go to the CLI as
 * given. `mcp_managed`: the gateway decides under a policy, runs the request with the least
 * privilege that serves it (never more than asked), records every decision, and refuses a denied
 * request before anything starts.
 */
export class Approvals {
  constructor(
    private readonly config: ApprovalConfig,
    private readonly log: ApprovalLog,
  ) {}

  async review(request: AnyCliRequest, correlationId: string, elicit?: Elicit): Promise<Reviewed> {
    const { cli } = request;
    const strategy = request.approvalStrategy ?? "legacy";
    if (strategy === "legacy" && request.approvalPolicy) {
      throw invalidInput('approvalPolicy applies only with approvalStrategy "mcp_managed"');
    }
    const selection = selectMcpServers(this.config.mcpConfigPath, request.mcpServers ?? []);
    const provider = providerOf(cli);
    const strictMcp =
      provider.strictMcpByDefault &&
      request.strictMcpConfig !== false &&
      selection.requested.length > 0;
    if (strictMcp && selection.missing.length) {
      throw missingServersError(selection, this.config.mcpConfigPath);
    }
    const { servers, ...mcp } = selection;
    const { options } = request;
    const mcpPlan = (callable: string[]) => ({
      servers: Object.fromEntries(
        Object.entries(servers).filter(
          ([name]) => strategy === "legacy" || callable.includes(name),
        ),
      ),
      callable,
      strict: strictMcp || request.strictMcpConfig === true,
    });

    if (strategy === "legacy") return { request: { ...request, mcp: mcpPlan([]) }, mcp };

    const requested = permissionsOf(provider, options, selection.enabled);
    const policy = request.approvalPolicy ?? this.config.defaultPolicy;
    let verdict = decide(requested, policy);
    let elicitation: ApprovalRecord["elicitation"];
    if (verdict.decision === "deny" && this.config.elicitation) {
      elicitation = elicit ? await elicit(askText(cli, verdict.reasons)) : "unavailable";
      if (elicitation === "accept") {
        verdict = {
          ...verdict,
          decision: "approve",
          granted: requested,
          reasons: [...verdict.reasons, "approved by the person at the client"],
        };
      }
    }
    const denied = verdict.decision === "deny";
    const granted = denied ? undefined : withGrant(provider, options, verdict.granted, requested);
    const { because: _because, ...decision } = verdict;
    const approval: ApprovalRecord = {
      id: randomUUID(),
      at: new Date().toISOString(),
      cli,
      correlationId,
      ...decision,
      // Nothing silent: every option run otherwise than asked, and why.
      ...(granted ? { adjusted: adjustments(provider, options, granted, verdict) } : {}),
      ...(elicitation ? { elicitation } : {}),
    };
    this.log.append(approval);
    if (!granted) {
      throw new GatewayError(
        "approval_denied",
        `Denied by the ${policy} approval policy: ${verdict.reasons.join("; ")}`,
      );
    }
    return {
      // withGrant returns options of this CLI's own type: the request stays the member it was.
      request: {
        ...request,
        options: granted,
        mcp: mcpPlan(verdict.granted.mcpServers),
      } as AnyCliRequest,
      approval,
      mcp,
    };
  }

  recent(limit: number, cli?: CliName): ApprovalRecord[] {
    return this.log.recent(limit, cli);
  }
}

function askText(cli: CliName, reasons: string[]): string {
  return `Allow this ${cli} request anyway? The approval policy would deny it: ${reasons.join("; ")}`;
}
