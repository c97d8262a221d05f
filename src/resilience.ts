import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhenResult,
  retry,
  type CircuitBreakerPolicy,
} from "cockatiel";
import type { ResilienceConfig } from "./config.js";
import { GatewayError, isTransient, type ErrorCategory } from "./errors.js";
import type { Logger } from "./log.js";
import type { BreakerState } from "./request.js";
import { CLI_NAMES, type CliName } from "./providers/types.js";

/**
 * What the policies judge an attempt's result by: whether it failed transiently, and whether the
 * agent acted (then the turn is not re-run unasked). Any result with these fields will do.
 */
export interface Attempted {
  error?: { category: ErrorCategory };
  acted?: boolean;
}

/** The final result, with the real retry count and the CLI's breaker state after it. */
export type Retried<R> = R & { retryCount: number; circuit: BreakerState };

export interface BreakerStatus {
  state: BreakerState;
  /** While open: when the next request will be let through as a probe. */
  nextAttemptAt?: string;
}

const STATE: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half_open",
  [CircuitState.Isolated]: "open",
};

const failedTransiently = (r: unknown) => {
  const error = (r as Attempted).error;
  return error !== undefined && isTransient(error.category);
};

/**
 * Retries with exponential backoff and jitter, and a circuit breaker per CLI (cockatiel
 * policies). A failure is transient when the model API or the process timed out or failed
 * (rate_limited, provider_error, timeout, idle_timeout); a whole agent turn is re-run only when the
 * agent had not acted yet (no tool calls or edits in its output) or the request allows it.
 */
export class Resilience {
  private readonly breakers = new Map<
    CliName,
    { policy: CircuitBreakerPolicy; openedAt?: number }
  >();

  constructor(
    private readonly config: ResilienceConfig,
    logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    for (const cli of CLI_NAMES) {
      const policy = circuitBreaker(handleWhenResult(failedTransiently), {
        halfOpenAfter: config.breakerCooldownMs,
        breaker: new ConsecutiveBreaker(config.breakerThreshold),
      });
      const entry: { policy: CircuitBreakerPolicy; openedAt?: number } = { policy };
      policy.onBreak(() => {
        entry.openedAt = this.now();
        logger.warn(
          `${cli} circuit breaker opened after ${config.breakerThreshold} consecutive transient failures`,
        );
      });
      policy.onReset(() => logger.info(`${cli} circuit breaker closed again`));
      this.breakers.set(cli, entry);
    }
  }

  /** Refuses a request at once while its CLI's breaker is open, saying when to try again. */
  assertAvailable(cli: CliName): void {
    const status = this.status(cli);
    if (status.state === "open") {
      throw new GatewayError(
        "circuit_open",
        `The ${cli} circuit breaker is open after repeated transient failures; nothing was run. Next attempt allowed at ${status.nextAttemptAt}`,
      );
    }
  }

  status(cli: CliName): BreakerStatus {
    const { policy, openedAt } = this.breakers.get(cli)!;
    const state = STATE[policy.state];
    if (state !== "open" || openedAt === undefined) return { state };
    const next = openedAt + this.config.breakerCooldownMs;
    // cockatiel moves to half-open lazily, on the next call after the cooldown.
    if (next <= this.now()) return { state: "half_open" };
    return { state, nextAttemptAt: new Date(next).toISOString() };
  }

  /**
   * Runs `attempt` (one whole CLI run) under the CLI's retry and breaker policies and returns the
   * final result with the real retry count and breaker state.
   */
  async run<R extends Attempted>({
    cli,
    allowRerun,
    signal,
    attempt,
  }: {
    cli: CliName;
    /** Re-run a transient failure even after the agent acted. */
    allowRerun: boolean;
    signal: AbortSignal;
    /** The n-th attempt (from 0). */
    attempt: (n: number) => Promise<R>;
  }): Promise<Retried<R>> {
    const { policy } = this.breakers.get(cli)!;
    const retries = retry(
      handleWhenResult((r) => failedTransiently(r) && (!(r as Attempted).acted || allowRerun)),
      {
        maxAttempts: this.config.maxAttempts - 1,
        backoff: new ExponentialBackoff({
          initialDelay: this.config.baseDelayMs,
          maxDelay: 30_000,
        }),
      },
    );
    let attempts = 0;
    let last: R | undefined;
    try {
      last = await retries.execute(
        () =>
          policy.execute(async () => {
            last = await attempt(attempts++);
            return last;
          }),
        signal,
      );
    } catch (err) {
      if (!(err instanceof BrokenCircuitError)) throw err;
      // Another request is probing a half-open breaker, or it opened between our attempts.
      if (!last)
        throw new GatewayError(
          "circuit_open",
          `The ${cli} circuit breaker is open; nothing was run`,
        );
    }
    return { ...last!, retryCount: Math.max(0, attempts - 1), circuit: this.status(cli).state };
  }
}
