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
  num,
  stderrTail,
  str,
} from "./parse-util.js";
import type {
  Invocation,
  InvocationRequest,
  ParsedOutput,
  Provider,
  RawRun,
  Usage,
} from "./types.js";

export interface ClaudeOptions {
  allowedTools?: string[];
  disallowedTools?: string[];
  dangerouslySkipPermissions?: boolean;
  /** Added to the end of Claude Code's own system prompt (passed in a file, not on argv). */
  appendSystemPrompt?: string;
  /** The built-in tools claude may use at all (`--tools`), e.g. read-only ones for a reviewer. */
  tools?: string[];
  /** A JSON Schema the final answer must match (`--json-schema`): claude then answers with that JSON. */
  jsonSchema?: string;
}

const SYSTEM_PROMPT_FILE = "append-system-prompt.md";

/** A reviewer's built-in tools: reading and searching only. */
export const READ_ONLY_TOOLS = ["Read", "Grep", "Glob"];
/** Named too, so that no settings file can bring them back. */
export const WRITE_TOOLS = ["Bash", "Edit", "Write", "MultiEdit", "NotebookEdit"];

/** Claude Code: `claude -p --output-format stream-json --verbose`, prompt on stdin. */
export const claudeProvider: Provider<ClaudeOptions> = {
  name: "claude",
  binary: "claude",
  installCommand: "npm install -g @anthropic-ai/claude-code",
  testedVersions: { min: "2.1.331", max: "2.1.332" },
  auth: {
    envKeys: [
      "ANTHROPIC_API_KEY",
      "ANTHROPIC_AUTH_TOKEN",
      "CLAUDE_CODE_OAUTH_TOKEN",
      "CLAUDE_CODE_USE_BEDROCK",
      "CLAUDE_CODE_USE_VERTEX",
    ],
    configDir: (env, home) => env.CLAUDE_CONFIG_DIR || join(home, ".claude"),
    credentialFiles: [".credentials.json"],
    // `claude auth status` prints {"loggedIn": true|false, "authMethod": ...} (keychain logins included).
    statusCommand: {
      args: ["auth", "status"],
      signedIn: (stdout) => {
        try {
          const status = JSON.parse(stdout) as { loggedIn?: unknown };
          return typeof status.loggedIn === "boolean" ? status.loggedIn : undefined;
        } catch {
          return undefined;
        }
      },
    },
    fix: "run `claude` once and sign in with /login (or `claude setup-token`), or set ANTHROPIC_API_KEY in the gateway's environment",
  },
  sessions: {
    newWithId: true,
    byDirectory: true,
    keepsModel: false,
    latestOption: "continueSession",
    // <config>/projects/<cwd, each non-alphanumeric a "-">/<id>.jsonl (CLI-FACTS: claude sessions).
    sessionFiles: (id, _cwd, env, home) => [
      join(env.CLAUDE_CONFIG_DIR || join(home, ".claude"), "projects", "*", `${id}.jsonl`),
    ],
  },
  permissions: {
    requested: (o) => ({ bypass: Boolean(o.dangerouslySkipPermissions), workspaceWrite: false }),
    allowedTools: (o) => o.allowedTools,
    shellOrWrite: /^(Bash|Write|Edit|MultiEdit|NotebookEdit)\b/,
    withGrant: (o, grant) => ({
      ...o,
      allowedTools: grant.allowedTools,
      dangerouslySkipPermissions: grant.bypass || undefined,
    }),
    fields: {
      dangerouslySkipPermissions: { omitted: false, permission: () => "bypass" },
      allowedTools: { omitted: [], permission: () => "shellTools" },
    },
  },
  strictMcpByDefault: true,
  // claude counts cached tokens apart from input, thinking tokens in output.
  tokens: { inputIncludesCacheRead: false, reasoningInOutput: true },
  reviewer: {
    options: (schemaJson) => ({
      tools: READ_ONLY_TOOLS,
      disallowedTools: WRITE_TOOLS,
      jsonSchema: schemaJson,
    }),
    fencedJson: false,
  },
  catalog: {
    models: [
      "claude-opus-5-5",
      "claude-sonnet-5-5",
      "claude-haiku-5-5",
      "claude-sonnet-4-5",
      "claude-opus-4-8",
    ],
    aliases: { latest: "claude-opus-5-5" },
    cliAliases: ["opus", "sonnet", "haiku"],
    cliDefault: "claude-opus-5-5",
  },

  buildInvocation({
    prompt,
    model,
    session,
    options,
    mcp,
    scratchDir,
  }: InvocationRequest<ClaudeOptions>): Invocation {
    // stream-json (which needs --verbose with -p) ends with the same result object as json mode,
    // and its events before that feed progress notifications.
    const args = ["-p", "--output-format", "stream-json", "--verbose"];
    if (model) args.push("--model", model);
    if (session.mode === "resume") args.push("--resume", session.id);
    if (session.mode === "new-with-id") args.push("--session-id", session.id);
    if (session.mode === "latest") args.push("--continue");
    const invocation: Invocation = { args, stdin: prompt };
    if (mcp && Object.keys(mcp.servers).length) {
      const servers = Object.fromEntries(
        Object.entries(mcp.servers).map(([n, def]) => [n, { type: "stdio", ...def }]),
      );
      // A file, not the JSON itself: argv is readable by every local user (/proc/<pid>/cmdline),
      // and the servers' env often holds API keys.
      invocation.files = { "claude-mcp.json": JSON.stringify({ mcpServers: servers }) };
      invocation.secrets = secretValues(mcp.servers);
      args.push("--mcp-config", join(scratchDir, "claude-mcp.json"));
    }
    if (mcp?.strict) args.push("--strict-mcp-config");
    // mcp__<server> lets claude call every tool of that server without asking.
    const allowed = [
      ...(options.allowedTools ?? []),
      ...(mcp?.callable ?? []).map((n) => `mcp__${n}`),
    ];
    if (allowed.length) args.push("--allowedTools", ...allowed);
    if (options.disallowedTools?.length) args.push("--disallowedTools", ...options.disallowedTools);
    if (options.dangerouslySkipPermissions) args.push("--dangerously-skip-permissions");
    if (options.tools) args.push("--tools", options.tools.join(","));
    if (options.jsonSchema) args.push("--json-schema", options.jsonSchema);
    if (options.appendSystemPrompt !== undefined) {
      args.push("--append-system-prompt-file", join(scratchDir, SYSTEM_PROMPT_FILE));
      invocation.files = { ...invocation.files, [SYSTEM_PROMPT_FILE]: options.appendSystemPrompt };
    }
    return invocation;
  },

  progress(line: string): string | undefined {
    const event = jsonLine(line);
    if (event?.type === "system" && event.subtype === "init")
      return `claude started (${str(event.model) ?? "default model"})`;
    if (
      event?.type !== "assistant" ||
      !isObject(event.message) ||
      !Array.isArray(event.message.content)
    )
      return undefined;
    const tools = event.message.content
      .filter((b) => isObject(b) && b.type === "tool_use")
      .map((b) => str(b.name));
    if (tools.length) return `claude is using ${tools.join(", ")}`;
    return "claude is answering";
  },

  // Tool results come back as "user" events: not needed, and they can hold whole files.
  retain: dropLinesStarting('{"type":"user"'),

  parse(run: RawRun): ParsedOutput {
    const events = jsonLines(run.stdout);
    const result = events.findLast((event) => event.type === "result");
    if (!result) return failedWithoutResult(run);

    const text = str(result.result) ?? "";
    const parsed: ParsedOutput = {
      text,
      nativeSessionId: str(result.session_id),
      model: mainModel(result.modelUsage),
      usage: usageOf(result.usage),
      costUsd: num(result.total_cost_usd),
      turns: num(result.num_turns),
      thinking: thinkingOf(events),
      acted: events.some(isToolUse),
      raw: result,
    };
    if (result.is_error === true || result.subtype !== "success") {
      parsed.error = {
        category: errorCategory(result, text),
        message: text || `claude reported ${String(result.subtype)}`,
      };
    }
    return parsed;
  },
};

/** An assistant message that calls a tool. */
function isToolUse(event: Record<string, unknown>): boolean {
  return (
    event.type === "assistant" &&
    isObject(event.message) &&
    Array.isArray(event.message.content) &&
    event.message.content.some((b) => isObject(b) && b.type === "tool_use")
  );
}

function thinkingOf(events: Record<string, unknown>[]): string[] | undefined {
  const blocks: string[] = [];
  for (const event of events) {
    if (
      event.type !== "assistant" ||
      !isObject(event.message) ||
      !Array.isArray(event.message.content)
    )
      continue;
    for (const block of event.message.content) {
      if (isObject(block) && block.type === "thinking" && typeof block.thinking === "string")
        blocks.push(block.thinking);
    }
  }
  return blocks.length ? blocks : undefined;
}

function errorCategory(result: Record<string, unknown>, text: string): ErrorCategory {
  const status = num(result.api_error_status);
  if (status) return categoryForStatus(status);
  return categoryForMessage(text);
}

function failedWithoutResult(run: RawRun): ParsedOutput {
  const detail = stderrTail(run.stderr) || run.stdout.trim().slice(0, 2000);
  let message =
    detail || `claude exited with code ${run.exitCode ?? run.signal} and printed no result`;
  if (/root\/sudo privileges/.test(detail)) {
    message +=
      "\nclaude refuses dangerouslySkipPermissions when run as root unless IS_SANDBOX=1 is set in the gateway's environment (only do that inside a sandbox).";
  }
  return { text: "", usage: {}, error: { category: "cli_error", message } };
}

function usageOf(value: unknown): Usage {
  if (!isObject(value)) return {};
  const details = isObject(value.output_tokens_details) ? value.output_tokens_details : {};
  return {
    inputTokens: num(value.input_tokens),
    outputTokens: num(value.output_tokens),
    cacheReadTokens: num(value.cache_read_input_tokens),
    cacheWriteTokens: num(value.cache_creation_input_tokens),
    reasoningTokens: num(details.thinking_tokens),
  };
}

/** modelUsage lists every model the turn used (subagents too); the main one produced the most output. */
function mainModel(modelUsage: unknown): string | undefined {
  if (!isObject(modelUsage)) return undefined;
  let best: string | undefined;
  let bestOutput = -1;
  for (const [model, stats] of Object.entries(modelUsage)) {
    const output = isObject(stats) ? (num(stats.outputTokens) ?? 0) : 0;
    if (output > bestOutput) [best, bestOutput] = [model, output];
  }
  return best;
}
