import { join } from "node:path";
import type { ErrorCategory } from "../errors.js";
import { secretValues } from "./mcp-secrets.js";
import {
  categoryForMessage,
  categoryForStatus,
  isObject,
  jsonLine,
  dropLinesStarting,
  jsonLines,
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

/** Google Gemini CLI: `gemini -o stream-json`, prompt on stdin, stdout captured through a file. */
export const geminiProvider: Provider<GeminiOptions> = {
  name: "gemini",
  binary: "gemini",
  installCommand: "npm install -g @google/gemini-cli",
  testedVersions: { min: "0.61.0", max: "0.61.0" },
  auth: {
    // gemini's getAuthTypeFromEnv (0.61): these select a sign-in without its settings.json.
    envKeys: [
      "GEMINI_API_KEY",
      "GOOGLE_GENAI_USE_VERTEXAI",
      "GOOGLE_GENAI_USE_GCA",
      "GOOGLE_GEMINI_BASE_URL",
      "GEMINI_CLI_USE_COMPUTE_ADC",
    ],
    configDir: (env, home) => join(env.GEMINI_CLI_HOME || home, ".gemini"),
    // Google sign-in: oauth_creds.json, or gemini-credentials.json with file storage forced.
    credentialFiles: ["oauth_creds.json", "gemini-credentials.json"],
    fix: 'run `gemini` once and choose "Login with Google", or set GEMINI_API_KEY in the gateway\'s environment (a sign-in kept in the system keychain cannot be seen from outside)',
  },
  sessions: {
    newWithId: true,
    byDirectory: true,
    keepsModel: false,
    latestOption: "resumeLatest",
    // ~/.gemini/tmp/<project>/chats/session-<date>-<first 8 of the id>.jsonl (CLI-FACTS: gemini sessions).
    sessionFiles: (id, _cwd, env, home) => [
      join(
        env.GEMINI_CLI_HOME || home,
        ".gemini",
        "tmp",
        "*",
        "chats",
        `session-*-${id.slice(0, 8)}.jsonl`,
      ),
    ],
  },
  permissions: {
    requested: (o) => ({
      bypass: o.approvalMode === "yolo",
      workspaceWrite: o.approvalMode === "auto_edit",
    }),
    allowedTools: (o) => o.allowedTools,
    shellOrWrite: /^(run_shell_command|write_file|replace)\b/,
    withGrant: (o, grant) => ({
      ...o,
      allowedTools: grant.allowedTools,
      approvalMode: grant.bypass
        ? "yolo"
        : grant.workspaceWrite
          ? "auto_edit"
          : o.approvalMode === "default"
            ? "default"
            : undefined,
    }),
    fields: {
      approvalMode: {
        omitted: "default",
        permission: (asked) => (asked.approvalMode === "yolo" ? "bypass" : "workspaceWrite"),
      },
      allowedTools: { omitted: [], permission: () => "shellTools" },
    },
  },
  strictMcpByDefault: false,
  // gemini includes cached tokens in its input count and counts thinking tokens apart from output.
  tokens: { inputIncludesCacheRead: true, reasoningInOutput: false },
  reviewer: {
    // No structured-output flag: the prompt asks for a fenced JSON block.
    options: () => ({ approvalMode: "default" }),
    fencedJson: true,
  },
  // Its per-request MCP servers go in a system settings file, which gemini reads only there.
  needsRootOwnedFiles: (mcp) => Object.keys(mcp?.servers ?? {}).length > 0,
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
    mcp,
    scratchDir,
  }: InvocationRequest<GeminiOptions>): Invocation {
    const args = ["-o", "stream-json"];
    if (model) args.push("-m", model);
    if (session.mode === "resume") args.push("--resume", session.id);
    if (session.mode === "new-with-id") args.push("--session-id", session.id);
    if (session.mode === "latest") args.push("--resume", "latest");
    if (options.approvalMode) args.push("--approval-mode", options.approvalMode);
    if (options.allowedTools?.length) args.push("--allowed-tools", ...options.allowedTools);
    if (options.includeDirs?.length)
      args.push("--include-directories", options.includeDirs.join(","));
    // gemini 0.61 loses the end of a large stdout written to a pipe, so it gets a file.
    const invocation: Invocation = { args, stdin: prompt, stdoutToFile: true };
    const names = Object.keys(mcp?.servers ?? {});
    if (mcp && names.length) {
      // gemini has no flag for MCP servers: a per-request system settings file adds them. gemini
      // skips such a file unless root owns it and every directory above it, none writable by
      // group or others: the gateway puts scratchDir in such a place (src/root-owned.ts).
      const servers = Object.fromEntries(
        names.map((n) => [n, { ...mcp.servers[n], trust: mcp.callable.includes(n) }]),
      );
      invocation.files = { "gemini-settings.json": JSON.stringify({ mcpServers: servers }) };
      invocation.secrets = secretValues(mcp.servers);
      invocation.env = {
        GEMINI_CLI_SYSTEM_SETTINGS_PATH: join(scratchDir, "gemini-settings.json"),
      };
      // The flag also lets gemini call those servers' tools unasked: only for approved ones.
      if (mcp.callable.length) args.push("--allowed-mcp-server-names", ...mcp.callable);
    }
    return invocation;
  },

  progress(line: string): string | undefined {
    const event = jsonLine(line);
    if (event?.type === "init") return `gemini started (${str(event.model) ?? "auto model"})`;
    if (event?.type === "tool_use") return `gemini is using ${str(event.tool_name) ?? "a tool"}`;
    if (event?.type === "message" && event.role === "assistant") return "gemini is answering";
    return undefined;
  },

  // Tool results are not needed (tool_use events say the agent acted) and can be large.
  retain: dropLinesStarting('{"type":"tool_result"'),

  parse(run: RawRun): ParsedOutput {
    const document = tryJson(run.stdout.trim());
    const parsed = isObject(document) ? parseJsonDocument(document) : parseStream(run.stdout);
    // On failure gemini -o json prints its error JSON on stderr, after stack traces.
    const stderrDoc = parsed.error ? undefined : lastJsonBlock(run.stderr);
    if (!parsed.error && stderrDoc && isObject(stderrDoc.error)) {
      parsed.error = apiError(stderrDoc.error);
      parsed.nativeSessionId ??= str(stderrDoc.session_id);
    }
    if (!parsed.error && (!parsed.complete || run.exitCode !== 0)) parsed.error = exitError(run);
    if (parsed.error?.category === "cli_error" && run.exitCode !== null) {
      const status = statusForExit(run.exitCode);
      if (status) parsed.error.category = categoryForStatus(status);
    }
    const { complete: _complete, ...result } = parsed;
    return result;
  },
};

type Parsed = ParsedOutput & { complete: boolean };

/** `-o json`: one object with session_id, response and stats (or error). */
function parseJsonDocument(doc: Record<string, unknown>): Parsed {
  const parsed: Parsed = {
    text: str(doc.response) ?? "",
    nativeSessionId: str(doc.session_id),
    ...statsOf(doc.stats),
    raw: doc,
    complete: true,
    acted:
      isObject(doc.stats) &&
      isObject(doc.stats.tools) &&
      (num(doc.stats.tools.totalCalls) ?? 0) > 0,
  };
  if (isObject(doc.error)) parsed.error = apiError(doc.error);
  else if (!parsed.text && Array.isArray(doc.warnings) && doc.warnings.length) {
    // e.g. "Loop detected, stopping execution": exit 0, an empty response and a warning.
    parsed.error = {
      category: "cli_error",
      message: `gemini stopped without an answer: ${doc.warnings.join("; ")}`,
    };
  }
  return parsed;
}

/** `-o stream-json`: init, messages (assistant deltas), tool events, then one result event. */
function parseStream(stdout: string): Parsed {
  const parsed: Parsed = { text: "", usage: {}, complete: false };
  for (const event of jsonLines(stdout)) {
    if (event.type === "init") {
      parsed.nativeSessionId = str(event.session_id);
      parsed.model = str(event.model);
    } else if (event.type === "message" && event.role === "assistant") {
      parsed.text += str(event.content) ?? "";
    } else if (event.type === "tool_use") {
      parsed.acted = true;
    } else if (event.type === "result") {
      parsed.complete = true;
      parsed.raw = event;
      Object.assign(parsed, streamStatsOf(event.stats, parsed.model));
      if (event.status !== "success") {
        parsed.error = isObject(event.error)
          ? apiError(event.error)
          : { category: "cli_error", message: `gemini reported ${String(event.status)}` };
      }
    }
  }
  return parsed;
}

/** gemini wraps the API's error JSON in its message; unwrap it for a readable one and its status. */
function apiError(error: Record<string, unknown>): { category: ErrorCategory; message: string } {
  const message = str(error.message) ?? "gemini reported an error";
  const inner = /\{"error":\{.*\}\}/s.exec(message);
  const innerError = inner ? tryJson(inner[0]) : undefined;
  const api = isObject(innerError) && isObject(innerError.error) ? innerError.error : undefined;
  const code = num(api?.code) ?? num(error.code);
  return {
    category: code && code >= 400 ? categoryForStatus(code) : categoryForMessage(message),
    message: str(api?.message) ?? message,
  };
}

function exitError(run: RawRun): { category: ErrorCategory; message: string } {
  const code = run.exitCode;
  const tail = stderrTail(run.stderr);
  const known = code !== null ? EXIT_MEANINGS[code] : undefined;
  if (known)
    return {
      category: known.category,
      message: tail ? `${known.message}: ${tail}` : known.message,
    };
  const status = code !== null ? statusForExit(code) : undefined;
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

/** gemini exits with the HTTP status & 0xff: 244 = 500, 173 = 429, 247 = 503. */
function statusForExit(code: number): number | undefined {
  return [429, 500, 502, 503, 504, 401, 403].find((status) => (status & 0xff) === code);
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

/** The stream result's stats: totals, and per model input/output/cached. */
function streamStatsOf(
  stats: unknown,
  initModel: string | undefined,
): { usage: Usage; model?: string; turns?: number } {
  if (!isObject(stats)) return { usage: {} };
  return {
    usage: {
      inputTokens: num(stats.input_tokens),
      outputTokens: num(stats.output_tokens),
      cacheReadTokens: num(stats.cached),
    },
    model: mainStreamModel(stats.models, initModel),
    turns: 1,
  };
}

/**
 * Without -m the init event names "auto", and stats.models lists the router's model beside the
 * one that answered, without roles: the one that answered got the whole context, so the most input.
 */
function mainStreamModel(models: unknown, initModel: string | undefined): string | undefined {
  if (!isObject(models) || (initModel && initModel in models)) return initModel;
  let best = initModel;
  let bestInput = -1;
  for (const [name, entry] of Object.entries(models)) {
    const input = isObject(entry) ? (num(entry.input_tokens) ?? 0) : 0;
    if (input > bestInput) [best, bestInput] = [name, input];
  }
  return best;
}
