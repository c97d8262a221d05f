import type { ErrorCategory } from "../errors.js";
import {
  categoryForMessage,
  categoryForStatus,
  isObject,
  lastJsonBlock,
  num,
  stderrTail,
  str,
  tryJson,
} from "./parse-util.js";
import type {
  Invocation,
  InvocationRequest,
  ParsedOutput,
  Provider,
  RawRun,
  Usage,
} from "./types.js";

export const GEMINI_APPROVAL_MODES = ["default", "auto_edit", "yolo"] as const;

export interface GeminiOptions {
  approvalMode?: (typeof GEMINI_APPROVAL_MODES)[number];
  allowedTools?: string[];
  includeDirs?: string[];
}

/** Exit codes gemini uses for its own conditions (API errors exit with HTTP status & 0xff). */
const EXIT_MEANINGS: Record<number, { category: ErrorCategory; message: string }> = {
  41: { category: "auth_error", message: "gemini rejected its authentication settings (exit 41)" },
  42: { category: "cli_error", message: "gemini could not find the session to resume (exit 42)" },
  55: {
    category: "cli_error",
    message:
      "gemini refuses to run in an untrusted folder (exit 55): trust it in gemini once, or set GEMINI_CLI_TRUST_WORKSPACE=true in the gateway's environment",
  },
};

/** Google Gemini CLI: `gemini -o json`, prompt on stdin, stdout captured through a file. */
export const geminiProvider: Provider<GeminiOptions> = {
  name: "gemini",
  binary: "gemini",
  installCommand: "npm install -g @google/gemini-cli",
  supportsNewSessionId: true,
  catalog: {
    models: [
      "gemini-3.1-pro-preview",
      "gemini-3-flash-preview",
      "gemini-2.5-pro",
      "gemini-2.5-flash",
      "gemini-2.5-flash-lite",
    ],
    aliases: {
      latest: "gemini-3.1-pro-preview",
      pro: "gemini-2.5-pro",
      flash: "gemini-2.5-flash",
    },
    cliAliases: [],
    cliDefault: "auto (gemini routes each turn)",
  },

  buildInvocation({
    prompt,
    model,
    session,
    options,
  }: InvocationRequest<GeminiOptions>): Invocation {
    const args = ["-o", "json"];
    if (model) args.push("-m", model);
    if (session.mode === "resume") args.push("--resume", session.id);
    if (session.mode === "new-with-id") args.push("--session-id", session.id);
    if (session.mode === "latest") args.push("--resume", "latest");
    if (options.approvalMode) args.push("--approval-mode", options.approvalMode);
    if (options.allowedTools?.length) args.push("--allowed-tools", ...options.allowedTools);
    if (options.includeDirs?.length)
      args.push("--include-directories", options.includeDirs.join(","));
    // gemini 0.61 loses the end of a large stdout written to a pipe, so it gets a file.
    return { args, stdin: prompt, stdoutToFile: true };
  },

  parse(run: RawRun): ParsedOutput {
    const out = tryJson(run.stdout.trim());
    const result = isObject(out) ? out : undefined;
    // On failure the JSON goes to stderr, after stack traces.
    const errorDoc = result?.error ? result : lastJsonBlock(run.stderr);

    const parsed: ParsedOutput = {
      text: str(result?.response) ?? "",
      nativeSessionId: str(result?.session_id) ?? str(errorDoc?.session_id),
      ...statsOf(result?.stats),
      raw: result,
    };
    const error = errorDoc && isObject(errorDoc.error) ? errorDoc.error : undefined;
    if (error) {
      const message = str(error.message) ?? "gemini reported an error";
      const code = num(error.code);
      parsed.error = {
        category: code && code >= 400 ? categoryForStatus(code) : categoryForMessage(message),
        message: apiMessage(message),
      };
    } else if (!result || run.exitCode !== 0) {
      parsed.error = exitError(run);
    } else if (!parsed.text && Array.isArray(result.warnings) && result.warnings.length) {
      // e.g. "Loop detected, stopping execution": exit 0, an empty response and a warning.
      parsed.error = {
        category: "cli_error",
        message: `gemini stopped without an answer: ${result.warnings.join("; ")}`,
      };
    }
    return parsed;
  },
};

function exitError(run: RawRun): { category: ErrorCategory; message: string } {
  const code = run.exitCode;
  const tail = stderrTail(run.stderr);
  const known = code !== null ? EXIT_MEANINGS[code] : undefined;
  if (known)
    return {
      category: known.category,
      message: tail ? `${known.message}: ${tail}` : known.message,
    };
  // gemini exits with the HTTP status & 0xff: 244 = 500, 173 = 429, 247 = 503.
  const status =
    code !== null
      ? [429, 500, 502, 503, 504, 401, 403].find((s) => (s & 0xff) === code)
      : undefined;
  if (status)
    return { category: categoryForStatus(status), message: tail || `gemini API error ${status}` };
  if (code === 0) {
    // gemini exits 0 when killed by SIGTERM, with nothing on stdout.
    return { category: "cli_error", message: tail || "gemini exited without printing a result" };
  }
  return {
    category: tail ? categoryForMessage(tail) : "cli_error",
    message: tail || `gemini exited with code ${code ?? run.signal} without a result`,
  };
}

/** gemini wraps the API's error JSON in its message; unwrap it for a readable one. */
function apiMessage(message: string): string {
  const inner = tryJson(message);
  if (isObject(inner) && isObject(inner.error)) return str(inner.error.message) ?? message;
  return message;
}

/** stats.models lists every model a turn used (the router too); tokens are summed, the main one named. */
function statsOf(stats: unknown): { usage: Usage; model?: string; turns?: number } {
  if (!isObject(stats) || !isObject(stats.models)) return { usage: {} };
  const usage: Required<Usage> = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  };
  let model: string | undefined;
  let requests = 0;
  for (const [name, entry] of Object.entries(stats.models)) {
    if (!isObject(entry)) continue;
    const tokens = isObject(entry.tokens) ? entry.tokens : {};
    usage.inputTokens += num(tokens.prompt) ?? num(tokens.input) ?? 0;
    usage.outputTokens += num(tokens.candidates) ?? 0;
    usage.cacheReadTokens += num(tokens.cached) ?? 0;
    usage.reasoningTokens += num(tokens.thoughts) ?? 0;
    if (isObject(entry.roles) && "main" in entry.roles) model = name;
    if (isObject(entry.api)) requests += num(entry.api.totalRequests) ?? 0;
    model ??= name;
  }
  return { usage, model, turns: requests ? 1 : undefined };
}
