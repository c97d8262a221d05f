import { z } from "zod";
import type { JobKind } from "../../store/jobs.js";
import type { ToolContext, ToolRegistry } from "../registry.js";
import {
  fanout,
  fanoutOutput,
  runParent,
  startParentTask,
  type FanoutToolDeps,
} from "./consult.js";

const ref = z.string().max(200);

export function registerReviewTool(
  tools: ToolRegistry,
  { orchestrator, store, retentionMs }: FanoutToolDeps,
): void {
  const input = z.strictObject({
    base: ref.optional(),
    head: ref.optional(),
    diff: z.enum(["staged", "working"]).optional().describe("Default: working"),
    files: z.array(z.string().min(1).max(4096)).min(1).max(50).optional(),
    focus: z.string().max(500).optional().describe("e.g. security, tests"),
    rounds: z.number().int().min(1).max(3).optional().describe("Default 1"),
    ...fanout,
    // As in consult, which describes them.
    clis: fanout.clis.unwrap().optional(),
    async: z.boolean().optional(),
  });
  const start = (args: z.infer<typeof input>, ctx: ToolContext) => (kind: JobKind) =>
    orchestrator.startReview({ ...args, rounds: args.rounds ?? 1 }, kind, {
      onProgress: ctx.progress,
      elicit: ctx.elicit,
    });
  tools.add({
    name: "review",
    description:
      "Read-only review by several CLIs at once of a git change in cwd (base..head, staged/working diff) or files: merged findings, verdict; rounds confirm/dispute.",
    inputSchema: input,
    outputSchema: fanoutOutput,
    annotations: { readOnlyHint: true },
    handler: (args, ctx) =>
      runParent({ orchestrator, async: args.async, ctx, start: start(args, ctx) }),
    startTask: (args, ctx) => startParentTask(store, retentionMs, start(args, ctx)),
  });
}
