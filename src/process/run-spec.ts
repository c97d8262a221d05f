import type { LineVerdict } from "../providers/types.js";
import type { Spawner } from "./spawner.js";

/** One CLI run. Every CLI runs through here; only the Spawner it uses starts processes. */
export interface RunSpec {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null (codex reads it to EOF). */
  stdin?: string;
  /** Capture stdout through a file instead of a pipe (gemini loses the tail of a piped stdout). */
  stdoutToFile?: boolean;
  timeoutMs?: number;
  /** Stop the run when neither stdout nor stderr grew for this long. */
  idleTimeoutMs?: number;
  maxOutputBytes: number;
  killGraceMs: number;
  signal?: AbortSignal;
  /** Who starts the process; by default this thread. */
  spawner?: Spawner;
  /** Called with each piece of output as it arrives, as bytes (storage decodes them elsewhere). */
  onOutput?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
  /**
   * Asked after each piece of output: a promise means "wait": the output is not read (the CLI
   * blocks on its writes) until it resolves. Keeps a slow store from queueing up the output.
   */
  backpressure?: () => Promise<void> | undefined;
  /** Called with each complete stdout line of at most NOTED_LINE_BYTES, as bytes without the newline. */
  onStdoutLine?: (line: Buffer) => void;
  /**
   * What the outcome keeps of each stdout line, judged from the line's first LINE_HEAD_BYTES: all
   * of it, nothing, or a shorter line that parses the same. Output nobody parses (tool results,
   * command output) is then neither decoded nor held in memory.
   */
  retainStdoutLine?: (head: string) => LineVerdict;
  /** Called once the process is running, with its pid (also its process group id). */
  onSpawn?: (pid: number) => void;
  /**
   * Keep the large string values of JSON lines as bytes (process/large-text.ts): the outcome's
   * stdout then has placeholders in their place, and `largeTexts` names them. For a reply that is
   * written from those bytes; whoever reads the text otherwise expands it.
   */
  keepLargeStrings?: boolean;
}

/** String values of at least this many bytes are kept as bytes (keepLargeStrings). */
export const LARGE_STRING_BYTES = 256 * 1024;

/** How much of a stdout line retainStdoutLine sees. */
export const LINE_HEAD_BYTES = 256;
/** Longer stdout lines are not passed to onStdoutLine (joining their pieces would cost a copy). */
export const NOTED_LINE_BYTES = 64 * 1024;

export type StopReason = "timeout" | "idle_timeout" | "output_overflow" | "canceled";

export interface RunOutcome {
  /** The stdout lines retainStdoutLine kept, decoded (all of stdout without one). */
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** Why the gateway stopped the process, when it did. */
  stopped?: StopReason;
  /** Bytes of stdout plus stderr read, and of those the bytes kept (at most maxOutputBytes). */
  outputBytes: number;
  keptBytes: number;
  /** Set when the process could not be started at all (ENOENT, EACCES, ...). */
  spawnError?: NodeJS.ErrnoException;
  /** The ids of the large texts kept for stdout's placeholders (keepLargeStrings). */
  largeTexts?: number[];
}
