import { randomUUID } from "node:crypto";

// Correlation ids tie a request's log lines, its flight-recorder row, its job and its result
// together; every one the gateway makes is made here.

/** The caller's correlation id, or a fresh one. */
export function correlationIdOf(given: string | undefined): string {
  return given ?? randomUUID();
}

/** A consult/review child job's: which consultation, which CLI, which turn. */
export function childCorrelationId(parentId: string, cli: string, label: string): string {
  return `${parentId}:${cli}:${label}`;
}
