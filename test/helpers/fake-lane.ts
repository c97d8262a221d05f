import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import { startGateway, type StartedGateway } from "./gateway.js";

export interface FakeInvocation {
  cli: string;
  argv: string[];
  stdin: string;
  cwd: string;
  pid: number;
}

export interface FakeLane {
  gw: StartedGateway;
  /** A scratch directory the tests may use (also where the fake CLIs log). */
  dir: string;
  /** What the fake CLIs recorded since the last reset: one entry per process started. */
  invocations(): FakeInvocation[];
  /** Pids of grandchildren the fake CLIs started ([[fake:child]]). */
  grandchildren(): number[];
  reset(): void;
  /** Another gateway process over the same homes (a restart, or a second client window). */
  startAnother(env?: Record<string, string>, client?: Client): Promise<StartedGateway>;
  close(): Promise<void>;
}

/** The built gateway over stdio, with the fake CLIs first on its PATH and a throw-away home. */
export async function startFakeLane(extraEnv: Record<string, string> = {}): Promise<FakeLane> {
  const bin = installFakeClis();
  const dir = mkdtempSync(join(tmpdir(), "llm-gateway-fakelane-"));
  const logFile = join(dir, "invocations.jsonl");
  const home = mkdtempSync(join(tmpdir(), "llm-gateway-test-"));
  const env = { PATH: `${bin}:${process.env.PATH}`, FAKE_CLI_LOG: logFile, ...extraEnv };
  const gw = await startGateway(env, { home });
  const others: StartedGateway[] = [];
  // Complete lines only: a fake CLI may be writing its line (or have just created the file).
  const entries = () =>
    existsSync(logFile)
      ? readFileSync(logFile, "utf8")
          .split("\n")
          .slice(0, -1)
          .map((l) => JSON.parse(l) as FakeInvocation & { grandchild?: number })
      : [];
  return {
    gw,
    dir,
    invocations: () => entries().filter((e) => e.cli),
    grandchildren: () => entries().flatMap((e) => (e.grandchild ? [e.grandchild] : [])),
    reset: () => {
      rmSync(logFile, { force: true });
      rmSync(`${logFile}.runs.json`, { force: true });
    },
    async startAnother(extra = {}, client?: Client) {
      const other = await startGateway({ ...env, ...extra }, { home, client });
      others.push(other);
      return other;
    },
    async close() {
      await Promise.all([gw, ...others].map((g) => g.close()));
      for (const path of [bin, dir, home]) rmSync(path, { recursive: true, force: true });
    },
  };
}
