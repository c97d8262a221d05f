import type { ApprovalPolicy } from "../approval/policy.js";
import { errorText } from "../errors.js";
import type { CliRequest, GatewayResult } from "../request.js";
import type { CliName } from "../providers/types.js";
import type { CliOutcome, ParentContext, ParentOutcome } from "./parent.js";

/** What consult and review share: which CLIs, their models, and how each job runs. */
export interface FanoutInput {
  clis: CliName[];
  models?: Partial<Record<CliName, string>>;
  cwd?: string;
  timeoutMs?: number;
  approvalStrategy?: "legacy" | "mcp_managed";
  approvalPolicy?: ApprovalPolicy;
}

export interface ConsultInput extends FanoutInput {
  prompt: string;
}

/** One CLI's part of a result: its answer or its typed error, and what it cost. */
export interface CliAnswer {
  cli: CliName;
  ok: boolean;
  text?: string;
  model?: string;
  durationMs?: number;
  usage?: GatewayResult["usage"];
  costUsd?: number;
  sessionId?: string;
  jobId?: string;
  correlationId?: string;
  error?: { category: string; message: string };
}

/** The fields of a CLI request that consult and review set the same way. */
export function baseRequest(
  input: FanoutInput,
  cli: CliName,
  prompt: string,
  sessionId?: string,
): Omit<CliRequest<unknown>, "options"> {
  return {
    prompt,
    model: input.models?.[cli],
    cwd: input.cwd,
    timeoutMs: input.timeoutMs,
    approvalStrategy: input.approvalStrategy,
    approvalPolicy: input.approvalPolicy,
    // Each job has a session of its own; later turns of a review continue it.
    ...(sessionId ? { sessionId } : { createNewSession: true }),
  };
}

export function answerOf(outcome: CliOutcome): CliAnswer {
  const r = outcome.result;
  const error = outcome.error ?? r?.error;
  return {
    cli: outcome.cli,
    ok: !error,
    ...(r
      ? {
          text: r.text,
          model: r.model,
          durationMs: r.durationMs,
          usage: r.usage,
          costUsd: r.costUsd,
          sessionId: r.nativeSessionId,
          correlationId: r.correlationId,
        }
      : {}),
    ...(outcome.jobId ? { jobId: outcome.jobId } : {}),
    ...(error ? { error: { category: error.category, message: error.message } } : {}),
  };
}

/** Runs every CLI at once on the same prompt, waits for all, and reports which answered. */
export async function consult(ctx: ParentContext, input: ConsultInput): Promise<ParentOutcome> {
  const started = Date.now();
  let finished = 0;
  const outcomes = await Promise.all(
    input.clis.map(async (cli) => {
      const outcome = await ctx.run(
        cli,
        { ...baseRequest(input, cli, input.prompt), options: {} },
        "consult",
      );
      const failed = outcome.error ?? outcome.result?.error;
      ctx.progress(
        `${cli} ${failed ? `failed (${failed.category})` : "done"}, ${++finished} of ${input.clis.length}`,
      );
      return outcome;
    }),
  );
  const answers = outcomes.map(answerOf);
  const answered = answers.filter((a) => a.ok).map((a) => a.cli);
  const failed = answers.filter((a) => !a.ok).map((a) => a.cli);
  const text = [
    `${answered.length} of ${answers.length} CLIs answered${failed.length ? ` (failed: ${failed.join(", ")})` : ""}.`,
    ...answers.map(section),
  ].join("\n\n");
  return {
    result: { text, answered, failed, answers, durationMs: Date.now() - started },
    failed: answered.length === 0,
  };
}

function section(a: CliAnswer): string {
  const facts = [a.model, a.durationMs !== undefined ? `${(a.durationMs / 1000).toFixed(1)} s` : ""]
    .filter(Boolean)
    .join(", ");
  const head = `## ${a.cli}${facts ? ` (${facts})` : ""}`;
  if (a.ok) return `${head}\n${a.text ?? ""}`;
  return `${head}\n${errorText(a.error!.category, a.error!.message)}`;
}
