import type { ToolRegistry } from "../tool-list.js";
import { z } from "zod";
import type { Gateway } from "../../gateway.js";
import { invalidInput } from "../../errors.js";
import { toolError } from "./errors.js";
import { common, commonRequest, requestOutput, toToolResult } from "./request-common.js";

const input = z.strictObject({
  ...common,
  fullAuto: z
    .boolean()
    .optional()
    .describe("Let codex edit the workspace: -s workspace-write (codex removed --full-auto)"),
  dangerouslyBypassApprovalsAndSandbox: z
    .boolean()
    .optional()
    .describe("Pass --dangerously-bypass-approvals-and-sandbox"),
});

export function registerCodexRequest(tools: ToolRegistry, gateway: Gateway): void {
  tools.add(
    "codex_request",
    {
      description:
        "Run OpenAI Codex (codex exec) on a prompt and return its answer, session id and usage. Default sandbox: read-only.",
      inputSchema: input,
      outputSchema: z.object(requestOutput),
      annotations: { openWorldHint: true },
    },
    async (args, extra) => {
      try {
        if (args.fullAuto && args.dangerouslyBypassApprovalsAndSandbox) {
          throw invalidInput(
            "fullAuto and dangerouslyBypassApprovalsAndSandbox cannot be combined",
          );
        }
        const result = await gateway.request(
          "codex",
          {
            ...commonRequest(args),
            options: {
              fullAuto: args.fullAuto,
              dangerouslyBypassApprovalsAndSandbox: args.dangerouslyBypassApprovalsAndSandbox,
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
