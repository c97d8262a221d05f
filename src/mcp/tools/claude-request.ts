import type { ToolRegistry } from "../tool-list.js";
import { z } from "zod";
import type { Gateway } from "../../gateway.js";
import { toolError } from "./errors.js";
import { common, commonRequest, requestOutput, toolList, toToolResult } from "./request-common.js";

const input = z.strictObject({
  ...common,
  continueSession: z
    .boolean()
    .optional()
    .describe("Resume claude's most recent session in cwd (--continue)"),
  allowedTools: toolList.describe("Only these claude tools, e.g. Read, Bash(git log:*)"),
  disallowedTools: toolList.describe("Deny these claude tools"),
  dangerouslySkipPermissions: z
    .boolean()
    .optional()
    .describe(
      "Pass --dangerously-skip-permissions (claude refuses it as root unless IS_SANDBOX=1)",
    ),
  outputFormat: z
    .enum(["text", "json"])
    .optional()
    .describe('"json": the text is claude\'s full JSON result'),
  strictMcpConfig: z.boolean().optional().describe("Not in this version (rejected if true)"),
});

export function registerClaudeRequest(tools: ToolRegistry, gateway: Gateway): void {
  tools.add(
    "claude_request",
    {
      description:
        "Run Claude Code (claude -p) on a prompt and return its answer, session id, usage and cost.",
      inputSchema: input,
      outputSchema: z.object(requestOutput),
      annotations: { openWorldHint: true },
    },
    async (args, extra) => {
      try {
        const result = await gateway.request(
          "claude",
          {
            ...commonRequest(args, { strictMcpConfig: args.strictMcpConfig }),
            resumeLatest: args.continueSession,
            options: {
              allowedTools: args.allowedTools,
              disallowedTools: args.disallowedTools,
              dangerouslySkipPermissions: args.dangerouslySkipPermissions,
            },
          },
          extra.signal,
        );
        return toToolResult(result, args.outputFormat === "json");
      } catch (err) {
        return toolError(err);
      }
    },
  );
}
