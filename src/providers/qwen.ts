import { join } from "node:path";
import { secretValues } from "./mcp-secrets.js";
import {
  categoryForMessage,
  categoryForStatus,
  isObject,
  jsonLine,
  jsonLines,
  num,
  stderrTail,
  str,
} from "./parse-util.js";
import type {
  AgentOptions,
  Invocation,
  InvocationRequest,
  LineVerdict,
  ParsedOutput,
  Provider,
  RawRun,
} from "./types.js";
import { agentPermissions } from "./agent-permissions.js";

export type QwenOptions = AgentOptions;

/** Tools that only read: using them is not acting on the world (a retry cannot repeat anything). */
const READ_ONLY_TOOLS = new Set([
  "read_file",
  "read_many_files",
  "glob",
  "grep_search",
  "list_directory",
  "tool_search",
  "web_fetch",
  "get_goal",
  "list_agents",
  "skill",
]);

/** How qwen reports a model stream that broke off after its own retries (sample qwen-fault-truncate). */
const STREAM_FAILURE = /stream ended without a finish reason|connection dropped|premature close/i;

/** The MCP config file the request's servers go in (0600, in scratchDir: never argv, never ~/.qwen). */
const MCP_FILE = "qwen-mcp.json";

/**
 * Qwen Code: `qwen -o stream-json --approval-mode …`, prompt on stdin (docs/cli-facts/qwen.md).
 * Served by agent_request (cli: "qwen").
 */
export const qwenProvider: Provider<QwenOptions> = {
  name: "qwen",
  binary: "qwen",
  installCommand: "npm install -g @qwen-code/qwen-code",
  testedVersions: { min: "0.24.4", max: "0.24.4" },
  agentRequest: {
    title: "Qwen Code",
    honours: ["resumeLatest", "bypassPermissions", "workspaceWrite", "allowedTools", "mcpServers"],
  },
  auth: {
    // An OpenAI-compatible endpoint: the key (and OPENAI_BASE_URL / OPENAI_MODEL) in its environment.
    envKeys: ["OPENAI_API_KEY", "DASHSCOPE_API_KEY"],
    configDir: (env, home) => env.QWEN_HOME || join(home, ".qwen"),
    // `qwen auth` is gone in 0.24; its provider keys live in settings.json.
    credentialFiles: ["settings.json"],
    fix: "set OPENAI_API_KEY (with OPENAI_BASE_URL and OPENAI_MODEL) in the gateway's environment, or configure a model provider in ~/.qwen/settings.json",
  },
  // ~/.qwen/projects/<cwd>/chats/<id>.jsonl: `-r <id>` from another directory finds nothing.
  sessions: { newWithId: true, byDirectory: true, keepsModel: false, latestOption: "resumeLatest" },
  permissions: agentPermissions(/^(run_shell_command|write_file|edit|notebook_edit)\b/),
  strictMcpByDefault: false,
  // OpenAI usage: prompt tokens include the cached ones, completion tokens the reasoning ones.
  tokens: { inputIncludesCacheRead: true, reasoningInOutput: true },
  reviewer: {
    // --approval-mode default headless offers no shell or write tool at all.
    options: () => ({}),
    fencedJson: true,
  },
  catalog: {
    models: ["qwen3-coder-plus", "qwen3-coder-flash", "qwen3-max"],
    aliases: { latest: "qwen3-coder-plus", flash: "qwen3-coder-flash" },
    cliAliases: ["coder-model"],
    cliDefault: "OPENAI_MODEL, else coder-model",
  },
  prices: {
    "qwen3-coder-plus": { input: 1, output: 5, cacheRead: 0.1 },
    "qwen3-coder-flash": { input: 0.3, output: 1.5, cacheRead: 0.03 },
    "qwen3-max": { input: 1.2, output: 6, cacheRead: 0.12 },
  },

  buildInvocation({
    prompt,
    model,
    session,
    options,
    mcp,
    scratchDir,
  }: InvocationRequest<QwenOptions>): Invocation {
    const args = ["-o", "stream-json"];
    if (model) args.push("-m", model);
    if (session.mode === "resume") args.push("-r", session.id);
    if (session.mode === "new-with-id") args.push("--session-id", session.id);
    if (session.mode === "latest") args.push("-c");
    // Always said: with no flag qwen 0.24 runs "auto", where a model call decides what to approve.
    const mode = options.bypassPermissions
      ? "yolo"
      : options.workspaceWrite
        ? "auto-edit"
        : "default";
    args.push("--approval-mode", mode);
    const allowed = [...(options.allowedTools ?? [])];
    const invocation: Invocation = { args, stdin: prompt };
    const names = Object.keys(mcp?.servers ?? {});
    if (mcp && names.length) {
      invocation.files = { [MCP_FILE]: JSON.stringify({ mcpServers: mcp.servers }) };
      invocation.secrets = secretValues(mcp.servers);
      args.push("--mcp-config", join(scratchDir, MCP_FILE));
      // `mcp__<server>` approves every tool of that server.
      for (const name of mcp.callable) allowed.push(`mcp__${name}`);
    }
    if (allowed.length) args.push("--allowed-tools", ...allowed);
    return invocation;
  },

  progress(line: string): string | undefined {
    const event = jsonLine(line);
    if (event?.type === "system" && event.subtype === "init")
      return `qwen started (${str(event.model) ?? "default model"})`;
    if (event?.type !== "assistant" || !isObject(event.message)) return undefined;
    const content = Array.isArray(event.message.content) ? event.message.content : [];
    const tool = content.find((c) => isObject(c) && c.type === "tool_use") as
      Record<string, unknown> | undefined;
    if (tool) return `qwen is using ${toolName(tool) ?? "a tool"}`;
    return "qwen is answering";
  },

  retain(head: string): LineVerdict {
    // Goal-state events say nothing parse needs; tool results can be whole files.
    if (head.startsWith('{"type":"stream_event"')) return "drop";
    if (head.startsWith('{"type":"user"')) return { replace: '{"type":"user"}' };
    return "keep";
  },

  parse(run: RawRun): ParsedOutput {
    let nativeSessionId: string | undefined;
    let model: string | undefined;
    let result: Record<string, unknown> | undefined;
    let acted = false;
    const thinking: string[] = [];
    const texts: string[] = [];
    for (const event of jsonLines(run.stdout)) {
      nativeSessionId = str(event.session_id) ?? nativeSessionId;
      if (event.type === "system" && event.subtype === "init") model = str(event.model);
      if (event.type === "result") result = event;
      if (event.type !== "assistant" || !isObject(event.message)) continue;
      for (const block of Array.isArray(event.message.content) ? event.message.content : []) {
        if (!isObject(block)) continue;
        if (block.type === "text" && str(block.text)) texts.push(str(block.text)!);
        if (block.type === "thinking" && str(block.thinking)) thinking.push(str(block.thinking)!);
        if (block.type === "tool_use" && !READ_ONLY_TOOLS.has(toolName(block) ?? "")) acted = true;
      }
    }
    const usage = isObject(result?.usage) ? result.usage : undefined;
    const parsed: ParsedOutput = {
      text: str(result?.result) ?? texts.at(-1) ?? "",
      nativeSessionId,
      model,
      usage: usage
        ? {
            inputTokens: num(usage.input_tokens),
            outputTokens: num(usage.output_tokens),
            cacheReadTokens: num(usage.cache_read_input_tokens),
          }
        : {},
      turns: num(result?.num_turns),
      acted,
      ...(thinking.length ? { thinking } : {}),
    };
    if (result?.is_error === true || (result && run.exitCode !== 0)) {
      // "[API Error: 500 mock injected 500 (status)]": the status says which failure it is.
      const message =
        (isObject(result.error) ? str(result.error.message) : undefined) ??
        `qwen ended with ${str(result.subtype) ?? "an error"} (exit ${run.exitCode ?? run.signal})`;
      const status = /API Error: (\d{3})\b/.exec(message);
      parsed.error = {
        category: status
          ? categoryForStatus(Number(status[1]))
          : STREAM_FAILURE.test(message)
            ? "provider_error"
            : categoryForMessage(message),
        message,
      };
    } else if (!result) {
      // No result line: a usage error, an unknown session (exit 1, stderr), a crash or a kill.
      const detail = stderrTail(run.stderr.replace(/^Ripgrep not available.*$/m, ""));
      parsed.error = {
        category: "cli_error",
        message: detail || `qwen exited with code ${run.exitCode ?? run.signal} without a result`,
      };
    }
    return parsed;
  },
};

/** The tool a tool_use block runs: through `tool_call`, the deferred (MCP) tool it names. */
function toolName(block: Record<string, unknown>): string | undefined {
  const name = str(block.name);
  if (name === "tool_call" && isObject(block.input)) return str(block.input.name) ?? name;
  return name;
}
