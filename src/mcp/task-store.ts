import type { TaskStore } from "@modelcontextprotocol/sdk/experimental/tasks/interfaces.js";
import type { CallToolResult, Task } from "@modelcontextprotocol/sdk/types.js";
import { errorText } from "../errors.js";
import type { GatewayResult } from "../request.js";
import type { JobManager } from "../jobs/manager.js";
import type { ParentResult } from "../orchestrate/index.js";
import { isParentTarget, type JobRow, type JobStatus, type JobStore } from "../store/jobs.js";
import { toToolResult } from "./tools/request-common.js";

const TASK_STATUS: Record<JobStatus, Task["status"]> = {
  queued: "working",
  running: "working",
  completed: "completed",
  failed: "failed",
  interrupted: "failed",
  canceled: "cancelled",
};

/** Over HTTP with tokens, a client sees only the jobs its token started; without (stdio), all. */
export function visibleTo(job: JobRow, client: string | undefined): boolean {
  return client === undefined || job.clientToken === client;
}

/** How often a task client should poll. */
const POLL_MS = 1000;

/** A job as an MCP task; its ttl is how long the gateway keeps finished jobs. */
export function taskOf(job: JobRow, ttlMs: number): Task {
  return {
    taskId: job.id,
    status: TASK_STATUS[job.status],
    ttl: ttlMs,
    createdAt: job.createdAt,
    lastUpdatedAt: job.endedAt ?? job.startedAt ?? job.createdAt,
    pollInterval: POLL_MS,
    ...(job.errorMessage ? { statusMessage: job.errorMessage } : {}),
  };
}

/** The tool result of a finished consult/review: its text for the model, all of it structured. */
export function parentToolResult(result: ParentResult): CallToolResult {
  return {
    ...(result.status === "completed" ? {} : { isError: true }),
    content: [{ type: "text", text: result.text }],
    structuredContent: result,
  };
}

/** The job's tool result: the stored normalized result, or its error when it has none. */
export function jobToolResult(job: JobRow): CallToolResult {
  if (job.result && isParentTarget(job.cli))
    return parentToolResult(JSON.parse(job.result) as ParentResult);
  if (job.result) return toToolResult(JSON.parse(job.result) as GatewayResult);
  const text = errorText(job.errorCategory ?? "internal", job.errorMessage ?? `job ${job.status}`);
  return { isError: true, content: [{ type: "text", text }] };
}

/**
 * MCP tasks over the job store: a task is a job started by a task-augmented tools/call, and
 * tasks/cancel cancels the job (stopping its process group). With `client` (an HTTP client's
 * token name), another client's job is not found, exactly like an unknown one.
 */
export class JobTaskStore implements TaskStore {
  constructor(
    private readonly jobs: JobManager,
    private readonly store: JobStore,
    private readonly retentionMs: number,
    private readonly client?: string,
  ) {}

  private find(taskId: string): JobRow | undefined {
    const job = this.store.get(taskId);
    return job && visibleTo(job, this.client) ? job : undefined;
  }

  async createTask(): Promise<Task> {
    throw new Error("Tasks are created by task-augmented tools/call requests");
  }

  async getTask(taskId: string): Promise<Task | null> {
    const job = this.find(taskId);
    return job ? taskOf(job, this.retentionMs) : null;
  }

  async storeTaskResult(): Promise<void> {
    // The job manager stores every job's result itself.
  }

  async getTaskResult(taskId: string): Promise<CallToolResult> {
    const job = this.find(taskId);
    if (!job) throw new Error(`Task not found: ${taskId}`);
    return jobToolResult(job);
  }

  async updateTaskStatus(taskId: string, status: Task["status"]): Promise<void> {
    if (status === "cancelled" && this.find(taskId)) this.jobs.cancel(taskId);
  }

  async listTasks(): Promise<{ tasks: Task[] }> {
    return {
      tasks: this.store
        .list(100)
        .filter((j) => j.kind === "task" && visibleTo(j, this.client))
        .map((job) => taskOf(job, this.retentionMs)),
    };
  }
}
