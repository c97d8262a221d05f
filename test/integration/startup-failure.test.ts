import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { ON_POSTGRES, startGateway, survivors, type StartedGateway } from "../helpers/gateway.js";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});

/** A temp HOME whose gateway home is made by `prepare`; removed after the test. */
function home(prepare: (gatewayHome: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "llm-gateway-startfail-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const gatewayHome = join(dir, ".llm-cli-gateway");
  mkdirSync(gatewayHome, { mode: 0o700 });
  prepare(gatewayHome);
  return dir;
}

/** Read-only for this user; root ignores modes, so it gets the immutable flag as well. */
function makeReadOnly(dir: string): void {
  chmodSync(dir, 0o500);
  cleanups.push(() => chmodSync(dir, 0o700)); // cleanups run last first: after chattr -i
  if (process.getuid?.() === 0) {
    execFileSync("chattr", ["+i", dir]);
    cleanups.push(() => void execFileSync("chattr", ["-i", dir]));
  }
}

async function started(dir: string): Promise<StartedGateway> {
  const gw = await startGateway({}, { home: dir });
  cleanups.push(() => gw.close());
  return gw;
}

/** The error a tools/call gets; fails the test when the call succeeds. */
async function callError(gw: StartedGateway): Promise<McpError> {
  try {
    await gw.client.callTool({ name: "list_models", arguments: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(McpError);
    return err as McpError;
  }
  throw new Error("tools/call succeeded on a gateway that could not start");
}

describe("a gateway that cannot start answers every call with the file, the cause and the fix", () => {
  // Both are facts of the SQLite files in the home; PostgreSQL's counterpart (a database that
  // cannot be reached at start) is test/integration/postgres-drop.test.ts.
  it.skipIf(ON_POSTGRES)(
    "a corrupt gateway.db: named, left as it is, and the gateway stays up",
    async () => {
      const garbage = Buffer.from("this is not a SQLite database\n".repeat(200));
      let dbPath = "";
      const dir = home((gatewayHome) => {
        dbPath = join(gatewayHome, "gateway.db");
        writeFileSync(dbPath, garbage, { mode: 0o600 });
      });
      const gw = await started(dir);
      for (let i = 0; i < 2; i++) {
        const err = await callError(gw);
        expect(err.code).toBe(-32603);
        expect(err.message).toContain(dbPath);
        expect(err.message).toMatch(/not a readable SQLite database/);
        expect(err.data).toMatchObject({
          type: "startup_failed",
          path: dbPath,
          fix: expect.stringContaining(`mv "${dbPath}"`),
        });
      }
      // Other calls too, and the tool list still answers, so the client shows the tools.
      await expect(
        gw.client.request({ method: "tasks/list", params: {} }, {} as never),
      ).rejects.toThrow(/could not start/);
      expect((await gw.client.listTools()).tools.length).toBeGreaterThan(0);
      expect(readFileSync(dbPath)).toEqual(garbage);
      const errors = gw
        .stderr()
        .split("\n")
        .filter((l) => l.includes("[ERROR]"));
      expect(errors).toEqual([expect.stringContaining(dbPath)]);
      // It leaves with status 1 when the client goes.
      const pid = gw.pid;
      await gw.close();
      expect(await survivors([pid])).toEqual([]);
    },
  );

  it.skipIf(ON_POSTGRES)("a read-only gateway home: named, with the way out", async () => {
    let gatewayHome = "";
    const dir = home((path) => {
      gatewayHome = path;
      makeReadOnly(path);
    });
    const gw = await started(dir);
    const err = await callError(gw);
    expect(err.code).toBe(-32603);
    expect(err.message).toContain(gatewayHome);
    expect(err.data).toMatchObject({
      type: "startup_failed",
      path: gatewayHome,
      fix: expect.stringContaining("LLM_GATEWAY_HOME"),
    });
    expect(gw.stderr()).toMatch(/\[ERROR\] .*could not start: .*cannot be written/);
  });
});
