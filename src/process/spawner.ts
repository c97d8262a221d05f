import { fork, spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Logger } from "../log.js";
import { isSameProcessAlive, killGroup, processStartTime } from "./liveness.js";

/** A process to start in its own process group, its prompt on stdin. */
export interface SpawnRequest {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null (codex reads it to EOF). */
  stdin?: string;
  /** A file for stdout instead of a pipe (gemini loses the tail of a piped stdout). */
  stdoutFile?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Started {
  /** Also the process group id. */
  pid: number;
  /** The read ends of its stdout (none with stdoutFile) and stderr pipes. */
  stdout: Readable | undefined;
  stderr: Readable;
  exited: Promise<Exit>;
}

/** Starts processes. Rejects with the system error (ENOENT, EACCES, ...) when one cannot start. */
export interface Spawner {
  spawn(request: SpawnRequest): Promise<Started>;
}

/** Starts the child from this thread; `readPipes: false` leaves its pipes unread, to be handed on. */
function startChild(request: SpawnRequest, readPipes = true): ChildProcess {
  const outFd = request.stdoutFile === undefined ? undefined : openSync(request.stdoutFile, "a");
  try {
    const child = spawn(request.command, request.args, {
      cwd: request.cwd,
      env: request.env,
      shell: false,
      detached: true, // own process group, so the whole tree can be stopped at once
      stdio: [request.stdin === undefined ? "ignore" : "pipe", outFd ?? "pipe", "pipe"],
    });
    if (!readPipes) {
      // Node starts reading a child's pipes at once; stop before the first read (reads happen
      // on the next turn of the event loop), so every byte goes to whoever receives the pipe.
      for (const pipe of [child.stdout, child.stderr]) {
        const handle = (pipe as unknown as { _handle?: { readStop(): number } } | null)?._handle;
        handle?.readStop();
      }
    }
    if (request.stdin !== undefined && child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when the CLI exits without reading: not our failure
      child.stdin.end(request.stdin);
    }
    return child;
  } finally {
    if (outFd !== undefined) closeSync(outFd); // the child has its own copy
  }
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
}

/** Starts processes from this thread: for tests, and inside the spawner process. */
export const spawnHere: Spawner = {
  async spawn(request) {
    const child = startChild(request);
    const exited = exitOf(child);
    return new Promise((resolve, reject) => {
      if (child.pid === undefined) child.on("error", reject);
      else
        resolve({
          pid: child.pid,
          stdout: child.stdout ?? undefined,
          stderr: child.stderr!,
          exited,
        });
    });
  },
};

/** Messages from the spawner process; pipes travel as the handle of a `pipe` message. */
export type SpawnerReply =
  | { id: number; pid: number }
  | { id: number; pipe: "stdout" | "stderr" }
  | { id: number; exit: Exit }
  | { id: number; error: { code?: string; message: string } };

interface Waiting {
  helper: ChildProcess;
  request: SpawnRequest;
  pid?: number;
  /** The pid's start time, to tell the process from a later one with its pid. */
  pidStart?: string | null;
  pipes: { stdout?: Readable; stderr?: Readable };
  started?: (started: Started) => void;
  failed?: (err: Error) => void;
  exit: (exit: Exit) => void;
  exited: Promise<Exit>;
  wantsStdout: boolean;
}

/**
 * Starts processes from a small helper process (spawner-main.ts), which hands each child's pipes
 * back over its IPC channel. Forking copies the parent's page tables and then waits for the child
 * to exec: from the gateway, with jobs running, that blocked its event loop for 4 ms per start on
 * an idle machine and 20-40 ms on a busy one. The helper starts on first use and again if it dies;
 * if it cannot start at all, CLIs are started from the gateway itself. When the gateway dies (even
 * by SIGKILL) its end of the IPC channel closes, and the helper stops the CLIs it started: none
 * outlives the gateway. (CLIs started from the gateway itself are stopped by the next gateway
 * start: see jobs/leases.ts.)
 *
 * The helper stops after `idleMs` with no process of its own running: it is a whole Node process
 * (about 40 MB RSS, issue #22), and the first start after it costs one fork from the gateway,
 * at a moment when no CLI of this gateway is running whose output could wait behind it.
 */
export class HelperSpawner implements Spawner {
  private helper: ChildProcess | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();
  /** Helpers that answered at least once: one that fails before that cannot work here. */
  private readonly answered = new WeakSet<ChildProcess>();
  private broken = false;
  private idleTimer: NodeJS.Timeout | undefined;

  private readonly helperPath: string;

  /**
   * `killGraceMs`: should the gateway die, the helper stops the CLIs it started, SIGTERM first and
   * SIGKILL this much later.
   */
  constructor(
    private readonly logger: Logger,
    private readonly options: { killGraceMs: number; helperPath?: string; idleMs?: number },
  ) {
    this.helperPath =
      options.helperPath ?? fileURLToPath(new URL("./spawner-main.js", import.meta.url));
  }

  spawn(request: SpawnRequest): Promise<Started> {
    if (this.broken) return spawnHere.spawn(request);
    clearTimeout(this.idleTimer);
    const helper = this.start();
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      let exit!: (exit: Exit) => void;
      const exited = new Promise<Exit>((r) => (exit = r));
      this.waiting.set(id, {
        helper,
        request,
        pipes: {},
        started: resolve,
        failed: reject,
        exit,
        exited,
        wantsStdout: request.stdoutFile === undefined,
      });
      helper.send({ id, request });
    });
  }

  /** Stops the helper, which first stops (within the kill grace) any process still running. */
  close(): void {
    clearTimeout(this.idleTimer);
    const helper = this.helper;
    this.helper = undefined;
    if (helper?.connected) helper.disconnect();
  }

  private stopWhenIdle(): void {
    if (this.waiting.size) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (!this.waiting.size) this.close();
    }, this.options.idleMs ?? SPAWNER_IDLE_MS).unref();
  }

  private start(): ChildProcess {
    if (this.helper) return this.helper;
    const helper = fork(this.helperPath, [String(this.options.killGraceMs)], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      execArgv: [], // not the gateway's own flags (an --inspect port, say)
      env: {}, // each request brings the CLI's environment; the helper needs none
    });
    helper.on("message", (reply: SpawnerReply, handle?: Readable) => this.onReply(reply, handle));
    helper.on("exit", (code, signal) => this.onHelperExit(helper, code ?? signal));
    helper.on("error", (err) => {
      this.logger.error(`spawner process: ${err.message}`);
      if (helper.pid === undefined) this.onHelperExit(helper, "not started"); // no exit follows
    });
    helper.unref();
    (helper.channel as { unref?: () => void } | undefined)?.unref?.();
    return (this.helper = helper);
  }

  private onReply(reply: SpawnerReply, handle?: Readable): void {
    if (this.helper) this.answered.add(this.helper);
    const entry = this.waiting.get(reply.id);
    if (!entry) return;
    if ("pid" in reply) {
      entry.pid = reply.pid;
      entry.pidStart = processStartTime(reply.pid) ?? null;
    } else if ("pipe" in reply) entry.pipes[reply.pipe] = handle;
    else if ("exit" in reply) {
      this.waiting.delete(reply.id);
      this.stopWhenIdle();
      entry.exit(reply.exit);
    } else {
      this.waiting.delete(reply.id);
      this.stopWhenIdle();
      const err: NodeJS.ErrnoException = new Error(reply.error.message);
      if (reply.error.code) err.code = reply.error.code;
      entry.failed?.(err);
      return;
    }
    const { pid, pipes } = entry;
    if (
      entry.started &&
      pid !== undefined &&
      pipes.stderr &&
      (pipes.stdout || !entry.wantsStdout)
    ) {
      entry.started({ pid, stdout: pipes.stdout, stderr: pipes.stderr, exited: entry.exited });
      delete entry.started;
      delete entry.failed;
    }
  }

  private onHelperExit(helper: ChildProcess, how: number | string | null): void {
    if (this.helper === helper) this.helper = undefined;
    // Exit code 0 is a helper we closed.
    if (!this.answered.has(helper) && how !== 0 && !this.broken) {
      this.broken = true;
      this.logger.error(
        `the spawner process could not start (${how}); CLIs are started from the gateway itself`,
      );
    }
    for (const [id, entry] of this.waiting) {
      if (entry.helper !== helper) continue;
      this.waiting.delete(id);
      if (this.broken && entry.pid === undefined && entry.started) {
        spawnHere.spawn(entry.request).then(entry.started, entry.failed);
        continue;
      }
      this.logger.error(`the spawner process exited (${how}) during a run`);
      if (entry.failed) {
        // Its pipes never arrived: stop the process, if it started, and fail the run.
        if (entry.pid !== undefined) killGroup(entry.pid, "SIGKILL");
        entry.failed(new Error(`the spawner process exited (${how})`));
      } else if (entry.pid !== undefined) {
        // It keeps running, but its exit status is gone with the spawner process.
        void waitUntilGone(entry.pid, entry.pidStart ?? null).then(() =>
          entry.exit({ code: null, signal: null }),
        );
      }
    }
  }
}

/** The helper stops after this long with none of its processes running. */
export const SPAWNER_IDLE_MS = 5_000;

/** How often to look for a process whose exit report was lost with the spawner process. */
const ORPHAN_POLL_MS = 250;

/** Resolves once the process is gone (a zombie counts as gone: nobody may be left to reap it). */
async function waitUntilGone(pid: number, startTime: string | null): Promise<void> {
  while (isSameProcessAlive(pid, startTime))
    await new Promise((r) => setTimeout(r, ORPHAN_POLL_MS));
}

/** The spawner process's side: starts children, hands their pipes over, reports their exits. */
export function serveSpawns(send: (reply: SpawnerReply, handle?: unknown) => void) {
  /** Children still running, by pid (also their process group id). */
  const running = new Map<number, Promise<Exit>>();
  const onMessage = (message: { id: number; request: SpawnRequest }) => {
    const { id, request } = message;
    let child: ChildProcess;
    try {
      child = startChild(request, false);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      send({ id, error: { code: e.code, message: e.message } });
      return;
    }
    const pid = child.pid;
    if (pid === undefined) {
      child.on("error", (e: NodeJS.ErrnoException) =>
        send({ id, error: { code: e.code, message: e.message } }),
      );
      return;
    }
    const exited = exitOf(child);
    running.set(pid, exited);
    send({ id, pid });
    if (child.stdout) send({ id, pipe: "stdout" }, child.stdout);
    send({ id, pipe: "stderr" }, child.stderr);
    void exited.then((exit) => {
      running.delete(pid);
      send({ id, exit });
    });
  };
  /**
   * The gateway is gone, and nobody is left to stop its CLIs or read their output: stop the
   * process group of every child still running, SIGTERM first and SIGKILL after the grace.
   */
  const stopAll = async (graceMs: number): Promise<void> => {
    const groups = [...running.keys()];
    for (const pid of groups) killGroup(pid, "SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running.values()),
      new Promise((r) => (timer = setTimeout(r, graceMs))),
    ]);
    clearTimeout(timer);
    // Also what the CLIs started in their groups, whether or not the CLI itself already exited.
    for (const pid of groups) killGroup(pid, "SIGKILL");
  };
  return { onMessage, stopAll };
}
