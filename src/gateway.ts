import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GatewayConfig } from "./config.js";
import type { ErrorCategory } from "./errors.js";
import type { Logger } from "./log.js";
import { redactValues } from "./mcp-servers.js";
import { optimizePrompt, optimizeResponse } from "./optimize/index.js";
import { rootOwnedScratchDir } from "./root-owned.js";
import { resolveSession } from "./session-plan.js";
import type { SessionStore } from "./store/sessions.js";
import { runProcess, type RunOutcome } from "./process/runner.js";
import type { Spawner } from "./process/spawner.js";
import { PROVIDERS, providerOf, resolveModel, type OptionsOf } from "./providers/index.js";
import type { CliName, ParsedOutput, Provider } from "./providers/types.js";
import type { CliRequest, GatewayResult, PreparedRequest, RunHooks, Savings } from "./request.js";
import { checkDirectory } from "./validate.js";

export interface GatewayContext {
  config: GatewayConfig;
  logger: Logger;
  sessions: SessionStore;
  /** Who starts the CLIs (in the server, a helper process). */
  spawner?: Spawner;
}

const savings = ({ originalChars, optimizedChars, transformations }: Savings): Savings => ({
  originalChars,
  optimizedChars,
  transformations,
});

/**
 * The request pipeline, in two steps. `prepare`: validate, resolve the session, build the
 * invocation — it throws `invalid_input` before anything runs. `execute`: run the CLI, parse its
 * output, update the session. The job manager calls both, for sync and async requests alike.
 */
export class Gateway {
  constructor(private readonly ctx: GatewayContext) {}

  prepare<C extends CliName>(cli: C, req: CliRequest<OptionsOf<C>>): PreparedRequest {
    const provider = providerOf(cli);
    if (req.cwd) checkDirectory(req.cwd, "cwd");
    const target = resolveSession(
      this.ctx.sessions,
      provider,
      req,
      resolveModel(provider, req.model),
    );
    checkDirectory(target.cwd, "cwd");
    const optimized = req.optimizePrompt ? optimizePrompt(req.prompt) : undefined;
    const { config } = this.ctx;
    const scratchDir = provider.needsRootOwnedFiles?.(req.mcp)
      ? rootOwnedScratchDir(config.rootOwnedRoots)
      : join(config.home, "run", randomUUID());
    const prompt = optimized?.text ?? req.prompt;
    return {
      cli,
      correlationId: req.correlationId ?? randomUUID(),
      prompt,
      ...(prompt !== req.prompt ? { originalPrompt: req.prompt } : {}),
      optimization: optimized ? { prompt: savings(optimized) } : {},
      optimizeResponse: req.optimizeResponse === true,
      model: target.model,
      cwd: target.cwd,
      invocation: provider.buildInvocation({
        prompt,
        model: target.model,
        session: target.plan,
        options: req.options,
        mcp: req.mcp,
        scratchDir,
        env: config.childEnv,
      }),
      scratchDir,
      gatewaySessionId: target.session?.id,
      timeoutMs: req.timeoutMs ?? this.ctx.config.timeoutMs,
      idleTimeoutMs: req.idleTimeoutMs,
      outputJson: req.outputFormat === "json",
    };
  }

  async execute(prepared: PreparedRequest, hooks: RunHooks = {}): Promise<GatewayResult> {
    const { config, logger, sessions } = this.ctx;
    const { cli, correlationId, model, cwd, invocation } = prepared;
    const provider: Provider = PROVIDERS[cli];
    logger.info(
      `${cli}_request invoked with model=${model ?? "default"}, prompt length=${prepared.prompt.length} [${correlationId}]`,
    );
    const secrets = invocation.secrets ?? [];
    logger.debug(
      redactValues(`${cli} args: ${JSON.stringify(invocation.args)} cwd=${cwd}`, secrets),
    );

    writeFiles(prepared.scratchDir, invocation.files);
    const env = invocation.env ? { ...config.childEnv, ...invocation.env } : config.childEnv;
    const run = await runProcess({
      command: provider.binary,
      args: invocation.args,
      stdin: invocation.stdin,
      stdoutToFile: invocation.stdoutToFile,
      cwd,
      env,
      timeoutMs: prepared.timeoutMs,
      idleTimeoutMs: prepared.idleTimeoutMs,
      maxOutputBytes: config.maxOutputBytes,
      killGraceMs: config.killGraceMs,
      spawner: this.ctx.spawner,
      signal: hooks.signal,
      onSpawn: hooks.onSpawn,
      onOutput: hooks.onOutput,
      backpressure: hooks.backpressure,
      onStdoutLine: hooks.onStdoutLine,
      retainStdoutLine: (head) => provider.retain(head),
    }).finally(
      () => invocation.files && rmSync(prepared.scratchDir, { recursive: true, force: true }),
    );

    const result = toResult(provider, run, {
      correlationId,
      model,
      configuredModel: () => provider.configuredModel?.(env, cwd),
      timeoutMs: prepared.timeoutMs,
      idleTimeoutMs: prepared.idleTimeoutMs,
      maxOutputBytes: config.maxOutputBytes,
    });
    // A CLI may quote its MCP config when it reports a failure.
    if (result.error) result.error.message = redactValues(result.error.message, secrets);
    if (prepared.outputJson && result.raw !== undefined) result.text = JSON.stringify(result.raw);
    result.optimization = { ...prepared.optimization };
    if (prepared.optimizeResponse && result.text) {
      const optimized = optimizeResponse(result.text, { json: prepared.outputJson });
      result.text = optimized.text;
      result.optimization.response = savings(optimized);
    }
    const session = sessions.recordRun(cli, prepared.gatewaySessionId, {
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
}

interface RunContext {
  correlationId: string;
  model?: string;
  configuredModel: () => string | undefined;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  maxOutputBytes: number;
}

function toResult(provider: Provider, run: RunOutcome, ctx: RunContext): GatewayResult {
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
      ...(ctx.model ? { model: ctx.model, modelSource: "request" as const } : {}),
      usage: {},
      error: spawnFailure(provider, run.spawnError),
    };
  }
  const parsed: ParsedOutput = provider.parse(run);
  const result: GatewayResult = {
    ...base,
    text: parsed.text,
    ...modelOf(provider, parsed, ctx),
    sessionId: parsed.nativeSessionId,
    usage: parsed.usage,
    costUsd: parsed.costUsd,
    turns: parsed.turns,
    thinking: parsed.thinking,
    acted: parsed.acted,
    raw: parsed.raw,
    error: parsed.error,
  };
  // The gateway's own stop outranks whatever the killed CLI printed about it.
  if (run.stopped) result.error = stopFailure(run.stopped, ctx);
  if (run.stopped === "output_overflow")
    result.truncated = {
      capBytes: ctx.maxOutputBytes,
      keptBytes: run.keptBytes,
      seenBytes: run.outputBytes,
    };
  return result;
}

/** The model the run used, and how the gateway knows (see GatewayResult.modelSource). */
function modelOf(
  provider: Provider,
  parsed: ParsedOutput,
  ctx: RunContext,
): Pick<GatewayResult, "model" | "modelSource"> {
  if (parsed.model) return { model: parsed.model, modelSource: "cli" };
  if (ctx.model) return { model: ctx.model, modelSource: "request" };
  const configured = ctx.configuredModel();
  if (configured) return { model: configured, modelSource: "config" };
  const { cliDefault, models } = provider.catalog;
  // A default that is not a model id (a routing mode) names no model.
  return models.includes(cliDefault) ? { model: cliDefault, modelSource: "default" } : {};
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
        message: `Output exceeded the ${ctx.maxOutputBytes}-byte cap (LLM_GATEWAY_MAX_OUTPUT_BYTES); the process was stopped, the rest not read (see truncated)`,
      };
    case "canceled":
      return { category: "canceled", message: "The request was canceled; the process was stopped" };
  }
}

function spawnFailure(
  provider: Provider,
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

function writeFiles(dir: string, files: Record<string, string> | undefined): void {
  if (!files) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, name), content, { mode: 0o600 });
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}
