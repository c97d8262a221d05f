// The listings MCP users find the gateway by: server.json for the MCP Registry (validated with the
// registry's own schema) and the MCP Bundle manifest (validated by mcpb itself).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
const pkg = JSON.parse(read("package.json")) as Record<string, any>;
const SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0";
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

describe("server.json for the MCP Registry", () => {
  const server = JSON.parse(read("server.json")) as Record<string, any>;

  it("is valid against the registry's 2025-12-11 schema", () => {
    const bytes = readFileSync(join(ROOT, "schemas", "server.schema.json"));
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(SCHEMA_SHA256);
    const schema = JSON.parse(bytes.toString("utf8")) as { $id: string };
    expect(server.$schema).toBe(schema.$id);
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
    const validate = ajv.compile(schema);
    expect(validate(server) ? [] : validate.errors).toEqual([]);
    // The schema itself refuses a bad document (so the check above can fail).
    expect(validate({ ...server, name: "no-slash" })).toBe(false);
  });

  it("agrees with package.json: mcpName, version, npm identifier, repository", () => {
    expect(server.name).toBe(pkg.mcpName);
    expect(server.name).toMatch(/^io\.github\.[^/]+\/[^/]+$/);
    expect(server.version).toBe(pkg.version);
    expect(server.packages[0]).toMatchObject({
      registryType: "npm",
      identifier: pkg.name,
      version: pkg.version,
    });
    expect(`git+${server.repository.url}.git`).toBe(pkg.repository.url);
  });
});

describe("the MCP Bundle manifest", () => {
  it("passes `mcpb validate` and matches package.json", () => {
    const cli = join(ROOT, "node_modules", "@anthropic-ai", "mcpb", "dist", "cli", "cli.js");
    const out = execFileSync(
      process.execPath,
      [cli, "validate", join(ROOT, "mcpb", "manifest.json")],
      {
        encoding: "utf8",
      },
    );
    expect(out).toMatch(/validation passes/);
    const manifest = JSON.parse(read("mcpb/manifest.json")) as Record<string, any>;
    expect(manifest).toMatchObject({ name: pkg.name, version: pkg.version, license: pkg.license });
    expect(manifest.server.entry_point).toBe(pkg.bin["llm-cli-gateway"]);
  });
});
