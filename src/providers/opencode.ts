import { join } from "node:path";
import { invalidInput } from "../errors.js";
import { secretValues } from "./mcp-secrets.js";
import { opencodeConfiguredModel, runtimeConfig, type OpencodeOptions } from "./opencode-config.js";
import {
  categoryForMessage,
  isObject,
  jsonLine,
  jsonLines,
  num,
  stderrTail,
  str,
} from "./parse-util.js";
import type { LineVerdict, ParsedOutput, Provider, RawRun } from "./types.js";
import { agentPermissions } from "./agent-permissions.js";

export type { OpencodeOptions };

/** Tools that only read: using them is not acting on the world. */
const READ_TOOLS = new Set(["read", "glob", "grep", "list", "todoread", "todowrite", "skill"]);
/** How a tool event starts: `{"type":"tool_use","timestamp":1,"sessionID":"ses_…","part":{"type":"tool","tool":"bash"`. */
const TOOL_HEAD = /^\{"type":"tool_use",.*?"part":\{"type":"tool","tool":"([^"]+)"/;
const TOOL_STATUS = /"state":\{"status":"(\w+)"/;

/** opencode (opencode-ai): `opencode run --format json`, prompt on stdin. */
export const opencodeProvider: Provider<OpencodeOptions> = {
  name: "opencode",
  binary: "opencode",
  installCommand: "npm install -g opencode-ai",
  testedVersions: { min: "1.18.33", max: "1.18.33" },
  agentRequest: {
    title: "opencode",
    honours: ["resumeLatest", "bypassPermissions", "workspaceWrite", "allowedTools", "mcpServers"],
  },
  auth: {
    envKeys: ["OPENCODE_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENCODE_AUTH_CONTENT"],
    configDir: (env, home) => join(env.XDG_DATA_HOME || join(home, ".local", "share"), "opencode"),
    credentialFiles: ["auth.json"],
    fix: "run `opencode providers login`, or configure a provider (with its key) in opencode.json",
  },
  // Sessions live in one SQLite database ($XDG_DATA_HOME/opencode/opencode.db), but `run --session`
  // from another directory than the session's never finishes (1.18.33): a resume runs there. The
  // model is stored per message, so a resume may switch it.
  sessions: {
    newWithId: false,
    byDirectory: true,
    keepsModel: false,
    latestOption: "resumeLatest",
  },
  permissions: agentPermissions(/^(bash|edit|write|patch|multiedit)\b/),
  // The user's own MCP servers (opencode.json `mcp`) stay: opencode has no flag to leave them out.
  strictMcpByDefault: false,
  // step_finish tokens: input without the cached part (cache.read apart), reasoning apart from output.
  tokens: { inputIncludesCacheRead: false, reasoningInOutput: false },
  reviewer: {
    // The default options deny edits and commands; opencode has no structured-output flag.
    options: () => ({}),
    fencedJson: true,
  },
  catalog: {
    // opencode's models are "<provider>/<model>" from the providers its config and sign-ins enable:
    // the gateway cannot know them, and passes any such id through.
    models: [],
    aliases: {},
    cliAliases: [],
    cliDefault: "the model in opencode.json",
  },

  buildInvocation({ prompt, model, session, options, mcp, env, scratchDir }) {
    if (model !== undefined && !/^[^/\s]+\/\S+$/.test(model)) {
      throw invalidInput(
        `model "${model}": opencode takes "<provider>/<model>" (e.g. "anthropic/claude-sonnet-4-5"; \`opencode models\` lists them)`,
      );
    }
    const args = ["run", "--format", "json"];
    if (model) args.push("-m", model);
    if (session.mode === "resume") args.push("--session", session.id);
    if (session.mode === "latest") args.push("--continue");
    if (session.mode === "new-with-id")
      throw invalidInput("opencode cannot be given the id of a new session");
    if (options.bypassPermissions) args.push("--auto");
    const config = runtimeConfig(options, mcp, env, scratchDir);
    return {
      args,
      // `run` reads stdin when it is not a TTY; on argv it would quote every word with a space.
      stdin: prompt,
      env: { OPENCODE_CONFIG_CONTENT: config.content },
      ...(Object.keys(config.files).length
        ? { files: config.files, secrets: secretValues(mcp?.servers ?? {}) }
        : {}),
    };
  },

  configuredModel: opencodeConfiguredModel,

  progress(line: string): string | undefined {
    const event = jsonLine(line);
    const part = isObject(event?.part) ? event.part : undefined;
    if (event?.type === "step_start") return "opencode started a step";
    if (event?.type === "text") return "opencode is answering";
    if (event?.type === "tool_use") return `opencode used ${str(part?.tool) ?? "a tool"}`;
    if (event?.type === "error") return "opencode reported an error";
    return undefined;
  },

  retain(head: string): LineVerdict {
    const tool = TOOL_HEAD.exec(head);
    // A tool event carries the whole command output or file: parse only needs the tool's name.
    if (!tool) return "keep";
    const status = TOOL_STATUS.exec(head)?.[1];
    const state = status ? `,"state":{"status":"${status}"}` : "";
    return { replace: `{"type":"tool_use","part":{"tool":"${tool[1]}"${state}}}` };
  },

  parse(run: RawRun): ParsedOutput {
    const events = jsonLines(run.stdout);
    let nativeSessionId: string | undefined;
    const texts: string[] = [];
    const usage = { input: 0, output: 0, reasoning: 0, read: 0, write: 0 };
    let steps = 0;
    let cost = 0;
    let acted = false;
    let stopped = false;
    let failure: string | undefined;
    const thinking: string[] = [];
    for (const event of events) {
      nativeSessionId ??= str(event.sessionID);
      const part = isObject(event.part) ? event.part : undefined;
      if (event.type === "text" && str(part?.text)) texts.push(str(part!.text)!);
      if (event.type === "reasoning" && str(part?.text)) thinking.push(str(part!.text)!);
      if (event.type === "tool_use" && !READ_TOOLS.has(str(part?.tool) ?? "")) acted = true;
      if (event.type === "step_finish" && part) {
        steps++;
        stopped = part.reason === "stop" || part.reason === "length";
        const tokens = isObject(part.tokens) ? part.tokens : {};
        const cache = isObject(tokens.cache) ? tokens.cache : {};
        usage.input += num(tokens.input) ?? 0;
        usage.output += num(tokens.output) ?? 0;
        usage.reasoning += num(tokens.reasoning) ?? 0;
        usage.read += num(cache.read) ?? 0;
        usage.write += num(cache.write) ?? 0;
        cost += num(part.cost) ?? 0;
      }
      if (event.type === "error")
        failure = errorMessage(event.error) ?? "opencode reported an error";
    }
    const parsed: ParsedOutput = {
      // Each step's text is a message of its own; the answer is the last step's.
      text: texts.at(-1) ?? "",
      nativeSessionId,
      usage: steps
        ? {
            inputTokens: usage.input,
            outputTokens: usage.output,
            cacheReadTokens: usage.read,
            cacheWriteTokens: usage.write,
            reasoningTokens: usage.reasoning,
          }
        : {},
      // A provider without prices in its config reports cost 0: the gateway's estimate is better.
      ...(cost > 0 ? { costUsd: cost } : {}),
      turns: steps ? 1 : undefined,
      acted,
      ...(thinking.length ? { thinking } : {}),
    };
    if (failure) {
      parsed.error = { category: categoryForMessage(failure), message: failure };
    } else if (!stopped) {
      // opencode exits 0 when the model API fails after its retries, or a tool was rejected and
      // the turn ended there: no step finished with "stop".
      const detail = stderrTail(stripAnsi(run.stderr));
      parsed.error = {
        // A permission that is "ask" in the user's config is rejected headless: the turn ends there.
        category: /auto-rejecting/.test(detail)
          ? "approval_denied"
          : detail
            ? categoryForMessage(detail)
            : "cli_error",
        message:
          detail ||
          `opencode exited with code ${run.exitCode ?? run.signal} without finishing the turn`,
      };
    }
    return parsed;
  },
};

function errorMessage(error: unknown): string | undefined {
  if (!isObject(error)) return str(error);
  const data = isObject(error.data) ? error.data : {};
  const message = str(data.message) ?? str(error.message);
  const status = num(data.statusCode);
  const name = str(error.name);
  if (!message) return name;
  return [name, status ? `(${status})` : "", message].filter(Boolean).join(" ");
}

// eslint-disable-next-line no-control-regex -- the colour codes opencode prints on stderr
const ANSI = /\x1b\[[0-9;]*m/g;
function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}
