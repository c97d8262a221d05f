import type { Usage } from "../providers/types.js";

/** What the recorder writes for one CLI call: the writer's input, the read model's vocabulary. */

/** A call's status in `calls.status`, in the order a call can reach them. */
export const CALL_STATUSES = [
  "started",
  "completed",
  "failed",
  "canceled",
  "interrupted",
  "rejected",
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
/** How a started call can end. */
export type EndStatus = "completed" | "failed" | "canceled" | "interrupted";
/** The row id of a recorded call (0 when recording is disabled). */
export type CallId = number;

/** What is known when a request starts (or is rejected). */
export interface CallStart {
  correlationId: string;
  cli: string;
  /** The model requested (resolved alias), if any. */
  model?: string | null;
  /** The prompt as sent to the CLI (after optimization, if any). */
  prompt: string;
  /** The caller's prompt when an optimizer changed it; omit otherwise. */
  originalPrompt?: string | null;
  gatewaySessionId?: string | null;
  nativeSessionId?: string | null;
  jobId?: string | null;
  /** The consult/review call this CLI call is part of (every call of it shares the id). */
  consultationId?: string | null;
  cwd?: string | null;
  /** Circuit breaker state for this CLI when the call started ("closed", "open", "half_open"). */
  breakerState?: string | null;
  /** The approval decision record (stored as JSON). */
  approvalDecision?: unknown;
  /** Optimization savings (stored as JSON), e.g. { promptCharsBefore, promptCharsAfter, ... }. */
  optimization?: unknown;
  /** The HTTP client's token name that asked; null/absent over stdio. */
  clientToken?: string | null;
  /** Default: now. */
  startedAt?: Date | string;
}

/** What is known when it ends. Fields left out keep what start() recorded. */
export interface CallOutcome {
  /** Default: "failed" with an error, "canceled" when errorCategory is "canceled", else "completed". */
  status?: EndStatus;
  responseText?: string | null;
  /** The response's whole length, when responseText is only its start (a large reply). */
  responseChars?: number;
  /** The model the CLI reports it used. */
  model?: string | null;
  gatewaySessionId?: string | null;
  nativeSessionId?: string | null;
  jobId?: string | null;
  exitCode?: number | null;
  errorCategory?: string | null;
  errorMessage?: string | null;
  /** Default: the time from startedAt to endedAt. */
  durationMs?: number | null;
  usage?: Usage;
  /** The cost the CLI reported. Without it the recorder estimates one from the price table. */
  costUsd?: number | null;
  retryCount?: number | null;
  breakerState?: string | null;
  approvalDecision?: unknown;
  optimization?: unknown;
  /** Thinking or reasoning blocks the CLI emitted, in order (stored as a JSON array). */
  thinking?: readonly string[] | null;
  /** Default: now. */
  endedAt?: Date | string;
}
