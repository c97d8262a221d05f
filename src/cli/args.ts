// What the command line asks for. Only the bare command starts the MCP server: anything unknown is
// a usage error (exit 2), never a server silently waiting on stdin.

export const USAGE = `Usage:
  llm-cli-gateway                 the MCP server, on stdio (an MCP client starts it; see the README)
  llm-cli-gateway doctor [--json] which CLIs are found, their versions, sign-in, the gateway's home
  llm-cli-gateway logs ...        the flight recorder's recorded calls (logs --help)

Every command takes --help (-h) and --version (-v).
`;

export const DOCTOR_USAGE = `Usage: llm-cli-gateway doctor [--json]
  Checks, without spending tokens: each CLI found on PATH, its version against the tested range,
  signed in or an API key present; Node's version, the gateway home, its databases, the MCP
  servers config. Each problem comes with its fix. Exits 1 when no CLI is usable.
  --json  the same facts as JSON
`;

export type Command =
  | { kind: "serve" }
  | { kind: "version" }
  | { kind: "help"; text: string }
  | { kind: "logs"; argv: string[] }
  | { kind: "doctor"; json: boolean }
  | { kind: "usage-error"; message: string; usage: string };

const SUBCOMMANDS = ["logs", "doctor"] as const;
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
