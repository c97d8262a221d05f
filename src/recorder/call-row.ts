import { estimateCost, type PriceTable } from "../store/prices.js";
import { redactJson, redactSecrets } from "../store/redact.js";
import type { CallId, CallOutcome, CallStart, CallStatus, EndStatus } from "./types.js";

/**
 * What a call becomes in the `calls` table: every text redacted (src/store/redact.ts) and cut to
 * size, JSON fields serialized, the cost estimated from the price table when the CLI reported none.
 */

/** What the writer keeps of a started call until it ends. */
export interface OpenCall {
  cli: string;
  model: string | null;
  startedMs: number;
}

export interface CallRowOptions {
  /** Longer texts are cut to this many characters, with a marker. */
  maxTextChars: number;
  /** Recorded with every row. */
  instanceId: string;
  prices: PriceTable;
}

/** The columns of the INSERT (start and rejected), in the order of the statement. */
export const INSERT_COLUMNS = [
  "correlation_id",
  "started_at",
  "ended_at",
  "duration_ms",
  "status",
  "cli",
  "model",
  "prompt",
  "prompt_chars",
  "original_prompt",
  "error_category",
  "error_message",
  "breaker_state",
  "gateway_session_id",
  "native_session_id",
  "job_id",
  "consultation_id",
  "cwd",
  "approval_decision",
  "optimization",
  "instance_id",
  "client_token",
];

export class CallRows {
  constructor(private readonly o: CallRowOptions) {}

  /** The INSERT's values for a call that starts (or is rejected). */
  inserted(
    call: CallStart,
    status: CallStatus,
    startedAt: string,
    rest: Record<string, unknown>,
  ): Record<string, unknown> {
    const original =
      call.originalPrompt !== undefined && call.originalPrompt !== call.prompt
        ? call.originalPrompt
        : null;
    return {
      correlation_id: call.correlationId,
      started_at: startedAt,
      status,
      cli: call.cli,
      model: call.model ?? null,
      prompt: this.text(call.prompt),
      prompt_chars: call.prompt.length,
      original_prompt: this.text(original),
      breaker_state: call.breakerState ?? null,
      gateway_session_id: call.gatewaySessionId ?? null,
      native_session_id: call.nativeSessionId ?? null,
      job_id: call.jobId ?? null,
      consultation_id: call.consultationId ?? null,
      cwd: this.text(call.cwd),
      approval_decision: this.json(call.approvalDecision),
      optimization: this.json(call.optimization),
      instance_id: this.o.instanceId,
      client_token: call.clientToken ?? null,
      ...rest,
    };
  }

  /** Redacted, and cut to maxTextChars with a marker saying how much was cut. */
  text(value: string | null | undefined, chars = value?.length ?? 0): string | null {
    if (value === null || value === undefined) return null;
    if (chars > this.o.maxTextChars) {
      const cut = chars - this.o.maxTextChars;
      return `${redactSecrets(value.slice(0, this.o.maxTextChars))}\n[… ${cut} more characters not recorded]`;
    }
    return redactSecrets(value);
  }

  private json(value: unknown): string | null {
    if (value === undefined || value === null) return null;
    return JSON.stringify(redactJson(value)) ?? null;
  }

  private thinking(blocks: readonly string[] | null | undefined): string | null {
    if (!blocks || blocks.length === 0) return null;
    return JSON.stringify(blocks.map((b) => this.text(b)));
  }

  /**
   * The UPDATE's values for a call that ends, and the optional columns it sets: those start() may
   * have set are updated only when the outcome brings a value.
   */
  finished(
    id: CallId,
    known: OpenCall,
    outcome: CallOutcome,
  ): { values: Record<string, unknown>; set: string[] } {
    const endedAt = isoOf(outcome.endedAt);
    const status = outcome.status ?? statusOf(outcome);
    const model = outcome.model ?? known.model;
    let cost = outcome.costUsd ?? null;
    let estimated = 0;
    if (cost === null) {
      const estimate = estimateCost(this.o.prices, known.cli, model, outcome.usage);
      if (estimate !== undefined) [cost, estimated] = [estimate, 1];
    }
    const u = outcome.usage ?? {};
    const response = outcome.responseText ?? null;
    const responseChars = outcome.responseChars ?? response?.length;
    const values: Record<string, unknown> = {
      id,
      status,
      ended_at: endedAt,
      duration_ms:
        outcome.durationMs ?? Math.max(0, Math.round(Date.parse(endedAt) - known.startedMs)),
      response: this.text(response, responseChars),
      response_chars: response === null ? null : responseChars,
      error_category: outcome.errorCategory ?? null,
      error_message: this.text(outcome.errorMessage),
      exit_code: outcome.exitCode ?? null,
      input_tokens: u.inputTokens ?? null,
      output_tokens: u.outputTokens ?? null,
      cache_read_tokens: u.cacheReadTokens ?? null,
      cache_write_tokens: u.cacheWriteTokens ?? null,
      reasoning_tokens: u.reasoningTokens ?? null,
      cost_usd: cost,
      cost_estimated: estimated,
      thinking: this.thinking(outcome.thinking),
    };
    // Columns start() may have set are updated only when the outcome brings a value (and an
    // indexed column left out of the SET list costs no index update).
    const optional: [string, unknown][] = [
      ["model", outcome.model],
      ["retry_count", outcome.retryCount],
      ["breaker_state", outcome.breakerState],
      ["gateway_session_id", outcome.gatewaySessionId],
      ["native_session_id", outcome.nativeSessionId],
      ["job_id", outcome.jobId],
      ["approval_decision", this.json(outcome.approvalDecision)],
      ["optimization", this.json(outcome.optimization)],
    ];
    const set: string[] = [];
    for (const [column, value] of optional)
      if (value !== undefined && value !== null) {
        set.push(column);
        values[column] = value;
      }
    return { values, set };
  }
}

function statusOf(outcome: CallOutcome): EndStatus {
  if (outcome.errorCategory === "canceled") return "canceled";
  return outcome.errorCategory || outcome.errorMessage ? "failed" : "completed";
}

export function isoOf(value: Date | string | undefined): string {
  if (value === undefined) return new Date().toISOString();
  return typeof value === "string" ? new Date(value).toISOString() : value.toISOString();
}
