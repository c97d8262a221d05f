import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { freshPgDatabase } from "./postgres.js";

export const MAIN = resolve(import.meta.dirname, "../../dist/main.js");

export interface StartedGateway {
  client: Client;
  home: string;
  /** The gateway's process id. */
  pid: number;
  stderr: () => string;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/**
 * Starts the built gateway over stdio with a real MCP client, in a throw-away HOME and gateway
 * home, so no test ever touches the user's own ~/.llm-cli-gateway, ~/.claude, ~/.codex or ~/.gemini.
 */
export async function startGateway(
  env: Record<string, string> = {},
  options: { home?: string; cwd?: string; client?: Client; umask?: string } = {},
): Promise<StartedGateway> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), "llm-gateway-test-"));
  const database = await testDatabaseFor(home);
  let stderr = "";
  // With a umask (e.g. "000"), through a shell that sets it: what the gateway creates must not depend on it.
  const transport = new StdioClientTransport({
    command: options.umask ? "/bin/sh" : process.execPath,
    args: options.umask
      ? ["-c", `umask ${options.umask} && exec "$0" "$1"`, process.execPath, MAIN]
      : [MAIN],
    cwd: options.cwd ?? home,
    stderr: "pipe",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      TMPDIR: process.env.TMPDIR ?? tmpdir(),
      LLM_GATEWAY_HOME: join(home, ".llm-cli-gateway"),
      ...database,
      ...env,
    },
  });
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const client = options.client ?? new Client({ name: "llm-cli-gateway-tests", version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    home,
    pid: transport.pid!,
    stderr: () => stderr,
    call: async (name, args) =>
      (await client.callTool({ name, arguments: args }, undefined, {
        timeout: 600_000,
      })) as CallToolResult,
    async close() {
      await client.close();
      if (!options.home) rmSync(home, { recursive: true, force: true });
    },
  };
}

const databases = new Map<string, string>();

/** True in the PostgreSQL pass (LLM_GATEWAY_TEST_BACKEND=postgres): the store is not in the home. */
export const ON_POSTGRES = process.env.LLM_GATEWAY_TEST_BACKEND === "postgres";

/** The database a test home's gateway uses in the PostgreSQL pass. */
export function testDatabaseUrl(home: string): string {
  const url = databases.get(home);
  if (!url) throw new Error(`no test database for ${home}`);
  return url;
}

/**
 * LLM_GATEWAY_TEST_BACKEND=postgres (.ci/run's PostgreSQL pass): each test home gets its own
 * database, kept across restarts of a gateway in the same home.
 */
export async function testDatabaseFor(home: string): Promise<Record<string, string>> {
  if (!ON_POSTGRES) return {};
  let url = databases.get(home);
  if (!url) databases.set(home, (url = await freshPgDatabase()));
  return { LLM_GATEWAY_DATABASE_URL: url };
}

/** A tool result's structuredContent, its fields read loosely (the assertions check them). */
export const sc = (r: { structuredContent?: unknown }) =>
  r.structuredContent as Record<string, any>;

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const ended = (status: string) => !["queued", "running"].includes(status);

/**
 * Polls llm_job_status every `everyMs` until `until(status)` holds (by default: the job ended) or
 * `ms` passed, and returns the last status: the test's assertion on it says what went wrong.
 */
export async function waitForJob(
  g: Pick<StartedGateway, "call">,
  jobId: string,
  {
    until = ended,
    ms = 10_000,
    everyMs = 50,
  }: { until?: (status: string) => boolean; ms?: number; everyMs?: number } = {},
): Promise<Record<string, any>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const status = sc(await g.call("llm_job_status", { jobId }));
    if (until(status.status) || Date.now() > deadline) return status;
    await delay(everyMs);
  }
}

export function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === "text" ? first.text : "";
}

/** True while a process with this pid runs (a zombie waiting to be reaped does not count). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** Waits up to `ms` for every pid to be gone; returns those still running. */
export async function survivors(pids: number[], ms = 3000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(alive);
  }
  return left;
}
