import { randomUUID } from "node:crypto";
import type { GatewayConfig } from "./config.js";
import { invalidInput, type ErrorCategory } from "./errors.js";
import type { Logger } from "./log.js";
import { resolveSession } from "./session-plan.js";
import type { SessionStore } from "./store/sessions.js";
import { runProcess, type RunOutcome } from "./process/runner.js";
import { PROVIDERS, resolveModel } from "./providers/index.js";
import type { CliName, ParsedOutput, Provider, Usage } from "./providers/types.js";
import { checkDirectory } from "./validate.js";

/** A validated request for one CLI, whichever tool it came from. */
export interface CliRequest<O> {
  prompt: string;
  model?: string;
  correlationId?: string;
  /** A native session id to resume. */
  sessionId?: string;
  createNewSession?: boolean;
  /** Resume the CLI's most recent session in the working directory (claude continueSession, gemini resumeLatest). */
  resumeLatest?: boolean;
  cwd?: string;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  /** Seed options this build does not implement yet: rejected unless left at their defaults. */
  unsupported?: Record<string, unknown>;
  options: O;
}

export interface GatewayResult {
  text: string;
  cli: CliName;
  model?: string;
  correlationId: string;
  /** The CLI's own session id: pass it back as sessionId to resume. */
  sessionId?: string;
  /** The gateway session the run belongs to (see session_get). */
  gatewaySessionId?: string;
  durationMs: number;
  exitCode: number | null;
  usage: Usage;
  costUsd?: number;
  turns?: number;
  retryCount: number;
  error?: { category: ErrorCategory; message: string };
  /** The CLI's own final JSON result (claude outputFormat "json"). */
  raw?: unknown;
}

export interface GatewayContext {
  config: GatewayConfig;
  logger: Logger;
  sessions: SessionStore;
}

type OptionsOf<C extends CliName> = (typeof PROVIDERS)[C] extends Provider<infer O> ? O : never;

/**
 * The request pipeline: validate → plan the session → build the invocation → run → parse → answer.
 * Every CLI request, sync or async, goes through `request`.
 */
export class Gateway {
  private readonly running = new Set<AbortController>();

  constructor(private readonly ctx: GatewayContext) {}

  async request<C extends CliName>(
    cli: C,
    req: CliRequest<OptionsOf<C>>,
    signal?: AbortSignal,
  ): Promise<GatewayResult> {
    const provider = PROVIDERS[cli] as Provider<OptionsOf<C>>;
    const { config, logger, sessions } = this.ctx;
    const correlationId = req.correlationId ?? randomUUID();
    rejectUnsupported(req.unsupported);
    if (req.cwd) checkDirectory(req.cwd, "cwd");
    const target = resolveSession(sessions, provider, req, resolveModel(provider, req.model));
    const { cwd, model } = target;
    checkDirectory(cwd, "cwd");
    const invocation = provider.buildInvocation({
      prompt: req.prompt,
      model,
      session: target.plan,
      options: req.options,
    });

    logger.info(
      `${cli}_request invoked with model=${model ?? "default"}, prompt length=${req.prompt.length} [${correlationId}]`,
    );
    logger.debug(`${cli} args: ${JSON.stringify(invocation.args)} cwd=${cwd}`);

    const abort = new AbortController();
    const onCallerAbort = () => abort.abort();
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    if (signal?.aborted) abort.abort();
    this.running.add(abort);
    let run: RunOutcome;
    try {
      run = await runProcess({
        command: provider.binary,
        args: invocation.args,
        stdin: invocation.stdin,
        stdoutToFile: invocation.stdoutToFile,
        cwd,
        env: config.childEnv,
        timeoutMs: req.timeoutMs ?? config.timeoutMs,
        idleTimeoutMs: req.idleTimeoutMs,
        maxOutputBytes: config.maxOutputBytes,
        killGraceMs: config.killGraceMs,
        signal: abort.signal,
      });
    } finally {
      this.running.delete(abort);
      signal?.removeEventListener("abort", onCallerAbort);
    }

    const result = toResult(provider, run, {
      correlationId,
      model,
      timeoutMs: req.timeoutMs ?? config.timeoutMs,
      idleTimeoutMs: req.idleTimeoutMs,
      maxOutputBytes: config.maxOutputBytes,
    });
    const session = sessions.recordRun(cli, target.session?.id, {
      nativeId: result.sessionId,
      cwd,
      model,
      usage: result.usage,
      costUsd: result.costUsd,
    });
    if (session) {
      result.sessionId = session.nativeId ?? result.sessionId;
      result.gatewaySessionId = session.id;
    }
    if (result.error) {
      logger.error(
        `${cli} CLI execution failed [${result.error.category}]: ${firstLine(result.error.message)} [${correlationId}]`,
      );
    } else {
      logger.info(
        `${cli}_request completed successfully in ${result.durationMs}ms, response length=${result.text.length} [${correlationId}]`,
      );
    }
    return result;
  }

  /** Stop every run in flight (gateway shutdown). */
  abortAll(): void {
    for (const abort of this.running) abort.abort();
  }

  get activeRuns(): number {
    return this.running.size;
  }
}

interface RunContext {
  correlationId: string;
  model?: string;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  maxOutputBytes: number;
}

function toResult(provider: Provider<never>, run: RunOutcome, ctx: RunContext): GatewayResult {
  const base = {
    cli: provider.name,
    correlationId: ctx.correlationId,
    durationMs: run.durationMs,
    exitCode: run.exitCode,
    retryCount: 0,
  };
  if (run.spawnError) {
    return {
      ...base,
      text: "",
      model: ctx.model,
      usage: {},
      error: spawnFailure(provider, run.spawnError),
    };
  }
  const parsed: ParsedOutput = provider.parse(run);
  const result: GatewayResult = {
    ...base,
    text: parsed.text,
    model: parsed.model ?? ctx.model,
    sessionId: parsed.nativeSessionId,
    usage: parsed.usage,
    costUsd: parsed.costUsd,
    turns: parsed.turns,
    raw: parsed.raw,
    error: parsed.error,
  };
  // The gateway's own stop outranks whatever the killed CLI printed about it.
  if (run.stopped) result.error = stopFailure(run.stopped, ctx);
  return result;
}

function stopFailure(
  reason: NonNullable<RunOutcome["stopped"]>,
  ctx: RunContext,
): { category: ErrorCategory; message: string } {
  switch (reason) {
    case "timeout":
      return { category: "timeout", message: `Process timed out after ${ctx.timeoutMs}ms` };
    case "idle_timeout":
      return {
        category: "idle_timeout",
        message: `No output for ${ctx.idleTimeoutMs}ms (idleTimeoutMs); the process was stopped`,
      };
    case "output_overflow":
      return {
        category: "output_overflow",
        message: `Output exceeded the ${ctx.maxOutputBytes}-byte cap (LLM_GATEWAY_MAX_OUTPUT_BYTES); the process was stopped`,
      };
    case "canceled":
      return { category: "canceled", message: "The request was canceled; the process was stopped" };
  }
}

function spawnFailure(
  provider: Provider<never>,
  err: NodeJS.ErrnoException,
): { category: ErrorCategory; message: string } {
  if (err.code === "ENOENT") {
    return {
      category: "cli_not_found",
      message: `Error executing ${provider.name} CLI:\nspawn ${provider.binary} ENOENT\nThe '${provider.binary}' command was not found. Please ensure ${provider.name} CLI is installed and in your PATH.\nInstall it with: ${provider.installCommand}`,
    };
  }
  return {
    category: "spawn_error",
    message: `Error executing ${provider.name} CLI: ${err.message}`,
  };
}

const NOT_YET: Record<string, string> = {
  approvalStrategy: 'only "legacy" is available in this version',
  approvalPolicy:
    'approval policies come with approvalStrategy "mcp_managed", which this version does not have',
  mcpServers: "per-request MCP servers are not available in this version",
  strictMcpConfig: "per-request MCP servers are not available in this version",
  optimizePrompt: "prompt optimization is not available in this version",
  optimizeResponse: "response optimization is not available in this version",
};

/** Never accept a documented option and ignore it: refuse what this build cannot do yet. */
function rejectUnsupported(unsupported: Record<string, unknown> | undefined): void {
  for (const [name, value] of Object.entries(unsupported ?? {})) {
    const isDefault =
      value === undefined ||
      value === false ||
      value === "legacy" ||
      (Array.isArray(value) && value.length === 0);
    if (!isDefault)
      throw invalidInput(`${name}: ${NOT_YET[name] ?? "not available in this version"}`);
  }
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}
