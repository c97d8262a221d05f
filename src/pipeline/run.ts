import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GatewayConfig } from "../config.js";
import type { Logger } from "../log.js";
import { redactValues } from "../mcp-servers.js";
import { optimizeResponse } from "../optimize/index.js";
import { expandedLength, releaseLargeText } from "../process/large-text.js";
import { runProcess } from "../process/runner.js";
import type { Spawner } from "../process/spawner.js";
import { PROVIDERS } from "../providers/index.js";
import type { Provider } from "../providers/types.js";
import type { GatewayResult, PreparedRequest, RunHooks } from "../request.js";
import { settleLargeTexts } from "./large-result.js";
import { savings } from "./prepare.js";
import { toResult } from "./result.js";

export interface RunDeps {
  config: GatewayConfig;
  logger: Logger;
  /** Who starts the CLIs (in the server, a helper process). */
  spawner?: Spawner;
}

/**
 * One attempt: run the CLI of a prepared request and turn its output into the result (secrets
 * redacted, the answer optimized when asked). Never throws for a failed run: the result says.
 * `largeText`: the text may keep large texts as placeholders (SubmitOptions.largeText).
 */
export async function runCli(
  deps: RunDeps,
  prepared: PreparedRequest,
  hooks: RunHooks = {},
  largeText = false,
): Promise<GatewayResult> {
  const { config, logger } = deps;
  const { cli, correlationId, model, cwd, invocation } = prepared;
  const provider: Provider = PROVIDERS[cli];
  logger.info(
    `${cli}_request invoked with model=${model ?? "default"}, prompt length=${prepared.prompt.length} [${correlationId}]`,
  );
  const secrets = invocation.secrets ?? [];
  logger.debug(redactValues(`${cli} args: ${JSON.stringify(invocation.args)} cwd=${cwd}`, secrets));

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
    spawner: deps.spawner,
    signal: hooks.signal,
    onSpawn: hooks.onSpawn,
    onOutput: hooks.onOutput,
    backpressure: hooks.backpressure,
    onStdoutLine: hooks.onStdoutLine,
    retainStdoutLine: (head) => provider.retain(head),
    keepLargeStrings: largeText,
  }).finally(
    () => invocation.files && rmSync(prepared.scratchDir, { recursive: true, force: true }),
  );

  let result: GatewayResult;
  try {
    result = toResult(provider, run, {
      correlationId,
      model,
      configuredModel: () => provider.configuredModel?.(env, cwd),
      timeoutMs: prepared.timeoutMs,
      idleTimeoutMs: prepared.idleTimeoutMs,
      maxOutputBytes: config.maxOutputBytes,
    });
  } catch (err) {
    releaseLargeText(run.largeTexts ?? []); // nothing will refer to them
    throw err;
  }
  if (run.largeTexts) {
    // A failed attempt may be retried, and its result dropped: only a success keeps its texts.
    const rewritten = prepared.outputJson || prepared.optimizeResponse;
    settleLargeTexts(result, run.largeTexts, largeText && !rewritten && !result.error);
  }
  // A CLI may quote its MCP config when it reports a failure.
  if (result.error) result.error.message = redactValues(result.error.message, secrets);
  if (prepared.outputJson && result.raw !== undefined) result.text = JSON.stringify(result.raw);
  result.optimization = { ...prepared.optimization };
  if (prepared.optimizeResponse && result.text) {
    const optimized = optimizeResponse(result.text, { json: prepared.outputJson });
    result.text = optimized.text;
    result.optimization.response = savings(optimized);
  }
  if (result.error) {
    logger.error(
      `${cli} CLI execution failed [${result.error.category}]: ${firstLine(result.error.message)} [${correlationId}]`,
    );
  } else {
    logger.info(
      `${cli}_request completed successfully in ${result.durationMs}ms, response length=${expandedLength(result.text)} [${correlationId}]`,
    );
  }
  return result;
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
