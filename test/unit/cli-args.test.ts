import { describe, expect, it } from "vitest";
import { parseCommand } from "../../src/cli/args.js";

describe("the command line", () => {
  it("starts the MCP server only when given no arguments", () => {
    expect(parseCommand([])).toEqual({ kind: "serve" });
  });

  it.each([["doctr"], ["--stdio"], ["serve"], ["doctor", "--jsn"], ["doctor", "extra"]])(
    "refuses %j as a usage error",
    (...argv) => {
      const parsed = parseCommand(argv);
      expect(parsed.kind).toBe("usage-error");
      expect(parsed).toMatchObject({ message: expect.stringContaining(argv.at(-1)!) });
    },
  );

  it("answers --help and --version on every command", () => {
    for (const argv of [[], ["doctor"], ["logs"]]) {
      expect(parseCommand([...argv, "--version"]).kind).toBe("version");
      expect(parseCommand([...argv, "-v"]).kind).toBe("version");
    }
    expect(parseCommand(["--help"])).toMatchObject({ kind: "help", text: /doctor/ });
    expect(parseCommand(["doctor", "-h"])).toMatchObject({ kind: "help", text: /--json/ });
    // logs has its own usage text: its --help goes to it.
    expect(parseCommand(["logs", "--help"])).toEqual({ kind: "logs", argv: ["--help"] });
  });

  it("serve --http takes --host and --port, and refuses anything else by name", () => {
    expect(parseCommand(["serve", "--http"])).toEqual({ kind: "serve-http" });
    expect(parseCommand(["serve", "--http", "--port", "0", "--host=::1"])).toEqual({
      kind: "serve-http",
      port: 0,
      host: "::1",
    });
    for (const [argv, message] of [
      [["serve", "--http", "--port", "70000"], "--port must be an integer from 0 to 65535"],
      [["serve", "--http", "--port"], "--port needs a value"],
      [["serve", "--http", "--tls"], 'unknown argument "--tls"'],
      [["serve", "--port", "1"], "--http is missing"],
    ] as const)
      expect(parseCommand(argv)).toMatchObject({
        kind: "usage-error",
        message: expect.stringContaining(message),
      });
    expect(parseCommand(["token", "create", "--name", "ci"])).toEqual({
      kind: "token",
      argv: ["create", "--name", "ci"],
    });
  });

  it("passes doctor's --json and the logs arguments on", () => {
    expect(parseCommand(["doctor", "--json"])).toEqual({ kind: "doctor", json: true });
    expect(parseCommand(["logs", "show", "x"])).toEqual({ kind: "logs", argv: ["show", "x"] });
  });
});
