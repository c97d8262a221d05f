// What the flight recorder keeps of a request: the mapping of a request, its job and its result to
// the recorder's rows (start, finish, rejected). The recorder itself stores and redacts.
import type { Reviewed } from "../approval/service.js";
import { correlationIdOf } from "../correlation.js";
import { GatewayError } from "../errors.js";
import { expandedLength, expandedPrefix, hasLargeText } from "../process/large-text.js";
import type { CliName } from "../providers/types.js";
import type { BreakerState, GatewayResult, PreparedRequest } from "../request.js";
import type { JobStatus } from "../store/jobs.js";
import type { CallOutcome, CallStart } from "../recorder/writer.js";

/** The row of an admitted request, before it runs. */
export function startRow(call: {
  prepared: PreparedRequest;
  reviewed: Reviewed;
  jobId: string;
  consultationId?: string;
  breakerState: BreakerState;
}): CallStart {
  const { prepared } = call;
  return {
    correlationId: prepared.correlationId,
    cli: prepared.cli,
    model: prepared.model,
    prompt: prepared.prompt,
    originalPrompt: prepared.originalPrompt,
    gatewaySessionId: prepared.gatewaySessionId,
    jobId: call.jobId,
    consultationId: call.consultationId,
    cwd: prepared.cwd,
    breakerState: call.breakerState,
    approvalDecision: call.reviewed.approval,
    optimization: prepared.optimization.prompt ? prepared.optimization : undefined,
  };
}

/** The same row finished: the result, and how the job ended. */
export function finishRow(result: GatewayResult, status: JobStatus): CallOutcome {
  return {
    status: status === "queued" || status === "running" ? undefined : status,
    ...responseOf(result.text),
    model: result.model,
    gatewaySessionId: result.gatewaySessionId,
    nativeSessionId: result.nativeSessionId,
    exitCode: result.exitCode,
    errorCategory: result.error?.category,
    errorMessage: result.error?.message,
    durationMs: result.durationMs,
    usage: result.usage,
    costUsd: result.costUsd,
    retryCount: result.retryCount,
    breakerState: result.circuit,
    optimization:
      result.optimization?.prompt || result.optimization?.response
        ? result.optimization
        : undefined,
    thinking: result.thinking,
  };
}

/**
 * The recorder keeps the first million characters of a response (its default maxTextChars): of a
 * reply with large texts (process/large-text.ts) only about that much is decoded for it.
 */
const RECORDED_CHARS = 1_000_000;

function responseOf(text: string): Pick<CallOutcome, "responseText" | "responseChars"> {
  if (!hasLargeText(text)) return { responseText: text };
  return {
    responseText: expandedPrefix(text, RECORDED_CHARS + 1),
    responseChars: expandedLength(text),
  };
}

/**
 * The row of a request refused before anything ran (status "rejected"), from whatever arguments
 * it came with: they may not have passed validation.
 */
export function rejectedRow(
  cli: CliName,
  args: Record<string, unknown>,
  err: unknown,
): [CallStart, GatewayError] {
  const error = err instanceof GatewayError ? err : new GatewayError("internal", String(err));
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  return [
    {
      correlationId: correlationIdOf(text(args.correlationId)),
      cli,
      model: text(args.model),
      prompt: text(args.prompt) ?? "",
      cwd: text(args.cwd),
      consultationId: text(args.consultationId),
    },
    error,
  ];
}
