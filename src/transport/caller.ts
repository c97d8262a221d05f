import { AsyncLocalStorage } from "node:async_hooks";
import type { ApprovalPolicy } from "../approval/policy.js";
import type { CliName } from "../providers/types.js";

/** Who asked: an HTTP client's bearer token, by name, with the limits it was made with. */
export interface Caller {
  /** The token's name: recorded with every call, and the owner of its sessions and jobs. */
  name: string;
  /** The CLIs it may use; undefined: all. */
  clis?: readonly CliName[];
  /** The most permissive approval policy it may run under; undefined: any (and legacy). */
  maxPolicy?: ApprovalPolicy;
  /** Its jobs queued or running at once; undefined: only the gateway's own limits. */
  concurrency?: number;
}

/**
 * The caller of the MCP request being handled, carried through the async work it starts (jobs,
 * stores, the approval log) without threading it through every signature. stdio has no caller:
 * `current()` is undefined and every store behaves as before (the local user sees everything).
 */
export class CallerScope {
  private readonly storage = new AsyncLocalStorage<Caller>();

  run<R>(caller: Caller | undefined, fn: () => R): R {
    return caller ? this.storage.run(caller, fn) : fn();
  }

  current(): Caller | undefined {
    return this.storage.getStore();
  }

  /** The owner name stores filter by; undefined outside an HTTP client's request. */
  readonly owner = (): string | undefined => this.storage.getStore()?.name;
}
