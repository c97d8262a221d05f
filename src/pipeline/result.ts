// How a CLI run becomes the gateway's normalized result, and the result of a request that failed
// without a run to report (canceled while queued, a failure inside the gateway).
import type { ErrorCategory } from "../errors.js";
import type { RunOutcome } from "../process/runner.js";
import type { ParsedOutput, Provider } from "../providers/types.js";
import type { GatewayResult, PreparedRequest } from "../request.js";

export interface RunContext {
  correlationId: string;
  model?: string;
  configuredModel: () => string | undefined;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  maxOutputBytes: number;
}

type Failure = { category: ErrorCategory; message: string };

export function toResult(provider: Provider, run: RunOutcome, ctx: RunContext): GatewayResult {
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
    nativeSessionId: parsed.nativeSessionId,
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

/** A request's result without a run: nothing ran, or what ran is not the cause. */
export function failedResult(
  prepared: PreparedRequest,
  category: ErrorCategory,
  message: string,
): GatewayResult {
  return {
    text: "",
    cli: prepared.cli,
    ...(prepared.model ? { model: prepared.model, modelSource: "request" as const } : {}),
    correlationId: prepared.correlationId,
    gatewaySessionId: prepared.gatewaySessionId,
    durationMs: 0,
    exitCode: null,
    usage: {},
    retryCount: 0,
    error: { category, message },
  };
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

function stopFailure(reason: NonNullable<RunOutcome["stopped"]>, ctx: RunContext): Failure {
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

function spawnFailure(provider: Provider, err: NodeJS.ErrnoException): Failure {
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
