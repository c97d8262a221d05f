import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { sc, textOf } from "../helpers/gateway.js";

// agent_request with the fake opencode (test/fakes/fake-opencode.mjs): registered by its provider
// alone, it answers through the same tool as qwen, resumes by id, and runs with bash and edits
// denied unless the request grants them.

let lane: FakeLane;
let work: string;
let bin: string;
const last = () =>
  lane.invocations().at(-1)! as unknown as {
    argv: string[];
    stdin: string;
    cwd: string;
    config?: { permission?: Record<string, unknown> };
  };

beforeAll(async () => {
  bin = installFakeClis(["opencode"]);
  lane = await startFakeLane({ PATH: `${bin}:${process.env.PATH}` });
  work = mkdtempSync(join(tmpdir(), "llm-gateway-opencode-work-"));
});
afterAll(async () => {
  await lane.close();
  for (const dir of [work, bin]) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => lane.reset());

describe("agent_request (cli opencode)", () => {
  it("answers with the reply and opencode's session id; the prompt on stdin; bash and edits denied", async () => {
    const r = await lane.gw.call("agent_request", {
      cli: "opencode",
      prompt: "hello opencode",
      cwd: work,
    });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toBe("FAKE-REPLY: hello opencode");
    expect(sc(r)).toMatchObject({ cli: "opencode", exitCode: 0 });
    expect(sc(r).sessionId).toMatch(/^ses_/);
    expect(last().stdin).toBe("hello opencode");
    expect(last().argv.slice(0, 3)).toEqual(["run", "--format", "json"]);
    expect(last().config?.permission).toMatchObject({ bash: "deny", edit: "deny" });
  });

  it("resumes a session by id with --session, in its directory; workspaceWrite allows edits", async () => {
    const first = sc(
      await lane.gw.call("agent_request", { cli: "opencode", prompt: "one", cwd: work }),
    );
    const second = await lane.gw.call("agent_request", {
      cli: "opencode",
      prompt: "two",
      sessionId: first.sessionId,
      workspaceWrite: true,
    });
    expect(second.isError).toBeFalsy();
    expect(sc(second).sessionId).toBe(first.sessionId);
    const { argv, cwd, config } = last();
    expect(argv[argv.indexOf("--session") + 1]).toBe(first.sessionId);
    expect(cwd).toBe(work);
    expect(config?.permission).toMatchObject({ bash: "deny", edit: "allow" });
  });
});
