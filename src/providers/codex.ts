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
import { invalidInput } from "../errors.js";
import { secretValues } from "./mcp-secrets.js";
import { codexConfiguredModel } from "./codex-config.js";
import type {
  Invocation,
  InvocationRequest,
  LineVerdict,
  McpServerDef,
  ParsedOutput,
  Provider,
  RawRun,
} from "./types.js";

export interface CodexOptions {
  /** Full-auto mode. codex 0.169 removed --full-auto; its equivalent is `-s workspace-write`. */
  fullAuto?: boolean;
  dangerouslyBypassApprovalsAndSandbox?: boolean;
  /** `-s read-only`, said explicitly (it is also exec's default). */
  readOnly?: boolean;
  /** A JSON Schema (strict-mode compatible) for the final message (`--output-schema <file>`). */
  outputSchema?: string;
}

/** A TOML value for `codex -c key=value`: JSON strings and arrays of strings are valid TOML. */
function toml(value: string | string[]): string {
  return JSON.stringify(value);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The servers' env, for codex's own environment. codex forwards a variable by name, so two servers
 * cannot give one name different values, nor can a server change a variable codex itself was
 * given (it could be codex's own key or settings).
 */
function forwardedEnv(
  servers: Record<string, McpServerDef>,
  inherited: Readonly<NodeJS.ProcessEnv>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const owner: Record<string, string> = {};
  for (const [server, def] of Object.entries(servers)) {
    for (const [name, value] of Object.entries(def.env ?? {})) {
      const where = `mcpServers: the env of MCP server "${server}"`;
      if (!ENV_NAME.test(name))
        throw invalidInput(`${where} has an invalid variable name "${name}"`);
      if (name in out && out[name] !== value) {
        throw invalidInput(
          `${where} sets ${name}, which server "${owner[name]}" sets to another value: codex forwards one environment to all its MCP servers`,
        );
      }
      if (inherited[name] !== undefined && inherited[name] !== value) {
        throw invalidInput(
          `${where} sets ${name}, which the gateway's environment already sets to another value: codex forwards the server's env through its own environment`,
        );
      }
      out[name] = value;
      owner[name] = server;
    }
  }
  return out;
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
  testedVersions: { min: "0.169.0", max: "0.169.0" },
  auth: {
    // codex exec reads CODEX_API_KEY; OPENAI_API_KEY only once stored with `codex login --with-api-key`.
    envKeys: ["CODEX_API_KEY"],
    configDir: (env, home) => env.CODEX_HOME || join(home, ".codex"),
    credentialFiles: ["auth.json"],
    // `codex login status`: exit 0 and "Logged in using ..." when signed in, exit 1 otherwise.
    statusCommand: { args: ["login", "status"], signedIn: (_stdout, exitCode) => exitCode === 0 },
    fix: "run `codex login` (or `printenv OPENAI_API_KEY | codex login --with-api-key`), or set CODEX_API_KEY in the gateway's environment",
  },
  // codex finds a session by its id from any directory; resumed with another model, it replaces
  // the conversation with a summary.
  sessions: {
    newWithId: false,
    byDirectory: false,
    keepsModel: true,
    // $CODEX_HOME/sessions/YYYY/MM/DD/rollout-<ts>-<thread id>.jsonl (CLI-FACTS: codex sessions).
    sessionFiles: (id, _cwd, env, home) => [
      join(
        env.CODEX_HOME || join(home, ".codex"),
        "sessions",
        "*",
        "*",
        "*",
        `rollout-*-${id}.jsonl`,
      ),
    ],
  },
  permissions: {
    requested: (o) => ({
      bypass: Boolean(o.dangerouslyBypassApprovalsAndSandbox),
      workspaceWrite: Boolean(o.fullAuto),
    }),
    withGrant: (o, grant) => ({
      ...o,
      dangerouslyBypassApprovalsAndSandbox: grant.bypass || undefined,
      fullAuto: (!grant.bypass && grant.workspaceWrite) || undefined,
    }),
    fields: {
      dangerouslyBypassApprovalsAndSandbox: { omitted: false, permission: () => "bypass" },
      fullAuto: {
        omitted: false,
        // A narrowed bypass turns into workspace writes: that is why fullAuto appears.
        permission: (_asked, narrowedBypass) => (narrowedBypass ? "bypass" : "workspaceWrite"),
        otherReason: (applied) =>
          applied.dangerouslyBypassApprovalsAndSandbox
            ? "dangerouslyBypassApprovalsAndSandbox already allows workspace writes: codex takes one of the two"
            : undefined,
      },
    },
  },
  strictMcpByDefault: false,
  tokens: { inputIncludesCacheRead: true, reasoningInOutput: true },
  reviewer: {
    options: (schemaJson) => ({ readOnly: true, outputSchema: schemaJson }),
    fencedJson: false,
  },
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
    env,
    scratchDir,
  }: InvocationRequest<CodexOptions>): Invocation {
    const args = ["exec", "--json", "--skip-git-repo-check"];
    if (model) args.push("-m", model);
    if (options.dangerouslyBypassApprovalsAndSandbox)
      args.push("--dangerously-bypass-approvals-and-sandbox");
    else if (options.fullAuto) args.push("-s", "workspace-write");
    else if (options.readOnly) args.push("-s", "read-only");
    if (options.outputSchema) args.push("--output-schema", join(scratchDir, "output-schema.json"));
    const servers = mcp?.servers ?? {};
    const forwarded = forwardedEnv(servers, env);
    for (const [name, def] of Object.entries(servers)) {
      const key = `mcp_servers.${name}`;
      args.push(
        "-c",
        `${key}.command=${toml(def.command)}`,
        "-c",
        `${key}.args=${toml(def.args ?? [])}`,
      );
      // The values travel in codex's own environment, which env_vars forwards to the server by
      // name: on argv (-c …env={…}) every local user could read them.
      const names = Object.keys(def.env ?? {});
      if (names.length) args.push("-c", `${key}.env_vars=${toml(names)}`);
      // Without it codex refuses MCP calls under its exec approval policy ("never").
      if (mcp!.callable.includes(name))
        args.push("-c", `${key}.default_tools_approval_mode="approve"`);
    }
    // codex hands its whole environment to the commands the agent runs: blank the forwarded
    // values there (a `set` entry merges with the user's own shell_environment_policy), unless the
    // gateway's environment already had them.
    for (const name of Object.keys(forwarded))
      if (env[name] === undefined) args.push("-c", `shell_environment_policy.set.${name}=""`);
    if (session.mode === "resume") args.push("resume", session.id);
    args.push("-"); // read the prompt from stdin
    return {
      args,
      stdin: prompt,
      ...(Object.keys(forwarded).length ? { env: forwarded, secrets: secretValues(servers) } : {}),
      ...(options.outputSchema ? { files: { "output-schema.json": options.outputSchema } } : {}),
    };
  },

  // Its JSONL never names the model (test/fixtures/samples/codex-turn1.jsonl).
  configuredModel: codexConfiguredModel,

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
