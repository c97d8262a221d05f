import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codexConfiguredModel } from "../../src/providers/codex-config.js";

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "codex-config-test-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (path: string, text: string) => {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
};

describe("codexConfiguredModel", () => {
  it("reads CODEX_HOME/config.toml, else ~/.codex/config.toml", () => {
    write(join(dir, "home", ".codex", "config.toml"), 'model = "from-home"\n');
    write(join(dir, "ch", "config.toml"), 'model = "from-codex-home"\n');
    const cwd = join(dir, "home");
    expect(codexConfiguredModel({ HOME: join(dir, "home") }, cwd)).toBe("from-home");
    expect(
      codexConfiguredModel({ HOME: join(dir, "home"), CODEX_HOME: join(dir, "ch") }, cwd),
    ).toBe("from-codex-home");
  });

  it("is undefined without a config, with a config naming no model, or one that is not TOML", () => {
    const env = { HOME: dir };
    expect(codexConfiguredModel(env, dir)).toBeUndefined();
    write(join(dir, ".codex", "config.toml"), "[analytics]\nenabled = false\n");
    expect(codexConfiguredModel(env, dir)).toBeUndefined();
    write(join(dir, ".codex", "config.toml"), 'model = "unterminated\n');
    expect(codexConfiguredModel(env, dir)).toBeUndefined();
  });

  it("a trusted cwd outside git: its own .codex/config.toml counts, a parent's does not", () => {
    const cwd = join(dir, "work", "here");
    write(join(dir, "work", ".codex", "config.toml"), 'model = "parent"\n');
    write(
      join(dir, ".codex", "config.toml"),
      `model = "user"\n[projects.${JSON.stringify(cwd)}]\ntrust_level = "trusted"\n`,
    );
    expect(codexConfiguredModel({ HOME: dir }, cwd)).toBe("user");
    write(join(cwd, ".codex", "config.toml"), 'model = "project"\n');
    expect(codexConfiguredModel({ HOME: dir }, cwd)).toBe("project");
  });

  it("an empty .git directory does not make a project root (as in codex)", () => {
    const root = join(dir, "repo");
    const cwd = join(root, "sub");
    mkdirSync(join(root, ".git"), { recursive: true });
    mkdirSync(cwd, { recursive: true });
    write(join(root, ".codex", "config.toml"), 'model = "root"\n');
    write(
      join(dir, ".codex", "config.toml"),
      `[projects.${JSON.stringify(root)}]\ntrust_level = "trusted"\n`,
    );
    expect(codexConfiguredModel({ HOME: dir }, cwd)).toBeUndefined();
    writeFileSync(join(root, ".git", "HEAD"), "ref: refs/heads/main\n");
    expect(codexConfiguredModel({ HOME: dir }, cwd)).toBe("root");
  });
});
