import type { ErrorCategory } from "../errors.js";

export const CLI_NAMES = ["claude", "codex", "gemini", "qwen", "opencode"] as const;
export type CliName = (typeof CLI_NAMES)[number];

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

/** What a provider makes of one finished run: the same shape for every CLI. */
export interface ParsedOutput {
  text: string;
  nativeSessionId?: string;
  model?: string;
  usage: Usage;
  costUsd?: number;
  turns?: number;
  /** Thinking / reasoning blocks the CLI printed. */
  thinking?: string[];
  /** The agent used a tool, ran a command or edited a file: re-running the turn could repeat that. */
  acted?: boolean;
  /** Set when the run failed, whatever its exit code said. */
  error?: { category: ErrorCategory; message: string };
  /** The CLI's own final JSON result, for callers who ask for it. */
  raw?: unknown;
}

export interface RawRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** How the run relates to the CLI's own sessions. */
export type SessionPlan =
  | { mode: "new" }
  | { mode: "new-with-id"; id: string }
  | { mode: "resume"; id: string }
  | { mode: "latest" };

/** One server in the usual `mcpServers` format (stdio). */
export interface McpServerDef {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

/** MCP servers to expose to the CLI for one request, and those whose tools it may call unasked. */
export interface McpPlan {
  servers: Record<string, McpServerDef>;
  callable: string[];
  /** claude --strict-mcp-config: use only these servers. */
  strict: boolean;
}

export interface InvocationRequest<O> {
  prompt: string;
  model?: string;
  session: SessionPlan;
  options: O;
  mcp?: McpPlan;
  /** A private directory (created on demand) for files the invocation needs. */
  scratchDir: string;
  /** The environment the CLI inherits (the invocation's `env` is added to it). */
  env: Readonly<NodeJS.ProcessEnv>;
}

export interface Invocation {
  args: string[];
  /** The prompt travels on stdin: no argv size limit, no flag confusion. */
  stdin: string;
  stdoutToFile?: boolean;
  /** Extra environment variables for this run. */
  env?: Record<string, string>;
  /** Files to write into scratchDir (0600) before the run (removed after it), by name. */
  files?: Record<string, string>;
  /** Values (MCP servers' env) kept out of every log line and error message. */
  secrets?: string[];
}

/** What a stdout line is worth keeping: all of it, nothing, or a shorter line that parses the same. */
export type LineVerdict = "keep" | "drop" | { replace: string };

export interface ModelCatalog {
  /** Models known to work with the pinned CLI release. Others are passed through unchanged. */
  models: readonly string[];
  /** Gateway aliases, resolved to a model id before the CLI sees them. */
  aliases: Readonly<Record<string, string>>;
  /** Aliases the CLI resolves itself; passed through as they are. */
  cliAliases: readonly string[];
  /**
   * What the CLI uses when no model is given. Not one of `models` when it is no model id (gemini's
   * routing mode): a result then names no default model.
   */
  cliDefault: string;
}

/** How to tell, without a model call, whether the CLI can sign in. */
export interface AuthHints {
  /** Variables that hold an API key or select a sign-in the CLI honours (their values are never read out). */
  envKeys: readonly string[];
  /** The CLI's config directory: where its credential files are. */
  configDir(env: NodeJS.ProcessEnv, home: string): string;
  /** Credential files in configDir that a signed-in CLI keeps. */
  credentialFiles: readonly string[];
  /** The CLI's own sign-in status command (no model call), and how to read its answer. */
  statusCommand?: {
    args: readonly string[];
    signedIn(stdout: string, exitCode: number | null): boolean | undefined;
  };
  /** What to do when the CLI is signed out. */
  fix: string;
}

/**
 * What a request may do, in the same terms for every CLI: what the approval policy decides on
 * (src/approval/policy.ts). Each provider maps its own permission options onto these.
 */
export interface Permissions {
  /** Skip every permission check and sandbox (claude --dangerously-skip-permissions, codex
   * --dangerously-bypass-approvals-and-sandbox, gemini --approval-mode yolo). */
  bypass: boolean;
  /** Edit the workspace without asking (codex fullAuto = -s workspace-write, gemini auto_edit). */
  workspaceWrite: boolean;
  /** Pre-approved tools that run commands or write files (claude Bash/Write/Edit..., gemini run_shell_command/write_file/replace). */
  shellTools: string[];
  /** MCP servers whose tools the CLI may call. */
  mcpServers: string[];
}

/** One permission option of a CLI, as the approval record reports a change to it. */
export interface PermissionField<O> {
  /** The option's value when the request leaves it out. */
  omitted: unknown;
  /** The permission whose rule changes it, given what was asked and whether a bypass was narrowed. */
  permission(asked: O, narrowedBypass: boolean): keyof Permissions;
  /** Why it changed when no rule changed that permission (codex takes one of bypass and fullAuto). */
  otherReason?(applied: O): string | undefined;
}

/** What the approval step grants one request, in the terms of the CLI's options. */
export interface Grant {
  bypass: boolean;
  workspaceWrite: boolean;
  /** The asked allowedTools less those the grant removed (undefined when none were asked). */
  allowedTools?: string[];
}

/** How a CLI's permission options carry the normalized permissions (the approval step's view of it). */
export interface PermissionOptions<O> {
  /** What the options ask for; the MCP servers come from the request, not from the options. */
  requested(options: O): { bypass: boolean; workspaceWrite: boolean };
  /** Pre-approved tool entries, for a CLI that takes them. */
  allowedTools?(options: O): string[] | undefined;
  /** The allowed-tool entries that grant running commands or writing files. */
  shellOrWrite?: RegExp;
  /** The options that carry exactly the grant (never more than asked); everything else as asked. */
  withGrant(options: O, grant: Grant): O;
  /** The permission options, in the order the approval record lists their changes. */
  fields: { readonly [K in keyof O]?: PermissionField<O> };
}

/** How the CLI's own sessions behave, which the gateway's session rules follow (src/session-plan.ts). */
export interface SessionRules {
  /** The CLI can be told the id of a new session (`--session-id`): session_create's id is then the CLI's too. */
  newWithId: boolean;
  /** The CLI finds a session only from the directory it started in: a resume runs there. */
  byDirectory: boolean;
  /**
   * A resume keeps the session's model: resumed with another one the CLI replaces the conversation
   * with a summary (codex), so the gateway refuses a different model.
   */
  keepsModel: boolean;
  /** The request option that resumes the CLI's latest session in cwd (named in errors), if it has one. */
  latestOption?: string;
  /**
   * Where the CLI keeps a session's files (absolute paths; `*` matches within one path segment):
   * a resume on another machine than the session's proceeds only when one of them exists there
   * (a shared home), else it is refused naming the session's host. Unset: not known, the resume
   * proceeds. Paths only: the check itself is src/session-files.ts.
   */
  sessionFiles?(
    nativeId: string,
    cwd: string | null,
    env: NodeJS.ProcessEnv,
    home: string,
  ): string[];
}

/** How the CLI counts the tokens it reports, for cost estimates (src/store/prices.ts). */
export interface TokenCounting {
  /** Its input count includes the cached (cache-read) tokens. */
  inputIncludesCacheRead: boolean;
  /** Its output count includes the reasoning / thinking tokens. */
  reasoningInOutput: boolean;
}

/** How the CLI runs as a reviewer in `review` (src/orchestrate/review.ts). */
export interface ReviewerMode<O> {
  /** Options that keep it read-only and, where the CLI has a flag for it, hold its answer to the schema. */
  options(schemaJson: string): O;
  /** The CLI has no structured-output flag: the prompt asks for one ```json fenced block. */
  fencedJson: boolean;
}

/**
 * The options of `agent_request` (src/mcp/tools/agent-request.ts), the one request tool of every CLI
 * that has no tool of its own: the approval policy's permissions, named the same for every CLI.
 */
export interface AgentOptions {
  /** Skip every permission check (the CLI's yolo / bypass mode). */
  bypassPermissions?: boolean;
  /** Edit files in the workspace without asking. */
  workspaceWrite?: boolean;
  /** Tools the CLI may run without asking. */
  allowedTools?: string[];
}

/** The agent_request fields that a CLI served by it may not be able to honour. */
export const AGENT_FIELDS = [
  "resumeLatest",
  "bypassPermissions",
  "workspaceWrite",
  "allowedTools",
  "mcpServers",
] as const;
export type AgentField = (typeof AGENT_FIELDS)[number];

/** A CLI served by agent_request: how it is named there and which of its optional fields it honours. */
export interface AgentRequestSpec {
  /** The product's name, for the tool's description ("Qwen Code"). */
  readonly title: string;
  /** The fields it honours; agent_request refuses the others for this CLI, naming field and CLI. */
  readonly honours: readonly AgentField[];
}

/** A provider is data plus a small codec: flags in, normalized result out. */
export interface Provider<O = unknown> {
  readonly name: CliName;
  readonly binary: string;
  readonly installCommand: string;
  /**
   * The CLI versions the real-CLI lane has run, both ends included (the pins in
   * test/realcli/install-clis.mjs; a test keeps the two in step).
   */
  readonly testedVersions: { readonly min: string; readonly max: string };
  readonly auth: AuthHints;
  readonly catalog: ModelCatalog;
  /** How its sessions behave (which session plans it supports, where and with which model they resume). */
  readonly sessions: SessionRules;
  /** How its permission options map onto the approval policy's permissions. */
  readonly permissions: PermissionOptions<O>;
  /**
   * It runs with only the request's MCP servers unless the request says strictMcpConfig false
   * (claude --strict-mcp-config): a named server that is not configured is then refused.
   */
  readonly strictMcpByDefault: boolean;
  readonly tokens: TokenCounting;
  readonly reviewer: ReviewerMode<O>;
  /**
   * Set when the CLI has no request tool of its own: `agent_request` with `cli: <name>` serves it
   * (its options are then AgentOptions). The three first CLIs keep their own tools.
   */
  readonly agentRequest?: AgentRequestSpec;
  /** Prices for cost estimates of its models, for a CLI that reports no cost (src/store/prices.ts). */
  readonly prices?: Readonly<Record<string, { input: number; output: number; cacheRead?: number }>>;
  /**
   * Whether this request's files must sit where only root can write (the file and every directory
   * above it owned by root, not writable by group or others): gemini reads its system settings
   * file only there.
   */
  needsRootOwnedFiles?(mcp: McpPlan | undefined): boolean;
  buildInvocation(request: InvocationRequest<O>): Invocation;
  /**
   * What parse needs of a stdout line, judged from its first bytes: all of it, nothing, or a
   * shorter line that parses the same (tool results and command output can be large, and the
   * gateway decodes and holds only what it parses).
   */
  retain(head: string): LineVerdict;
  /** The normalized result, from the retained stdout lines and the whole stderr. */
  parse(run: RawRun): ParsedOutput;
  /** A short progress note for one line of the CLI's streamed stdout (never prompt text), if it is worth one. */
  progress(line: string): string | undefined;
  /** For a CLI that does not report its model: the one its config names (the run's env and cwd). */
  configuredModel?(env: NodeJS.ProcessEnv, cwd: string): string | undefined;
}
