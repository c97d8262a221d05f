// What the command line asks for. Only the bare command starts the MCP server: anything unknown is
// a usage error (exit 2), never a server silently waiting on stdin.

export const USAGE = `Usage:
  llm-cli-gateway                 the MCP server, on stdio (an MCP client starts it; see the README)
  llm-cli-gateway doctor [--json] which CLIs are found, their versions, sign-in, the gateway's home
  llm-cli-gateway logs ...        the flight recorder's recorded calls (logs --help)
  llm-cli-gateway serve --http [--host H] [--port N]
                                  the MCP server over Streamable HTTP at /mcp (docs/HTTP.md)
  llm-cli-gateway token create|list|revoke ...
                                  bearer tokens for HTTP clients (token --help)
  llm-cli-gateway db copy [--from DIR]
                                  copies gateway.db and logs.db into PostgreSQL (db --help)

Every command takes --help (-h) and --version (-v).
`;

export const DOCTOR_USAGE = `Usage: llm-cli-gateway doctor [--json]
  Checks, without spending tokens: each CLI found on PATH, its version against the tested range,
  signed in or an API key present; Node's version, the gateway home, its databases, the MCP
  servers config. Each problem comes with its fix. Exits 1 when no CLI is usable.
  --json  the same facts as JSON
`;

export const SERVE_USAGE = `Usage: llm-cli-gateway serve --http [--host HOST] [--port PORT]
  The MCP server over Streamable HTTP at http://HOST:PORT/mcp, and /healthz. HOST defaults to
  127.0.0.1 (LLM_GATEWAY_HTTP_HOST), PORT to 8765 (LLM_GATEWAY_HTTP_PORT; 0: any free port).
  Off loopback it refuses to start until a token exists (llm-cli-gateway token create).
`;

export type Command =
  | { kind: "serve" }
  | { kind: "serve-http"; host?: string; port?: number }
  | { kind: "token"; argv: string[] }
  | { kind: "db"; argv: string[] }
  | { kind: "version" }
  | { kind: "help"; text: string }
  | { kind: "logs"; argv: string[] }
  | { kind: "doctor"; json: boolean }
  | { kind: "usage-error"; message: string; usage: string };

const SUBCOMMANDS = ["logs", "doctor", "serve", "token", "db"] as const;
const isVersion = (a: string) => a === "--version" || a === "-v";
const isHelp = (a: string) => a === "--help" || a === "-h";

export function parseCommand(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: "serve" };
  if (isVersion(first)) return { kind: "version" };
  if (isHelp(first)) return { kind: "help", text: USAGE };
  if (!(SUBCOMMANDS as readonly string[]).includes(first)) {
    const what = first.startsWith("-") ? "option" : "command";
    return { kind: "usage-error", message: `unknown ${what} "${first}"`, usage: USAGE };
  }
  if (rest.some(isVersion)) return { kind: "version" };
  if (first === "logs") return { kind: "logs", argv: rest };
  if (first === "token") return { kind: "token", argv: rest };
  if (first === "db") return { kind: "db", argv: rest };
  if (first === "serve") return parseServe(rest);
  if (rest.some(isHelp)) return { kind: "help", text: DOCTOR_USAGE };
  const unknown = rest.find((a) => a !== "--json");
  if (unknown !== undefined)
    return {
      kind: "usage-error",
      message: `doctor: unknown argument "${unknown}"`,
      usage: DOCTOR_USAGE,
    };
  return { kind: "doctor", json: rest.includes("--json") };
}

function parseServe(argv: readonly string[]): Command {
  if (argv.some(isHelp)) return { kind: "help", text: SERVE_USAGE };
  const usage = (message: string): Command => ({
    kind: "usage-error",
    message: `serve: ${message}`,
    usage: SERVE_USAGE,
  });
  if (!argv.includes("--http")) return usage("--http is missing (the bare command serves stdio)");
  const out: { kind: "serve-http"; host?: string; port?: number } = { kind: "serve-http" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--http") continue;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg];
    if (flag !== "--host" && flag !== "--port") return usage(`unknown argument "${arg}"`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") return usage(`${flag} needs a value`);
    if (flag === "--host") out.host = value;
    else {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        return usage(`--port must be an integer from 0 to 65535, got "${value}"`);
      out.port = port;
    }
  }
  return out;
}
