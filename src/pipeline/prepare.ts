import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { GatewayConfig } from "../config.js";
import { correlationIdOf } from "../correlation.js";
import { optimizePrompt } from "../optimize/index.js";
import { PROVIDERS, resolveModel } from "../providers/index.js";
import type { Provider } from "../providers/types.js";
import type { AnyCliRequest, PreparedRequest, Savings } from "../request.js";
import { rootOwnedScratchDir } from "../root-owned.js";
import { resolveSession } from "../session-plan.js";
import type { SessionStore } from "../store/sessions.js";
import { checkDirectory } from "../validate.js";

export interface PrepareDeps {
  config: GatewayConfig;
  sessions: SessionStore;
}

export const savings = ({ originalChars, optimizedChars, transformations }: Savings): Savings => ({
  originalChars,
  optimizedChars,
  transformations,
});

/**
 * The prepare step: validate, resolve the session, build the invocation. It throws
 * `invalid_input` before anything runs; what it returns can no longer be refused, only fail.
 */
export function prepare(deps: PrepareDeps, req: AnyCliRequest): PreparedRequest {
  const { cli } = req;
  // The options are this CLI's (the union is discriminated by cli); the table is indexed by any.
  const provider: Provider = PROVIDERS[cli];
  if (req.cwd) checkDirectory(req.cwd, "cwd");
  const target = resolveSession({
    store: deps.sessions,
    provider,
    request: req,
    requestedModel: resolveModel(provider, req.model),
  });
  checkDirectory(target.cwd, "cwd");
  const optimized = req.optimizePrompt ? optimizePrompt(req.prompt) : undefined;
  const { config } = deps;
  const scratchDir = provider.needsRootOwnedFiles?.(req.mcp)
    ? rootOwnedScratchDir(config.rootOwnedRoots)
    : join(config.home, "run", randomUUID());
  const prompt = optimized?.text ?? req.prompt;
  return {
    cli,
    correlationId: correlationIdOf(req.correlationId),
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
      options: req.options as never,
      mcp: req.mcp,
      scratchDir,
      env: config.childEnv,
    }),
    scratchDir,
    gatewaySessionId: target.session?.id,
    timeoutMs: req.timeoutMs ?? config.timeoutMs,
    idleTimeoutMs: req.idleTimeoutMs,
    outputJson: req.outputFormat === "json",
  };
}
