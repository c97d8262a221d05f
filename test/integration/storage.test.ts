// What the gateway keeps on disk: with the flight recorder off (LLM_GATEWAY_LOGS_DB=none) no file
// under the home holds a sync request's prompt or answer; async output is stored with secrets
// redacted and gone after the retention; the home is 0700 and its files 0600 whoever made them.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import {
  delay,
  MAIN,
  ON_POSTGRES,
  sc,
  startGateway,
  testDatabaseUrl,
  textOf,
  waitForJob,
} from "../helpers/gateway.js";
import { schemaText } from "../helpers/postgres.js";

const CLIS = ["claude", "codex", "gemini"] as const;

let bin: string;
const homes: string[] = [];
beforeAll(() => {
  bin = installFakeClis();
});
afterAll(() => {
  for (const dir of [bin, ...homes]) rmSync(dir, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), "llm-gateway-storage-"));
  homes.push(home);
  return home;
}

function start(home: string, env: Record<string, string> = {}, umask?: string) {
  return startGateway(
    { PATH: `${bin}:${process.env.PATH}`, LLM_GATEWAY_LOGS_DB: "none", ...env },
    { home, umask },
  );
}

/** Every file under dir (the gateway's home, with -wal and -shm files), recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => {
      try {
        return lstatSync(path).isFile();
      } catch {
        return false; // removed meanwhile
      }
    });
}

/** The files under dir whose bytes contain the text (as UTF-8). */
function grep(dir: string, text: string): string[] {
  const needle = Buffer.from(text, "utf8");
  return filesUnder(dir).filter((path) => readFileSync(path).includes(needle));
}

/**
 * Where the text is kept: files under the home, and in the PostgreSQL pass "postgres" when a row
 * of the gateway schema holds it (the store's counterpart of gateway.db's bytes).
 */
async function kept(home: string, text: string): Promise<string[]> {
  const files = grep(home, text);
  if (ON_POSTGRES && (await schemaText(testDatabaseUrl(home), "gateway")).includes(text))
    files.push("postgres");
  return files;
}

/** The store's files in the home: gateway.db and its WAL on SQLite, none on PostgreSQL. */
const STORE_FILES = ON_POSTGRES ? [] : ["gateway.db"];

describe("with LLM_GATEWAY_LOGS_DB=none", () => {
  it(
    "no file under the home holds a sync request's prompt or answer, while running or after",
    { timeout: 60_000 },
    async () => {
      const home = newHome();
      const gw = await start(home);
      const secrets: string[] = [];
      const mark = (label: string) => {
        const text = `${label}-${randomUUID()}`;
        secrets.push(text);
        return text;
      };
      for (const cli of CLIS) {
        // A plain request, one that streams progress events, one with stderr, one approved.
        for (const extra of [
          {},
          { approvalStrategy: "mcp_managed" },
          { createNewSession: true, optimizePrompt: true, optimizeResponse: true },
        ]) {
          const prompt = `${mark(`prompt-${cli}`)} [[fake:reply=${mark(`answer-${cli}`)}]] [[fake:stderr=${mark("stderr")}]] [[fake:stream=2]] [[fake:every=10]]`;
          const r = await gw.client.callTool(
            { name: `${cli}_request`, arguments: { prompt, ...extra } },
            undefined,
            { onprogress: () => {} },
          );
          expect(r.isError, textOf(r as never)).toBeFalsy();
        }
        // A failed one (a timeout), with partial output.
        const failed = await gw.call(`${cli}_request`, {
          prompt: `${mark("prompt-failed")} [[fake:partial=${mark("partial")}]] [[fake:hang]]`,
          timeoutMs: 1000,
        });
        expect(failed.isError).toBe(true);
      }
      // The other tools, with made-up ids where they need some.
      const { session } = sc(await gw.call("session_create", { cli: "claude", description: "d" }));
      for (const [tool, args] of [
        ["session_list", {}],
        ["session_get", { sessionId: session.id }],
        ["session_set_active", { cli: "claude", sessionId: null }],
        ["list_models", {}],
        ["approval_list", {}],
        ["session_delete", { sessionId: session.id }],
        ["session_clear_all", { cli: "codex" }],
      ] as const)
        expect((await gw.call(tool, args)).isError, tool).toBeFalsy();

      const gatewayHome = join(home, ".llm-cli-gateway");
      expect(filesUnder(gatewayHome).map((f) => f.slice(gatewayHome.length))).toEqual(
        expect.arrayContaining([...STORE_FILES.map((f) => `/${f}`), "/approvals.jsonl"]),
      );
      for (const text of secrets) expect(await kept(home, text), text).toEqual([]);
      await gw.close();
      for (const text of secrets) expect(await kept(home, text), text).toEqual([]);
    },
  );

  it("async and task output is stored with secrets redacted, and is gone after the retention", async () => {
    const home = newHome();
    const gw = await start(home);
    const token = `ghp_${"A1b2C3d4E5".repeat(4)}`;
    const answer = `answer-${randomUUID()}`;
    const prompt = `prompt-${randomUUID()} [[fake:reply=${answer} ${token}]] [[fake:stderr=password=hunter2hunter2]]`;
    const { jobId } = sc(await gw.call("codex_request_async", { prompt }));
    expect((await waitForJob(gw, jobId)).status).toBe("completed");
    const got = sc(await gw.call("llm_job_result", { jobId, raw: true }));
    expect(got.redacted).toBe(true);
    expect(got.result.text).toBe(`${answer} [REDACTED:github-token]`);
    expect(got.stdout.text).toContain("[REDACTED:github-token]");
    expect(got.stderr.text).toBe("password=[REDACTED]\n");

    // A task-augmented call is kept the same way: tasks/result reads it back until the retention.
    let taskId = "";
    for await (const m of gw.client.experimental.tasks.callToolStream(
      {
        name: "claude_request",
        arguments: { prompt: `task [[fake:reply=${answer}-task ${token}]]` },
      },
      CallToolResultSchema,
      { task: { ttl: 60_000 } },
    ))
      if (m.type === "taskCreated") taskId = m.task.taskId;
    const task = await gw.client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema);
    expect(textOf(task as never)).toBe(`${answer}-task [REDACTED:github-token]`);

    for (const secret of [token, "hunter2"]) expect(await kept(home, secret)).toEqual([]);
    expect((await kept(home, answer)).length).toBeGreaterThan(0); // kept until the retention ends
    await gw.close();

    await delay(1200);
    const pruner = await start(home, { LLM_GATEWAY_JOB_RETENTION_HOURS: "0.0003" }); // about 1 s
    expect(textOf(await pruner.call("llm_job_status", { jobId }))).toMatch(/Unknown jobId/);
    await pruner.close();
    expect(await kept(home, answer)).toEqual([]);
  });
});

describe("file modes", () => {
  /** Entries under dir whose mode is not 0700 (directories) or 0600 (files). */
  function tooOpen(dir: string): string[] {
    const out: string[] = [];
    const check = (path: string) => {
      const stat = lstatSync(path);
      const want = stat.isDirectory() ? 0o700 : 0o600;
      if ((stat.mode & 0o777) !== want) out.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
    };
    check(dir);
    for (const name of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
      try {
        check(join(dir, name));
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  it("a client that only connects, lists tools and pings loads no store; its first call does", async () => {
    const home = newHome();
    const gatewayHome = join(home, ".llm-cli-gateway");
    const gw = await start(home);
    try {
      expect((await gw.client.listTools()).tools.length).toBeGreaterThan(0);
      await gw.client.ping();
      await delay(300);
      expect(existsSync(gatewayHome)).toBe(false); // issue #22: an idle window costs a bare Node
      const r = await gw.call("claude_request", { prompt: "x" });
      expect(r.isError, textOf(r)).toBeFalsy();
      // On PostgreSQL the first call opens the gateway schema there, and no gateway.db.
      expect(existsSync(join(gatewayHome, "gateway.db"))).toBe(!ON_POSTGRES);
    } finally {
      await gw.close();
    }
  });

  it("the home is 0700 and its files 0600 whoever creates them first, whatever the umask", async () => {
    const home = newHome();
    const gatewayHome = join(home, ".llm-cli-gateway");
    const logsEnv = { ...process.env, HOME: home, LLM_GATEWAY_HOME: gatewayHome };
    const logs = () =>
      spawnSync("/bin/sh", ["-c", `umask 000 && exec "$0" "$1" logs`, process.execPath, MAIN], {
        env: logsEnv,
        encoding: "utf8",
      });
    // The logs command first, on a home that does not exist yet: it says so and creates nothing.
    const first = logs();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout + first.stderr).toMatch(/Nothing recorded yet/);
    expect(existsSync(gatewayHome)).toBe(false);
    // A home left open by something else (an older version, mkdir with the default umask).
    mkdirSync(gatewayHome, { mode: 0o755 });
    chmodSync(gatewayHome, 0o755);
    writeFileSync(join(gatewayHome, "mcp-servers.json"), '{"mcpServers":{}}', { mode: 0o644 });
    chmodSync(join(gatewayHome, "mcp-servers.json"), 0o644);

    const gw = await start(home, { LLM_GATEWAY_LOGS_DB: join(gatewayHome, "logs.db") }, "000");
    const r = await gw.call("claude_request", { prompt: "x", approvalStrategy: "mcp_managed" });
    expect(r.isError, textOf(r)).toBeFalsy();
    const { jobId } = sc(await gw.call("gemini_request_async", { prompt: "y" }));
    await waitForJob(gw, jobId);
    expect(logs().status).toBe(0); // opens logs.db (and its -wal, -shm) while the gateway runs
    const names = filesUnder(gatewayHome).map((f) => f.slice(gatewayHome.length + 1));
    expect(names).toEqual(
      expect.arrayContaining([
        ...STORE_FILES.flatMap((f) => [f, `${f}-wal`]),
        "logs.db",
        "approvals.jsonl",
      ]),
    );
    expect(tooOpen(gatewayHome)).toEqual([]);
    await gw.close();
    expect(logs().status).toBe(0); // now the logs command opens logs.db alone
    expect(tooOpen(gatewayHome)).toEqual([]);
  });
});

describe("output cap", () => {
  it("past the cap the run stops, the result says truncated with the byte counts, and at most the cap is stored", async () => {
    const home = newHome();
    const gw = await start(home, { LLM_GATEWAY_MAX_OUTPUT_BYTES: "200000" });
    const prompt = "[[fake:bytes=2000000]]";
    for (const cli of CLIS) {
      const sync = await gw.call(`${cli}_request`, { prompt });
      expect(sync.isError).toBe(true);
      expect(sc(sync).error.category).toBe("output_overflow");
      expect(sc(sync).truncated).toMatchObject({ capBytes: 200_000, keptBytes: 200_000 });
      expect(sc(sync).truncated.seenBytes).toBeGreaterThan(200_000);
      const { jobId } = sc(await gw.call(`${cli}_request_async`, { prompt }));
      const status = await waitForJob(gw, jobId);
      expect(status.error, cli).toMatchObject({ category: "output_overflow" });
      expect(status.stdoutChars + status.stderrChars).toBeLessThanOrEqual(200_000);
      const got = sc(await gw.call("llm_job_result", { jobId }));
      expect(got.result.truncated).toMatchObject({ capBytes: 200_000, keptBytes: 200_000 });
    }
    await gw.close();
  });
});
