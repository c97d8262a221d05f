import type { ErrorCategory } from "../errors.js";
import type { LineVerdict } from "./types.js";

/** Parse a whole document as JSON, or undefined. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON objects of a JSONL stream, skipping lines that are not JSON objects. */
export function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    const value = jsonLine(line);
    if (value) out.push(value);
  }
  return out;
}

/** A retain function that drops the lines starting with one of `prefixes`. */
export function dropLinesStarting(...prefixes: string[]): (head: string) => LineVerdict {
  return (head) => (prefixes.some((prefix) => head.startsWith(prefix)) ? "drop" : "keep");
}

/**
 * The last top-level JSON object in text that may have other lines before it (gemini prints its
 * error object pretty-printed after stack traces on stderr). Looks for a line that is exactly "{".
 */
export function lastJsonBlock(text: string): Record<string, unknown> | undefined {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]?.trimEnd() !== "{") continue;
    const value = tryJson(lines.slice(i).join("\n"));
    if (isObject(value)) return value;
  }
  return undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The category of an HTTP status reported by a model API. */
export function categoryForStatus(status: number): ErrorCategory {
  if (status === 429 || status === 529) return "rate_limited";
  if (status === 401 || status === 403) return "auth_error";
  if (status === 408) return "timeout";
  if (status >= 500) return "provider_error";
  return "cli_error";
}

/** The category of an error message, for CLIs that report failures only as text. */
export function categoryForMessage(message: string): ErrorCategory {
  const status = /\b(429|529|401|403|408|5\d\d)\b/.exec(message);
  if (status?.[1]) return categoryForStatus(Number(status[1]));
  if (/rate.?limit|too many requests|overloaded|quota|resource.?exhausted/i.test(message)) {
    return "rate_limited";
  }
  if (/unauthori[sz]ed|invalid api key|authentication|permission denied by api/i.test(message)) {
    return "auth_error";
  }
  if (/timed? ?out|timeout/i.test(message)) return "timeout";
  if (
    /high demand|internal server error|service unavailable|bad gateway|stream disconnected|connection (reset|refused|closed)|network error|ECONNRESET|ECONNREFUSED|terminated|UNAVAILABLE|INTERNAL/i.test(
      message,
    )
  ) {
    return "provider_error";
  }
  return "cli_error";
}

/** The last few non-empty lines of a CLI's stderr: enough to say what went wrong. */
export function stderrTail(stderr: string, lines = 5): string {
  return stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join("\n");
}

/** The JSON object on one line of streamed output, or undefined. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return undefined;
  const value = tryJson(trimmed);
  return isObject(value) ? value : undefined;
}
