import { z } from "zod";
import { invalidInput } from "../../errors.js";
import { common, commonRequest } from "./request-common.js";
import type { RequestToolSpec } from "./request-tools.js";

const input = z.strictObject({
  ...common,
  fullAuto: z.boolean().optional().describe("-s workspace-write (codex removed --full-auto)"),
  dangerouslyBypassApprovalsAndSandbox: z.boolean().optional(),
});

export const codexRequestTool: RequestToolSpec<"codex", typeof input> = {
  cli: "codex",
  description:
    "Run OpenAI Codex (codex exec) on a prompt; returns its answer, session id and usage. Sandbox: read-only unless fullAuto.",
  input,
  toRequest(args) {
    if (args.fullAuto && args.dangerouslyBypassApprovalsAndSandbox) {
      throw invalidInput("fullAuto and dangerouslyBypassApprovalsAndSandbox cannot be combined");
    }
    return {
      ...commonRequest(args),
      options: {
        fullAuto: args.fullAuto,
        dangerouslyBypassApprovalsAndSandbox: args.dangerouslyBypassApprovalsAndSandbox,
      },
    };
  },
};
