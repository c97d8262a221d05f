// The request and result types of the pipeline, below everything that uses them (gateway, jobs,
// approvals, sessions, resilience, tools): types only, so any module may import them.
import type { ApprovalRecord } from "./approval/log.js";
import type { ApprovalPolicy } from "./approval/policy.js";
import type { ErrorCategory } from "./errors.js";
import type { OptionsOf } from "./providers/index.js";
import type { CliName, Invocation, McpPlan, Usage } from "./providers/types.js";

/** A CLI's circuit breaker (src/resilience.ts). */
export type BreakerState = "closed" | "open" | "half_open";

/** A validated request for one CLI, whichever tool it came from. */
export interface CliRequest<O> {
  prompt: string;
  model?: string;
  correlationId?: string;
  /**
   * The session to continue, as the caller named it (the tools' `sessionId`): the gateway's id or
   * the CLI's own, resolved in session-plan.ts.
   */
  sessionId?: string;
  createNewSession?: boolean;
  /** Resume the CLI's most recent session in the working directory (claude continueSession, gemini resumeLatest). */
  resumeLatest?: boolean;
  cwd?: string;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  /** Retry transient failures even after the agent acted (tool calls, edits). */
  allowRerun?: boolean;
  /** Compact the prompt / the answer with meaning-preserving rules (src/optimize). */
  optimizePrompt?: boolean;
  optimizeResponse?: boolean;
  /** "json": the answer text is the CLI's whole JSON result (claude outputFormat). */
  outputFormat?: "text" | "json";
  approvalStrategy?: "legacy" | "mcp_managed";
  approvalPolicy?: ApprovalPolicy;
  /** Names of MCP servers (from the gateway's MCP config) to expose to the CLI. */
  mcpServers?: string[];
  strictMcpConfig?: boolean;
  /** Set by the approval step: the servers to expose and the ones whose tools may be called. */
  mcp?: McpPlan;
  options: O;
}

/** A request of one CLI with that CLI's options: a union discriminated by `cli`. */
export type AnyCliRequest = { [C in CliName]: CliRequest<OptionsOf<C>> & { cli: C } }[CliName];

export interface GatewayResult {
  text: string;
  cli: CliName;
  model?: string;
  /**
   * Where `model` comes from: the CLI's output ("cli"), what the gateway passed it ("request": the
   * request's, or its session's), the CLI's config ("config"), or the CLI's built-in default
   * ("default", from the provider catalog).
   */
  modelSource?: ModelSource;
  correlationId: string;
  /** The CLI's own session id (structuredContent `sessionId`: pass it back to resume). */
  nativeSessionId?: string;
  /** The gateway session the run belongs to (see session_get). */
  gatewaySessionId?: string;
  durationMs: number;
  exitCode: number | null;
  usage: Usage;
  costUsd?: number;
  turns?: number;
  retryCount: number;
  /** The CLI's circuit breaker after this request. */
  circuit?: BreakerState;
  /** What optimizePrompt / optimizeResponse saved. */
  optimization?: Optimization;
  /** The approval decision (approvalStrategy "mcp_managed"). */
  approval?: ApprovalRecord;
  /** `warnings`: requested entries of the config file that are invalid, left out, and why. */
  mcpServers?: { requested: string[]; enabled: string[]; missing: string[]; warnings?: string[] };
  /** Whether the agent acted (used a tool, ran a command, edited a file): then it is not re-run. */
  acted?: boolean;
  error?: { category: ErrorCategory; message: string };
  /** Thinking / reasoning blocks the CLI printed. */
  thinking?: string[];
  /** The CLI's own final JSON result (claude outputFormat "json"). */
  raw?: unknown;
  /**
   * Set when the output passed the cap (error output_overflow): the cap, the bytes kept (the
   * job's stored output) and the bytes read before the process stopped. The text is then the
   * start of the answer at most.
   */
  truncated?: { capBytes: number; keptBytes: number; seenBytes: number };
}

export type ModelSource = "cli" | "request" | "config" | "default";

export interface Savings {
  originalChars: number;
  optimizedChars: number;
  /** The rules that changed something. */
  transformations: string[];
}

export interface Optimization {
  prompt?: Savings;
  response?: Savings;
}

/** A request that passed validation: nothing about it can be refused any more, only fail. */
export interface PreparedRequest {
  cli: CliName;
  correlationId: string;
  /** The prompt as sent to the CLI (optimized when asked). */
  prompt: string;
  /** The caller's prompt, when optimizePrompt changed it. */
  originalPrompt?: string;
  optimization: Optimization;
  optimizeResponse: boolean;
  model?: string;
  cwd: string;
  invocation: Invocation;
  /** Where the invocation's files go: under the gateway home, or where root alone writes when the CLI needs that (gemini's settings, src/root-owned.ts). */
  scratchDir: string;
  gatewaySessionId?: string;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  outputJson: boolean;
}

/** What the job layer hears while a CLI runs. */
export interface RunHooks {
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
  onOutput?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
  /** See RunSpec.backpressure. */
  backpressure?: () => Promise<void> | undefined;
  onStdoutLine?: (line: Buffer) => void;
}
