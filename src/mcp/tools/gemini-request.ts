import type { ToolRegistry } from "../tool-list.js";
import { z } from "zod";
import type { Gateway } from "../../gateway.js";
import { GEMINI_APPROVAL_MODES } from "../../providers/gemini.js";
import { checkDirectory } from "../../validate.js";
import { toolError } from "./errors.js";
import { common, commonRequest, requestOutput, toolList, toToolResult } from "./request-common.js";

const input = z.strictObject({
  ...common,
  resumeLatest: z
    .boolean()
    .optional()
    .describe("Resume gemini's latest session in cwd (--resume latest)"),
  approvalMode: z.enum(GEMINI_APPROVAL_MODES).optional().describe("gemini --approval-mode"),
  allowedTools: toolList.describe("Tools allowed without confirmation (--allowed-tools)"),
  includeDirs: z
    .array(z.string().max(4096))
    .max(20)
    .optional()
    .describe("Extra absolute workspace directories (--include-directories)"),
});

export function registerGeminiRequest(tools: ToolRegistry, gateway: Gateway): void {
  tools.add(
    "gemini_request",
    {
      description:
        "Run Google Gemini CLI (gemini) on a prompt and return its answer, session id and usage.",
      inputSchema: input,
      outputSchema: z.object(requestOutput),
      annotations: { openWorldHint: true },
    },
    async (args, extra) => {
      try {
        args.includeDirs?.forEach((dir, i) => checkDirectory(dir, `includeDirs[${i}]`));
        const result = await gateway.request(
          "gemini",
          {
            ...commonRequest(args),
            resumeLatest: args.resumeLatest,
            options: {
              approvalMode: args.approvalMode,
              allowedTools: args.allowedTools,
              includeDirs: args.includeDirs,
            },
          },
          extra.signal,
        );
        return toToolResult(result);
      } catch (err) {
        return toolError(err);
      }
    },
  );
}
