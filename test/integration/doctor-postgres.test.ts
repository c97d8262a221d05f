// doctor with LLM_GATEWAY_DATABASE_URL: the PostgreSQL store reachable or why not, the server's
// version and the gateway schema's version; never the password.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runDoctorCommand } from "../../src/cli/doctor.js";
import type { DoctorReport } from "../../src/cli/doctor-checks.js";
import { openGatewayStore } from "../../src/store/open.js";
import { GATEWAY_PG_MIGRATIONS } from "../../src/store/pg-schema.js";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import { freshPgDatabase, PG_ADMIN_URL } from "../helpers/postgres.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function doctor(databaseUrl: string, json = true) {
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
    },
    { stdout: (t) => void (out += t) },
  );
  return { code, out, report: json ? (JSON.parse(out) as DoctorReport) : undefined };
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
    const text = await doctor(url, false);
    expect(text.out).toMatch(
      new RegExp(`FAIL database: PostgreSQL 127\\.0\\.0\\.1:${port}/gwdb: unreachable`),
    );
    expect(text.out + JSON.stringify(report)).not.toContain(password);
  });
});
