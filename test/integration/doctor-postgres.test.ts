// doctor with LLM_GATEWAY_DATABASE_URL: the PostgreSQL store reachable or why not, the server's
// version and the gateway schema's version; never the password.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runDoctorCommand } from "../../src/cli/doctor.js";
import type { DoctorReport } from "../../src/cli/doctor-checks.js";
import { RECORDER_PG_MIGRATIONS } from "../../src/recorder/pg-schema.js";
import { Recorder } from "../../src/recorder/writer.js";
import { openGatewayStore } from "../../src/store/open.js";
import { GATEWAY_PG_MIGRATIONS } from "../../src/store/pg-schema.js";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import { freshPgDatabase, PG_ADMIN_URL } from "../helpers/postgres.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function doctor(databaseUrl: string, json = true, extra: Record<string, string> = {}) {
  const bin = installFakeClis(["claude"]);
  const home = mkdtempSync(join(tmpdir(), "llm-gateway-doctor-pg-"));
  dirs.push(bin, home);
  let out = "";
  const code = await runDoctorCommand(
    { json },
    {
      PATH: `${bin}:${dirname(process.execPath)}`,
      HOME: home,
      LLM_GATEWAY_DATABASE_URL: databaseUrl,
      LLM_GATEWAY_DATABASE_CONNECT_TIMEOUT_MS: "1000",
      ...extra,
    },
    { stdout: (t) => void (out += t) },
  );
  return { code, out, home, report: json ? (JSON.parse(out) as DoctorReport) : undefined };
}
const check = (r: DoctorReport, name: string) => r.checks.find((c) => c.name === name);

describe("doctor on PostgreSQL", () => {
  it.skipIf(!PG_ADMIN_URL)(
    "reachable: the server's version and the schema's, before and after the first start",
    async () => {
      const url = await freshPgDatabase();
      const before = await doctor(url);
      const target = new URL(url);
      expect(check(before.report!, "database")).toMatchObject({
        ok: true,
        detail: expect.stringMatching(
          new RegExp(
            `^PostgreSQL ${target.hostname}:${target.port}${target.pathname}: reachable, server \\d+\\.\\d+.*; schema gateway not created yet`,
          ),
        ),
      });
      expect(check(before.report!, "gateway.db")).toBeUndefined(); // the store is not a file here
      openGatewayStore({
        postgres: { url, statementTimeoutMs: 5000, connectTimeoutMs: 5000 },
      }).close();
      const after = await doctor(url);
      expect(check(after.report!, "database")!.detail).toContain(
        `schema gateway at version ${GATEWAY_PG_MIGRATIONS.length} of ${GATEWAY_PG_MIGRATIONS.length}`,
      );
      expect(check(after.report!, "database")!.ok).toBe(true);
    },
  );

  it.skipIf(!PG_ADMIN_URL)(
    "the flight recorder: its PostgreSQL schema's version and calls, or the file LLM_GATEWAY_LOGS_DB names, or off",
    async () => {
      const url = await freshPgDatabase();
      const target = new URL(url);
      const where = `the flight recorder writes to PostgreSQL ${target.hostname}:${target.port}${target.pathname}, schema recorder`;
      const before = await doctor(url);
      expect(check(before.report!, "recorder")).toEqual({
        name: "recorder",
        ok: true,
        detail: `${where}: not created yet (the first gateway start creates it)`,
        problems: [],
      });
      expect(check(before.report!, "logs.db")).toBeUndefined(); // no "logs.db not created yet"

      const recorder = Recorder.open(
        { postgres: { url, statementTimeoutMs: 5000, connectTimeoutMs: 5000 } },
        { onError: (e) => console.error(e) },
      );
      for (const prompt of ["one", "two", "three"])
        recorder.finish(recorder.start({ cli: "codex", correlationId: prompt, prompt }), {
          status: "completed",
          responseText: "ok",
        });
      recorder.close();
      const latest = RECORDER_PG_MIGRATIONS.length;
      const after = await doctor(url, false);
      expect(after.out).toContain(
        `ok   recorder: ${where} at version ${latest} of ${latest}; 3 call(s) recorded\n`,
      );
      expect(existsSync(join(after.home, ".llm-cli-gateway", "logs.db"))).toBe(false);

      // LLM_GATEWAY_LOGS_DB has the last word: a file of this gateway's own, or off.
      const file = join(after.home, "own-logs.db");
      const own = await doctor(url, true, { LLM_GATEWAY_LOGS_DB: file });
      expect(check(own.report!, "recorder")).toBeUndefined();
      expect(check(own.report!, "logs.db")!.detail).toBe(`${file} not created yet`);
      const off = await doctor(url, true, { LLM_GATEWAY_LOGS_DB: "none" });
      expect(check(off.report!, "recorder")).toBeUndefined();
      expect(check(off.report!, "logs.db")!.detail).toBe(
        "the flight recorder is off (LLM_GATEWAY_LOGS_DB)",
      );
    },
  );

  it("unreachable: named by host and port with the error and the fix, never the password", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const password = "doctor-pw-never-printed";
    const url = `postgres://gw:${password}@127.0.0.1:${port}/gwdb`;
    const { report } = await doctor(url);
    const db = check(report!, "database")!;
    expect(db).toMatchObject({
      ok: false,
      detail: expect.stringMatching(
        new RegExp(`^PostgreSQL 127\\.0\\.0\\.1:${port}/gwdb: unreachable \\(.*ECONNREFUSED`),
      ),
    });
    expect(db.problems[0]!.fix).toMatch(/LLM_GATEWAY_DATABASE_URL/);
    expect(check(report!, "recorder")).toMatchObject({
      ok: false,
      detail: `the flight recorder writes to schema recorder of PostgreSQL 127.0.0.1:${port}/gwdb, which is unreachable (see database)`,
    });
    const text = await doctor(url, false);
    expect(text.out).toMatch(
      new RegExp(`FAIL database: PostgreSQL 127\\.0\\.0\\.1:${port}/gwdb: unreachable`),
    );
    expect(text.out + JSON.stringify(report)).not.toContain(password);
  });
});
