import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { sc } from "../helpers/gateway.js";

let lane: FakeLane;
let codexHome: string;

beforeAll(async () => {
  lane = await startFakeLane();
  codexHome = join(lane.gw.home, ".codex"); // HOME is the lane's home; CODEX_HOME is unset
  mkdirSync(codexHome, { recursive: true });
});
afterAll(() => lane.close());
afterEach(() => rmSync(join(codexHome, "config.toml"), { force: true }));

const ask = async (cli: string, args: Record<string, unknown> = {}) =>
  sc(await lane.gw.call(`${cli}_request`, { prompt: "which model?", ...args }));

describe("every result names the model the CLI used, and where that comes from", () => {
  it("codex without a model: its built-in default, marked as such", async () => {
    expect(await ask("codex")).toMatchObject({ model: "gpt-6.1-sol", modelSource: "default" });
  });

  it("codex with a model or an alias: the one passed to it", async () => {
    expect(await ask("codex", { model: "gpt-5.5" })).toMatchObject({
      model: "gpt-5.5",
      modelSource: "request",
    });
    expect(await ask("codex", { model: "latest" })).toMatchObject({
      model: "gpt-6.1-sol",
      modelSource: "request",
    });
  });

  it("codex without a model: the one its config.toml names", async () => {
    writeFileSync(
      join(codexHome, "config.toml"),
      'model = "gpt-5.5"\n[analytics]\nenabled = false\n',
    );
    expect(await ask("codex")).toMatchObject({ model: "gpt-5.5", modelSource: "config" });
  });

  it("codex: a trusted project's .codex/config.toml outranks the user's; an untrusted one does not count", async () => {
    const project = join(lane.dir, "project");
    const sub = join(project, "sub");
    mkdirSync(join(project, ".git"), { recursive: true });
    writeFileSync(join(project, ".git", "HEAD"), "ref: refs/heads/main\n");
    mkdirSync(join(project, ".codex"), { recursive: true });
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(project, ".codex", "config.toml"), 'model = "gpt-6-sol"\n');
    const user = 'model = "gpt-5.5"\n';
    writeFileSync(join(codexHome, "config.toml"), user);
    expect(await ask("codex", { cwd: sub })).toMatchObject({
      model: "gpt-5.5",
      modelSource: "config",
    });
    writeFileSync(
      join(codexHome, "config.toml"),
      `${user}[projects.${JSON.stringify(project)}]\ntrust_level = "trusted"\n`,
    );
    expect(await ask("codex", { cwd: sub })).toMatchObject({
      model: "gpt-6-sol",
      modelSource: "config",
    });
  });

  it("claude and gemini: the model their output names", async () => {
    expect(await ask("claude")).toMatchObject({ model: "claude-opus-5-5", modelSource: "cli" });
    expect(await ask("gemini")).toMatchObject({ model: "gemini-2.5-pro", modelSource: "cli" });
    expect(await ask("gemini", { model: "gemini-2.5-flash" })).toMatchObject({
      model: "gemini-2.5-flash",
      modelSource: "cli",
    });
  });

  it("an async job's stored result names it too", async () => {
    const { jobId } = sc(await lane.gw.call("codex_request_async", { prompt: "stored" }));
    for (let i = 0; i < 100; i++) {
      const status = sc(await lane.gw.call("llm_job_status", { jobId }));
      if (status.status === "completed") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { result } = sc(await lane.gw.call("llm_job_result", { jobId }));
    expect(result).toMatchObject({ model: "gpt-6.1-sol", modelSource: "default" });
  });
});
