import { z } from "zod";
import { GEMINI_APPROVAL_MODES } from "../../providers/gemini.js";
import { checkDirectory } from "../../validate.js";
import { common, commonRequest, toolList } from "./request-common.js";
import type { RequestToolSpec } from "./request-tools.js";

const input = z.strictObject({
  ...common,
  resumeLatest: z.boolean().optional().describe("gemini's latest session in cwd"),
  approvalMode: z.enum(GEMINI_APPROVAL_MODES).optional(),
  allowedTools: toolList,
  includeDirs: z.array(z.string().max(4096)).max(20).optional().describe("Absolute paths"),
});

export const geminiRequestTool: RequestToolSpec<"gemini", typeof input> = {
  cli: "gemini",
  description:
    "Run Google Gemini CLI (gemini) on a prompt; returns its answer, session id and usage.",
  input,
  toRequest(args) {
    args.includeDirs?.forEach((dir, i) => checkDirectory(dir, `includeDirs[${i}]`));
    return {
      ...commonRequest(args),
      resumeLatest: args.resumeLatest,
      options: {
        approvalMode: args.approvalMode,
        allowedTools: args.allowedTools,
        includeDirs: args.includeDirs,
      },
    };
  },
};
