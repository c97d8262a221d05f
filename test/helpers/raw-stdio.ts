import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN } from "./gateway.js";

export interface RawAnswer {
  jsonrpc?: string;
  id?: string | number | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/**
 * The built gateway with raw stdio, in a throw-away home: the test writes lines byte for byte and
 * reads every line the gateway writes back, in order, so malformed input can be sent at all.
 */
export class RawGateway {
  readonly child: ChildProcessWithoutNullStreams;
  readonly home = mkdtempSync(join(tmpdir(), "llm-gateway-raw-"));
  readonly answers: RawAnswer[] = [];
  stderr = "";
  private partial = "";
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [MAIN], {
      cwd: this.home,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: this.home,
        TMPDIR: process.env.TMPDIR ?? tmpdir(),
        LLM_GATEWAY_HOME: join(this.home, ".llm-cli-gateway"),
        ...env,
      },
    });
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
    this.child.stdin.on("error", () => {}); // a gateway that exited: seen through `exited`
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString("utf8")));
    this.child.stdout.on("data", (chunk: Buffer) => {
      const lines = (this.partial + chunk.toString("utf8")).split("\n");
      this.partial = lines.pop()!;
      for (const line of lines) this.answers.push(JSON.parse(line) as RawAnswer);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  write(text: string | Buffer): void {
    this.child.stdin.write(text);
  }

  send(message: Record<string, unknown>): void {
    this.write(JSON.stringify({ jsonrpc: "2.0", ...message }) + "\n");
  }

  /** Waits for the answer whose id is `id` (a request of the test's) and returns it. */
  async answerTo(id: string | number, ms = 10_000): Promise<RawAnswer> {
    return this.until(() => this.answers.find((a) => a.id === id), `the answer to ${id}`, ms);
  }

  /** Waits until `count` lines have come back. */
  async lines(count: number, ms = 10_000): Promise<RawAnswer[]> {
    return this.until(
      () => (this.answers.length >= count ? this.answers.slice(0, count) : undefined),
      `${count} answers`,
      ms,
    );
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
    rmSync(this.home, { recursive: true, force: true });
  }

  private async until<T>(found: () => T | undefined, what: string, ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = found();
      if (value !== undefined) return value;
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(
          `no ${what}; got ${JSON.stringify(this.answers)}; stderr: ${this.stderr.slice(-2000)}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }
}
