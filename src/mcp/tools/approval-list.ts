import { z } from "zod";
import type { Approvals } from "../../approval/service.js";
import { CLI_NAMES } from "../../providers/types.js";
import type { ToolRegistry } from "../registry.js";
import { reply } from "./reply.js";

export function registerApprovalList(tools: ToolRegistry, approvals: Approvals): void {
  tools.add({
    name: "approval_list",
    description: "Recent approval decisions (approvalStrategy mcp_managed), newest first.",
    inputSchema: z.strictObject({
      limit: z.number().int().min(1).max(500).optional().describe("Default 50"),
      cli: z.enum(CLI_NAMES).optional(),
    }),
    outputSchema: z.object({ approvals: z.array(z.looseObject({})) }),
    annotations: { readOnlyHint: true },
    handler: ({ limit = 50, cli }) => reply({ approvals: approvals.recent(limit, cli) }),
  });
}
