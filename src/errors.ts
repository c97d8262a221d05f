/** Every failure the gateway reports falls into one of these categories. */
export const ERROR_CATEGORIES = [
  "invalid_input",
  /** The operator's own configuration (a file the gateway reads) is wrong: not the request. */
  "config_error",
  "cli_not_found",
  "spawn_error",
  "timeout",
  "idle_timeout",
  "output_overflow",
  "rate_limited",
  "provider_error",
  "auth_error",
  "cli_error",
  "canceled",
  "circuit_open",
  "approval_denied",
  "saturated",
  "interrupted",
  /** The shared PostgreSQL store could not be reached, or dropped during the request. */
  "database_unavailable",
  "internal",
] as const;

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** Failures that may succeed when tried again later without changing the request. */
const TRANSIENT: ReadonlySet<ErrorCategory> = new Set([
  "rate_limited",
  "provider_error",
  "timeout",
  "idle_timeout",
]);

export function isTransient(category: ErrorCategory): boolean {
  return TRANSIENT.has(category);
}

export class GatewayError extends Error {
  constructor(
    readonly category: ErrorCategory,
    message: string,
  ) {
    super(message);
    this.name = "GatewayError";
  }
}

/** How an error reads as text everywhere the gateway reports one: `[category] message`. */
export function errorText(category: string, message: string): string {
  return `[${category}] ${message}`;
}

export function invalidInput(message: string): GatewayError {
  return new GatewayError("invalid_input", message);
}
