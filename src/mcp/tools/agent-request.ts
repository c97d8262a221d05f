import { z } from "zod";
import { invalidInput } from "../../errors.js";
import { AGENT_CLIS, PROVIDERS } from "../../providers/index.js";
import {
  AGENT_FIELDS,
  CLI_NAMES,
  type AgentField,
  type AgentOptions,
  type CliName,
} from "../../providers/types.js";
import type { CliRequest } from "../../request.js";
import type { ToolRegistry } from "../registry.js";
import { common, commonRequest, toolList } from "./request-common.js";
import { runAsync, runSync, runTask, type RequestToolDeps } from "./request-tools.js";

// One tool for every CLI without a tool of its own: a pair per CLI would cost ~2.9 KB of
// tools/list each, which every client pays on every turn. A CLI joins by declaring
// `agentRequest` in its provider; its name is then one more value of `cli`.

const input = z.strictObject({
  cli: z.enum(AGENT_CLIS as [CliName, ...CliName[]]),
  ...common,
  resumeLatest: z.boolean().optional().describe("The CLI's latest session in cwd"),
  bypassPermissions: z.boolean().optional().describe("Skip every permission check (yolo)"),
  workspaceWrite: z.boolean().optional().describe("Edit files without asking"),
  allowedTools: toolList.describe("Tools it may run unasked"),
  async: z.boolean().optional().describe("Return a jobId at once (llm_job_*)"),
});

type AgentArgs = z.infer<typeof input>;

/** A field counts as asked when it asks for something: false and [] ask for nothing. */
function asked(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false;
}

/** The gateway's request; throws invalid_input naming the field and the CLI for one it cannot honour. */
export function agentRequest(args: AgentArgs): CliRequest<AgentOptions> {
  const spec = PROVIDERS[args.cli].agentRequest!;
  const refused = AGENT_FIELDS.filter(
    (field: AgentField) => asked(args[field]) && !spec.honours.includes(field),
  );
  if (refused.length)
    throw invalidInput(
      `${refused.join(", ")}: ${args.cli} cannot honour ${refused.length > 1 ? "these options" : "this option"} (it honours ${spec.honours.join(", ") || "none of the optional fields"})`,
    );
  if (args.bypassPermissions && args.workspaceWrite)
    throw invalidInput("bypassPermissions and workspaceWrite cannot be combined");
  return {
    ...commonRequest(args),
    resumeLatest: args.resumeLatest,
    options: {
      bypassPermissions: args.bypassPermissions,
      workspaceWrite: args.workspaceWrite,
      allowedTools: args.allowedTools,
    },
  };
}

/** Fields every result has, sync or job form (the sync result is the other request tools' shape). */
const output = z.looseObject({ cli: z.string(), correlationId: z.string() });

export function registerAgentRequest(tools: ToolRegistry, deps: RequestToolDeps): void {
  if (!AGENT_CLIS.length) return;
  const { pipeline } = deps;
  const titles = AGENT_CLIS.map((cli) => `${cli} (${PROVIDERS[cli].agentRequest!.title})`);
  const cliOf = (args: Record<string, unknown>) =>
    (CLI_NAMES as readonly unknown[]).includes(args.cli) ? (args.cli as CliName) : undefined;
  const toRequest = (args: AgentArgs) => {
    try {
      return agentRequest(args);
    } catch (err) {
      pipeline.recordRejected(args.cli, args, err);
      throw err;
    }
  };
  tools.add({
    name: "agent_request",
    description: `Run another agent CLI on a prompt: ${titles.join(", ")}; returns what claude_request returns. async: a jobId instead.`,
    inputSchema: input,
    outputSchema: output,
    onRejected(args, error) {
      const cli = cliOf(args);
      if (cli) pipeline.recordRejected(cli, args, error);
    },
    handler: (args, ctx) =>
      args.async
        ? runAsync(deps, args.cli, toRequest(args), ctx)
        : runSync(deps, args.cli, toRequest(args), ctx),
    startTask: (args, ctx) => runTask(deps, args.cli, toRequest(args), ctx),
  });
}
