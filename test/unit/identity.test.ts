import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { negotiateVersion, PROTOCOL_VERSIONS, SERVER_METHODS } from "../../src/mcp/identity.js";
import { buildTools, createMcpServer } from "../../src/mcp/server.js";

describe("what the thin entry point answers before the gateway has loaded", () => {
  it("supports the same protocol versions as the SDK that answers later", () => {
    expect(PROTOCOL_VERSIONS).toEqual(SUPPORTED_PROTOCOL_VERSIONS);
    expect(negotiateVersion("2025-06-18")).toBe("2025-06-18");
    expect(negotiateVersion("1999-01-01")).toBe(PROTOCOL_VERSIONS[0]);
  });

  it("lists exactly the tools the server registers (dist/tools-list.json is current)", () => {
    const built = JSON.parse(
      readFileSync(resolve(import.meta.dirname, "../../dist/tools-list.json"), "utf8"),
    );
    expect(built).toEqual(JSON.parse(JSON.stringify(buildTools({} as never).list())));
  });

  it("knows every request method the server answers, so it can refuse the others at once", () => {
    const server = createMcpServer({} as never, "0.0.0");
    const handlers = (server as unknown as { _requestHandlers: Map<string, unknown> })
      ._requestHandlers;
    expect([...SERVER_METHODS].sort()).toEqual([...handlers.keys()].sort());
  });
});
