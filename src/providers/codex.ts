import { join } from "node:path";
import {
  categoryForMessage,
  isObject,
  jsonLine,
  jsonLines,
  num,
  stderrTail,
  str,
} from "./parse-util.js";
import type { LineVerdict } from "../process/runner.js";
import type { Invocation, InvocationRequest, ParsedOutput, Provider, RawRun } from "./types.js";

export interface CodexOptions {
  /** The seed's full-auto mode. codex 0.169 removed --full-auto; its equivalent is `-s workspace-write`. */
  fullAuto?: boolean;
  dangerouslyBypassApprovalsAndSandbox?: boolean;
  /** `-s read-only`, said explicitly (it is also exec's default). */
  readOnly?: boolean;
  /** A JSON Schema (strict-mode compatible) for the final message (`--output-schema <file>`). */
  outputSchema?: string;
}

/** A TOML value for `codex -c key=value`: JSON strings and arrays are valid TOML; tables are inline. */
function toml(value: string | string[] | Record<string, string>): string {
  if (typeof value === "string" || Array.isArray(value)) return JSON.stringify(value);
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`)
    .join(",")}}`;
}

/** Items through which the agent acts on the world. */
const ACTIONS = new Set(["command_execution", "file_change", "mcp_tool_call", "web_search"]);
/** How codex starts every item event: `{"type":"item.started","item":{"id":"item_3","type":"command_execution"`. */
const ITEM_HEAD = /^\{"type":"(item\.[a-z]+)","item":\{"id":"[^"]*","type":"([a-z_]+)"/;

/** OpenAI Codex: `codex exec --json --skip-git-repo-check … -`, prompt on stdin. */
export const codexProvider: Provider<CodexOptions> = {
  name: "codex",
  binary: "codex",
  installCommand: "npm install -g @openai/codex",
  supportsNewSessionId: false,
  catalog: {
    models: ["gpt-6.1-sol", "gpt-6-sol", "gpt-5.5"],
    aliases: { latest: "gpt-6.1-sol" },
    cliAliases: [],
    cliDefault: "gpt-6.1-sol",
  },

  buildInvocation({
    prompt,
    model,
    session,
    options,
    mcp,
    scratchDir,
  }: InvocationRequest<CodexOptions>): Invocation {
    const args = ["exec", "--json", "--skip-git-repo-check"];
    if (model) args.push("-m", model);
    if (options.dangerouslyBypassApprovalsAndSandbox)
      args.push("--dangerously-bypass-approvals-and-sandbox");
    else if (options.fullAuto) args.push("-s", "workspace-write");
    else if (options.readOnly) args.push("-s", "read-only");
    if (options.outputSchema) args.push("--output-schema", join(scratchDir, "output-schema.json"));
    for (const [name, def] of Object.entries(mcp?.servers ?? {})) {
      const key = `mcp_servers.${name}`;
      args.push(
        "-c",
        `${key}.command=${toml(def.command)}`,
        "-c",
        `${key}.args=${toml(def.args ?? [])}`,
      );
      if (def.env) args.push("-c", `${key}.env=${toml(def.env)}`);
      // Without it codex refuses MCP calls under its exec approval policy ("never").
      if (mcp!.callable.includes(name))
        args.push("-c", `${key}.default_tools_approval_mode="approve"`);
    }
    if (session.mode === "resume") args.push("resume", session.id);
    if (session.mode === "latest") args.push("resume", "--last");
    args.push("-"); // read the prompt from stdin
    return {
      args,
      stdin: prompt,
      ...(options.outputSchema ? { files: { "output-schema.json": options.outputSchema } } : {}),
    };
  },

  progress(line: string): string | undefined {
    const event = jsonLine(line);
    const item = isObject(event?.item) ? event.item : undefined;
    if (event?.type === "turn.started") return "codex started";
    if (event?.type === "error") return "codex is reconnecting to the model API";
    if (!item || event?.type !== "item.started") {
      return item?.type === "agent_message" ? "codex is answering" : undefined;
    }
    if (item.type === "mcp_tool_call")
      return `codex is calling ${str(item.server)}.${str(item.tool)}`;
    if (item.type === "command_execution") return "codex is running a command";
    if (item.type === "file_change") return "codex is editing files";
    return `codex: ${str(item.type) ?? "working"}`;
  },

  retain(head: string): LineVerdict {
    const item = ITEM_HEAD.exec(head);
    if (!item) return "keep";
    if (item[1] === "item.updated") return "drop";
    // Actions can carry whole command outputs and diffs: parse only needs to know one happened
    // (a command started but never completed counts too).
    if (ACTIONS.has(item[2]!))
      return { replace: `{"type":"${item[1]}","item":{"type":"${item[2]}"}}` };
    return "keep";
  },

  parse(run: RawRun): ParsedOutput {
    const events = jsonLines(run.stdout);
    let nativeSessionId: string | undefined;
    let text = "";
    let usage: Record<string, unknown> | undefined;
    let failure: string | undefined;
    const thinking: string[] = [];
    let acted = false;
    for (const event of events) {
      const item = isObject(event.item) ? event.item : undefined;
      if (event.type === "thread.started") nativeSessionId = str(event.thread_id);
      if (item && ACTIONS.has(String(item.type))) acted = true;
      if (event.type === "item.completed" && item?.type === "agent_message") {
        // After a mid-stream retry codex prints the partial message, then the full one: keep the last.
        text = str(item.text) ?? text;
      }
      if (event.type === "item.completed" && item?.type === "reasoning" && str(item.text)) {
        thinking.push(str(item.text)!);
      }
      if (event.type === "turn.completed" && isObject(event.usage)) usage = event.usage;
      if (event.type === "turn.failed") {
        failure =
          (isObject(event.error) ? str(event.error.message) : undefined) ?? "codex turn failed";
      }
    }
    const parsed: ParsedOutput = {
      text,
      nativeSessionId,
      usage: usage
        ? {
            inputTokens: num(usage.input_tokens),
            outputTokens: num(usage.output_tokens),
            cacheReadTokens: num(usage.cached_input_tokens),
            cacheWriteTokens: num(usage.cache_write_input_tokens),
            reasoningTokens: num(usage.reasoning_output_tokens),
          }
        : {},
      turns: usage ? 1 : undefined,
      acted,
      ...(thinking.length ? { thinking } : {}),
    };
    if (failure) {
      parsed.error = { category: categoryForMessage(failure), message: failure };
    } else if (!usage) {
      // No turn.completed: a usage error (exit 2), a crash or a kill. stderr says which.
      const detail = stderrTail(run.stderr.replace("Reading additional input from stdin...", ""));
      parsed.error = {
        category: "cli_error",
        message:
          detail ||
          `codex exited with code ${run.exitCode ?? run.signal} without completing the turn`,
      };
    }
    return parsed;
  },
};
