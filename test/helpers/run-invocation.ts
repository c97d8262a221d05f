import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runProcess, type RunOutcome } from "../../src/process/runner.js";
import type { InvocationRequest, ParsedOutput, Provider } from "../../src/providers/types.js";

/**
 * One run of a provider's invocation, as src/pipeline/run.ts does it (files 0600 in scratchDir,
 * removed after, stdout lines retained, parse): for a provider the gateway does not register yet.
 */
export async function runInvocation<O>(
  provider: Provider<O>,
  request: InvocationRequest<O>,
  run: { cwd: string; timeoutMs?: number; idleTimeoutMs?: number; path?: string },
): Promise<{
  parsed: ParsedOutput;
  outcome: RunOutcome;
  args: string[];
  env: Record<string, string>;
}> {
  const invocation = provider.buildInvocation(request);
  if (invocation.files) {
    mkdirSync(request.scratchDir, { recursive: true, mode: 0o700 });
    for (const [name, content] of Object.entries(invocation.files))
      writeFileSync(join(request.scratchDir, name), content, { mode: 0o600 });
  }
  const env = { ...request.env, ...invocation.env } as Record<string, string>;
  const outcome = await runProcess({
    command: run.path ? join(run.path, provider.binary) : provider.binary,
    args: invocation.args,
    stdin: invocation.stdin,
    cwd: run.cwd,
    env,
    timeoutMs: run.timeoutMs ?? 120_000,
    idleTimeoutMs: run.idleTimeoutMs,
    maxOutputBytes: 16 * 1024 * 1024,
    killGraceMs: 2000,
    retainStdoutLine: (head) => provider.retain(head),
  }).finally(() => rmSync(request.scratchDir, { recursive: true, force: true }));
  return {
    parsed: provider.parse(outcome),
    outcome,
    args: invocation.args,
    env: invocation.env ?? {},
  };
}
