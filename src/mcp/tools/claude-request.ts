import { z } from "zod";
import { MAX_PROMPT_CHARS, common, commonRequest, toolList } from "./request-common.js";
import type { RequestToolSpec } from "./request-tools.js";

const input = z.strictObject({
  ...common,
  continueSession: z.boolean().optional().describe("Active session, else claude's latest in cwd"),
  allowedTools: toolList.describe("e.g. Read, Bash(git log:*)"),
  disallowedTools: toolList,
  dangerouslySkipPermissions: z
    .boolean()
    .optional()
    .describe("claude refuses it as root unless IS_SANDBOX=1"),
  // No description: the name says it, and tools/list is paid for on every turn.
  appendSystemPrompt: z.string().max(MAX_PROMPT_CHARS).optional(),
  outputFormat: z.enum(["text", "json"]).optional().describe("json: claude's whole result"),
  strictMcpConfig: z.boolean().optional().describe("Default true"),
});

export const claudeRequestTool: RequestToolSpec<"claude", typeof input> = {
  cli: "claude",
  description:
    "Run Claude Code (claude -p) on a prompt; returns its answer, session id, usage and cost.",
  input,
  toRequest: (args) => ({
    ...commonRequest(args),
    strictMcpConfig: args.strictMcpConfig,
    resumeLatest: args.continueSession,
    outputFormat: args.outputFormat,
    options: {
      allowedTools: args.allowedTools,
      disallowedTools: args.disallowedTools,
      dangerouslySkipPermissions: args.dangerouslySkipPermissions,
      appendSystemPrompt: args.appendSystemPrompt,
    },
  }),
};
