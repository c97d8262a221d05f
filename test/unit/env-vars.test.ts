import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENV_VARS } from "../../src/config.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** The rows of the README's "Environment variables" table: name → [default, meaning]. */
function readmeTable(): Map<string, [string, string]> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split(/^## Environment variables$/m)[1]?.split(/^## /m)[0] ?? "";
  const rows = new Map<string, [string, string]>();
  for (const line of section.split("\n")) {
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[0] ?? "")?.[1];
    if (name && cells.length === 3) rows.set(name, [cells[1]!, cells[2]!]);
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

describe("environment variables", () => {
  it("the README's table is the list in src/config.ts, row for row", () => {
    const table = readmeTable();
    const expected = new Map(ENV_VARS.map((v) => [v.name, [v.default, v.meaning]]));
    expect(Object.fromEntries(table)).toEqual(Object.fromEntries(expected));
  });

  it("every LLM_GATEWAY_ variable the code reads is in the list", () => {
    const listed = new Set(ENV_VARS.map((v) => v.name));
    const read = new Set<string>();
    for (const file of sourceFiles(join(ROOT, "src"))) {
      for (const m of readFileSync(file, "utf8").matchAll(/\bLLM_GATEWAY_[A-Z0-9_]+/g))
        read.add(m[0]);
    }
    expect([...read].filter((name) => !listed.has(name))).toEqual([]);
  });
});
