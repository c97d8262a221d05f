import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Approvals } from "../approval/service.js";
import type { JobManager } from "../jobs/manager.js";
import type { Pipeline } from "../pipeline/index.js";
import type { CliProbe } from "../process/cli-probe.js";
import { PROVIDERS } from "../providers/index.js";
import { CLI_NAMES, type CliName } from "../providers/types.js";
import type { Orchestrator } from "../orchestrate/index.js";
import type { Resilience } from "../resilience.js";
import type { JobStore } from "../store/jobs.js";
import type { SessionStore } from "../store/sessions.js";
import type { Caller, CallerScope } from "../transport/caller.js";
import { CAPABILITIES, SERVER_NAME } from "./identity.js";
import { ToolRegistry } from "./registry.js";
import { JobTaskStore } from "./task-store.js";
import { claudeRequestTool } from "./tools/claude-request.js";
import { codexRequestTool } from "./tools/codex-request.js";
import { geminiRequestTool } from "./tools/gemini-request.js";
import { registerAgentRequest } from "./tools/agent-request.js";
import { registerApprovalList } from "./tools/approval-list.js";
import { registerConsultTool } from "./tools/consult.js";
import { registerReviewTool } from "./tools/review.js";
import { registerJobTools } from "./tools/jobs.js";
import { registerListModels } from "./tools/list-models.js";
import { registerRequestTools } from "./tools/request-tools.js";
import { registerSessionTools } from "./tools/sessions.js";

export interface ServerParts {
  pipeline: Pipeline;
  jobs: JobManager;
  jobStore: JobStore;
  sessions: SessionStore;
  resilience: Resilience;
  approvals: Approvals;
  orchestrator: Orchestrator;
  retentionMs: number;
  probe: CliProbe;
  /** Whose request is being handled (HTTP clients); absent: stdio, everything visible. */
  scope?: CallerScope;
}

/** One MCP server: the one over stdio, or one per HTTP client session (`caller`: its token). */
export function createMcpServer(parts: ServerParts, version: string, caller?: Caller): Server {
  const server = new Server(
    { name: SERVER_NAME, version },
    {
      capabilities: CAPABILITIES,
      taskStore: new JobTaskStore(parts.jobs, parts.jobStore, parts.retentionMs, caller?.name),
    },
  );
  const scope = parts.scope;
  let tools = registries.get(parts);
  if (!tools) registries.set(parts, (tools = buildTools(parts)));
  tools.install(server, scope ? (fn) => scope.run(caller, fn) : undefined);
  return server;
}

/** The tools of one set of parts, built once (~20 ms of JSON Schema) and installed on every server. */
const registries = new WeakMap<ServerParts, ToolRegistry>();

/**
 * The CLIs with a request tool of their own, each with its own input schema. Every other CLI is
 * served by agent_request (its provider declares `agentRequest`); buildTools checks that each CLI
 * has one of the two.
 */
const REQUEST_TOOLS = {
  claude: claudeRequestTool,
  codex: codexRequestTool,
  gemini: geminiRequestTool,
} as const satisfies { [C in CliName]?: { cli: C } };

/** Every tool. Registering keeps references to `parts` only: the build lists tools without them. */
export function buildTools(parts: ServerParts): ToolRegistry {
  const tools = new ToolRegistry();
  const { pipeline, jobs, jobStore: store, orchestrator, retentionMs } = parts;
  for (const spec of Object.values(REQUEST_TOOLS)) {
    registerRequestTools(
      tools,
      { pipeline, jobs, store, retentionMs },
      spec as Parameters<typeof registerRequestTools>[2],
    );
  }
  for (const cli of CLI_NAMES)
    if (!(cli in REQUEST_TOOLS) && !PROVIDERS[cli].agentRequest)
      throw new Error(`${cli} has no request tool: give its provider agentRequest`);
  registerAgentRequest(tools, { pipeline, jobs, store, retentionMs });
  for (const register of [registerConsultTool, registerReviewTool])
    register(tools, { orchestrator, store, retentionMs });
  registerJobTools(tools, parts.jobs, parts.jobStore, parts.scope?.owner);
  registerListModels(tools, parts.resilience, parts.probe);
  registerSessionTools(tools, parts.sessions);
  registerApprovalList(tools, parts.approvals);
  return tools;
}
