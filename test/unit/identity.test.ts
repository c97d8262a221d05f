import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import {
  negotiateVersion,
  PROTOCOL_VERSIONS,
  SERVER_METHODS,
  SERVER_NAME,
} from "../../src/mcp/identity.js";
import { createMcpServer } from "../../src/mcp/server.js";

const ROOT = resolve(import.meta.dirname, "../..");
const readJson = (path: string) => JSON.parse(readFileSync(resolve(ROOT, path), "utf8"));

describe("what the thin entry point answers before the gateway has loaded", () => {
  it("supports the same protocol versions as the SDK that answers later", () => {
    expect(PROTOCOL_VERSIONS).toEqual(SUPPORTED_PROTOCOL_VERSIONS);
    expect(negotiateVersion("2025-06-18")).toBe("2025-06-18");
    expect(negotiateVersion("1999-01-01")).toBe(PROTOCOL_VERSIONS[0]);
  });

  it("is the package it ships in: its name and version are package.json's, the MCP bundle's and the registry entry's", () => {
    const pkg = readJson("package.json");
    expect(SERVER_NAME).toBe(pkg.name);
    expect(readJson("mcpb/manifest.json")).toMatchObject({ name: pkg.name, version: pkg.version });
    expect(readJson("server.json")).toMatchObject({ version: pkg.version });
  });

  it("lists exactly the tools the README documents, each with an object input schema (dist/tools-list.json)", () => {
    const built = (
      readJson("dist/tools-list.json") as {
        tools: { name: string; description?: string; inputSchema: { type: string } }[];
      }
    ).tools;
    // The README's Tools table is written by hand: a tool added, renamed or dropped without it fails.
    const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
    const table = readme.slice(
      readme.indexOf("## Tools"),
      readme.indexOf("\n## ", readme.indexOf("## Tools") + 1),
    );
    const documented = [...table.matchAll(/^\| (.+?) +\|/gm)]
      .flatMap((row) => [...row[1]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!))
      .sort();
    expect(documented.length).toBeGreaterThan(10);
    expect(built.map((t) => t.name).sort()).toEqual(documented);
    for (const tool of built) {
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(tool.description, tool.name).toMatch(/\w{3,}/);
    }
  });

  it("knows every request method the server answers, so it can refuse the others at once", () => {
    const server = createMcpServer({} as never, "0.0.0");
    const handlers = (server as unknown as { _requestHandlers: Map<string, unknown> })
      ._requestHandlers;
    expect([...SERVER_METHODS].sort()).toEqual([...handlers.keys()].sort());
  });
});
