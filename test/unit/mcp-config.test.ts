import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { loadMcpConfig } from "../../src/mcp-config.js";
import { missingServersError, selectMcpServers } from "../../src/mcp-servers.js";

const dir = mkdtempSync(join(tmpdir(), "llm-gateway-mcp-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A config file with this content (a string as is, anything else as JSON). */
const file = (content: unknown) => {
  const path = join(dir, `mcp-servers-${n++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
};
const MINI = { command: "/usr/bin/node", args: ["/opt/mini.mjs"], env: { TOKEN: "t" } };
const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error("did not throw");
};

describe("the MCP server config file's state", () => {
  it("no file: no servers and nothing wrong", () => {
    expect(loadMcpConfig(join(dir, "absent.json"))).toEqual({
      path: join(dir, "absent.json"),
      exists: false,
      servers: {},
      invalid: [],
    });
  });

  it("a file that does not parse: the line and column where it broke, and the format as the fix", () => {
    const path = file('{\n  "mcpServers": {\n    "mini": { "command": "x", }\n  }\n}');
    const { fileError, servers } = loadMcpConfig(path);
    expect(servers).toEqual({});
    expect(fileError!.problem).toMatch(/^is not valid JSON at line 3, column 31: /);
    expect(fileError!.fix).toBe(
      `fix the JSON in ${path} ({"mcpServers": {"<name>": {"command": "...", "args": ["..."], "env": {"KEY": "value"}}}})`,
    );
    // Node names no position for some errors: found all the same.
    expect(loadMcpConfig(file('{"a": 1,\n "b": }')).fileError!.problem).toMatch(
      /^is not valid JSON at line 2, column 7: /,
    );
    expect(loadMcpConfig(file('{"mcpServers": {')).fileError!.problem).toMatch(
      /^is not valid JSON at line 1, column 17: /,
    );
  });

  it("a file that parses but is not {mcpServers: {...}} is a file error too, not zero servers", () => {
    expect(loadMcpConfig(file({ servers: { mini: MINI } })).fileError!.problem).toBe(
      'has no "mcpServers" object',
    );
    expect(loadMcpConfig(file({ mcpServers: [MINI] })).fileError!.problem).toBe(
      'has "mcpServers" as an array, not an object of servers by name',
    );
    expect(loadMcpConfig(file("[]")).fileError!.problem).toBe("is an array, not an object");
  });

  it("each invalid entry is left out with its name and what is wrong; the valid ones stay", () => {
    const state = loadMcpConfig(
      file({
        mcpServers: {
          mini: MINI,
          nocommand: { args: ["a"] },
          badenv: { command: "x", env: { PORT: 8080 } },
          badargs: { command: "x", args: ["a", 2] },
          argsstring: { command: "x", args: "--flag" },
          emptycommand: { command: " " },
          notobject: "npx server",
          "bad name": { command: "x" },
        },
      }),
    );
    expect(Object.keys(state.servers)).toEqual(["mini"]);
    expect(state.fileError).toBeUndefined();
    expect(state.invalid).toEqual([
      {
        name: "nocommand",
        problem:
          "command is missing (the program that starts the server; only stdio servers are supported)",
      },
      { name: "badenv", problem: "env.PORT must be a string, not a number" },
      { name: "badargs", problem: "args[1] must be a string, not a number" },
      { name: "argsstring", problem: "args must be an array of strings, not a string" },
      { name: "emptycommand", problem: "command is empty" },
      {
        name: "notobject",
        problem:
          'the entry is a string, not an object {"command": "...", "args": ["..."], "env": {"KEY": "value"}}',
      },
      {
        name: "bad name",
        problem:
          'the name must be 1-64 letters, digits, "_" or "-", starting with a letter or digit',
      },
    ]);
  });
});

describe("selecting a request's servers", () => {
  it("a request that names no server does not depend on the file, even a broken one", () => {
    expect(selectMcpServers(file("{ not json"), [])).toEqual({
      requested: [],
      enabled: [],
      missing: [],
      servers: {},
    });
  });

  it("a request that names one while the file is broken: config_error naming the file, the place and the fix", () => {
    const path = file("{ not json");
    const err = thrown(() => selectMcpServers(path, ["mini"]));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.category).toBe("config_error");
    // JSON.parse's own words differ between Node versions: the rest is the gateway's.
    const [head, tail] = err.message.split(
      /: Expected property name or '\}' in JSON at position 2[^.]*\. /,
    );
    expect(head).toBe(
      `mcpServers: the MCP server config ${path} is not valid JSON at line 1, column 3`,
    );
    expect(tail).toBe(
      `Fix: fix the JSON in ${path} ({"mcpServers": {"<name>": {"command": "...", "args": ["..."], "env": {"KEY": "value"}}}}); \`llm-cli-gateway doctor\` checks it.`,
    );
  });

  it("an invalid entry it asks for is left out with a warning; other invalid entries are not its business", () => {
    const path = file({
      mcpServers: { mini: MINI, badenv: { command: "x", env: { PORT: 1 } }, other: {} },
    });
    const selection = selectMcpServers(path, ["mini", "badenv", "absent"]);
    expect(selection).toEqual({
      requested: ["mini", "badenv", "absent"],
      enabled: ["mini"],
      missing: ["badenv", "absent"],
      warnings: [
        `mcpServers: "badenv" in ${path} is invalid and was left out: env.PORT must be a string, not a number. Fix the entry ({"command": "...", "args": ["..."], "env": {"KEY": "value"}}).`,
      ],
      servers: { mini: MINI },
    });
    expect(selectMcpServers(path, ["mini"])).not.toHaveProperty("warnings");
  });

  it("strictMcpConfig: an invalid entry is the operator's config_error, an unknown name bad input", () => {
    const path = file({ mcpServers: { mini: MINI, nocommand: {} } });
    const invalid = missingServersError(selectMcpServers(path, ["nocommand"]), path);
    expect(invalid.category).toBe("config_error");
    expect(invalid.message).toMatch(
      /^mcpServers: "nocommand" in .* is invalid and was left out: command is missing .* strictMcpConfig runs claude only with every server named \(not usable: nocommand\)\.$/,
    );
    const unknown = missingServersError(selectMcpServers(path, ["exa"]), path);
    expect(unknown.category).toBe("invalid_input");
    expect(unknown.message).toBe(`mcpServers: exa not configured in ${path} (strictMcpConfig)`);
  });
});
