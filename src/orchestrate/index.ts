import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { GatewayError, invalidInput } from "../errors.js";
import type { JobManager } from "../jobs/manager.js";
import { PROVIDERS } from "../providers/index.js";
import { CLI_NAMES, type CliName } from "../providers/types.js";
import type { Pipeline } from "../pipeline/index.js";
import type { JobKind, JobStore } from "../store/jobs.js";
import { checkDirectory } from "../validate.js";
import { consult, type ConsultInput, type FanoutInput } from "./consult.js";
import { collectChange, type ReviewTarget } from "./git.js";
import { startParent, type ParentContext, type ParentHooks, type ParentRun } from "./parent.js";
import { review, type ReviewInput } from "./review.js";

export type { ParentResult, ParentRun } from "./parent.js";

type WithOptionalClis<T> = Omit<T, "clis"> & { clis?: CliName[] };

/** consult and review: several ordinary jobs of the pipeline under one parent job. */
export class Orchestrator {
  constructor(
    private readonly o: {
      pipeline: Pipeline;
      jobs: JobManager;
      store: JobStore;
      /** The PATH the CLIs are started with: where "installed" is looked up. */
      path: string;
    },
  ) {}

  /** The CLIs whose binary is on PATH. */
  installed(): CliName[] {
    const dirs = this.o.path.split(delimiter).filter(Boolean);
    return CLI_NAMES.filter((cli) =>
      dirs.some((dir) => {
        try {
          accessSync(join(dir, PROVIDERS[cli].binary), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
    );
  }

  startConsult(
    input: WithOptionalClis<ConsultInput>,
    kind: JobKind,
    hooks: ParentHooks,
  ): ParentRun {
    const full = { ...input, clis: this.clisOf(input) };
    if (full.cwd) checkDirectory(full.cwd, "cwd");
    const work = (ctx: ParentContext) => consult(ctx, full);
    return startParent({ ...this.o, target: "consult", kind, hooks, work });
  }

  /** Collects the change first: a bad ref or an empty diff is refused before anything starts. */
  async startReview(
    input: WithOptionalClis<Omit<ReviewInput, "cwd">> & ReviewTarget & { cwd?: string },
    kind: JobKind,
    hooks: ParentHooks,
  ): Promise<ParentRun> {
    const cwd = input.cwd ?? process.cwd();
    checkDirectory(cwd, "cwd");
    const clis = this.clisOf(input);
    const change = await collectChange(cwd, input);
    const full: ReviewInput = { ...input, cwd, clis };
    const work = (ctx: ParentContext) => review(ctx, full, change);
    return startParent({ ...this.o, target: "review", kind, hooks, work });
  }

  cancel(id: string): void {
    this.o.jobs.cancel(id);
  }

  private clisOf(input: WithOptionalClis<FanoutInput>): CliName[] {
    // Refused once here rather than by each CLI's job.
    if (input.approvalPolicy && input.approvalStrategy !== "mcp_managed")
      throw invalidInput('approvalPolicy applies only with approvalStrategy "mcp_managed"');
    if (input.clis?.length) return [...new Set(input.clis)];
    const found = this.installed();
    if (!found.length)
      throw new GatewayError(
        "cli_not_found",
        `None of ${CLI_NAMES.join(", ")} is installed (on PATH); install one, or name clis`,
      );
    return found;
  }
}
