import { ApprovalLog, type ApprovalRecord } from "../approval/log.js";
import { APPROVAL_POLICIES } from "../approval/policy.js";
import { Approvals, type Elicit, type Reviewed } from "../approval/service.js";
import type { ApprovalConfig } from "../config.js";
import { GatewayError, invalidInput } from "../errors.js";
import type { CliName } from "../providers/types.js";
import type { AnyCliRequest } from "../request.js";
import type { JobStore } from "../store/jobs.js";
import type { Caller, CallerScope } from "./caller.js";

/** approvals.jsonl, each record naming the HTTP client that asked (`clientToken`; absent over stdio). */
export class ClientApprovalLog extends ApprovalLog {
  constructor(
    path: string,
    private readonly scope: CallerScope,
  ) {
    super(path);
  }

  override append(record: ApprovalRecord): void {
    const caller = this.scope.current();
    super.append(caller ? ({ ...record, clientToken: caller.name } as ApprovalRecord) : record);
  }
}

/**
 * The approval step with the HTTP client's token limits in front: the first step of every CLI
 * job (plain requests, consult and review alike), so a refused request spawns nothing.
 */
export class ClientApprovals extends Approvals {
  constructor(
    private readonly approvalConfig: ApprovalConfig,
    log: ApprovalLog,
    private readonly scope: CallerScope,
    private readonly jobs: JobStore,
  ) {
    super(approvalConfig, log);
  }

  override async review(
    request: AnyCliRequest,
    correlationId: string,
    elicit?: Elicit,
  ): Promise<Reviewed> {
    const caller = this.scope.current();
    const limited = caller ? this.limit(caller, request) : request;
    return super.review(limited, correlationId, elicit);
  }

  /** Only the caller's own decisions, for an HTTP client. */
  override recent(limit: number, cli?: CliName): ApprovalRecord[] {
    const caller = this.scope.current();
    if (!caller) return super.recent(limit, cli);
    const mine = (r: ApprovalRecord) =>
      (r as ApprovalRecord & { clientToken?: string }).clientToken === caller.name;
    return super
      .recent(Math.max(limit * 20, 1000), cli)
      .filter(mine)
      .slice(0, limit);
  }

  private limit(caller: Caller, request: AnyCliRequest): AnyCliRequest {
    const token = `token "${caller.name}"`;
    if (caller.clis && !caller.clis.includes(request.cli))
      throw new GatewayError(
        "approval_denied",
        `${request.cli}: ${token} may use ${caller.clis.join(", ")} only`,
      );
    // The CLI's latest session in a directory may be another client's.
    if (request.resumeLatest)
      throw invalidInput(
        `${request.cli === "claude" ? "continueSession" : "resumeLatest"} is not available to HTTP clients (the latest session in a directory may be another client's): pass sessionId`,
      );
    if (caller.concurrency !== undefined) {
      const open = this.jobs.openCountOfClient(caller.name);
      if (open >= caller.concurrency)
        throw new GatewayError(
          "saturated",
          `${token} has ${open} request(s) queued or running (its limit: ${caller.concurrency}); try again when one ends`,
        );
    }
    if (!caller.maxPolicy) return request;
    const max = caller.maxPolicy;
    if (request.approvalStrategy === "legacy")
      throw new GatewayError(
        "approval_denied",
        `approvalStrategy "legacy": ${token} runs requests under the approval policy ${max} at most (use "mcp_managed")`,
      );
    const rank = (p: string) => APPROVAL_POLICIES.indexOf(p as (typeof APPROVAL_POLICIES)[number]);
    const fallback = this.approvalConfig.defaultPolicy;
    const policy = request.approvalPolicy ?? (rank(fallback) <= rank(max) ? fallback : max);
    if (rank(policy) > rank(max))
      throw new GatewayError(
        "approval_denied",
        `approvalPolicy "${policy}": ${token} allows ${APPROVAL_POLICIES.slice(0, rank(max) + 1).join(", ")} only`,
      );
    return { ...request, approvalStrategy: "mcp_managed", approvalPolicy: policy };
  }
}
