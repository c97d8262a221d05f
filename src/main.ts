#!/usr/bin/env node
// The bin. It starts reading stdin at once and answers initialize, ping and tools/list itself
// (mcp/early-stdio.ts); the gateway (the MCP SDK, zod, SQLite) loads on the first other request.
import { readFileSync } from "node:fs";
import { parseCommand } from "./cli/args.js";
import { EarlyStdioTransport } from "./mcp/early-stdio.js";
import { maxMessageBytesFromEnv } from "./mcp/line-reader.js";

const { version } = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as {
  version: string;
};

async function main(): Promise<void> {
  const command = parseCommand(process.argv.slice(2));
  switch (command.kind) {
    case "version":
      process.stdout.write(`${version}\n`);
      return;
    case "help":
      process.stdout.write(command.text);
      return;
    case "usage-error":
      process.stderr.write(`llm-cli-gateway: ${command.message}\n\n${command.usage}`);
      process.exitCode = 2;
      return;
    case "logs": {
      const { runLogsCommand } = await import("./cli/logs.js");
      process.exitCode = await runLogsCommand(command.argv, process.env);
      return;
    }
    case "doctor": {
      const { runDoctorCommand } = await import("./cli/doctor.js");
      process.exitCode = await runDoctorCommand({ json: command.json }, process.env);
      return;
    }
    case "token": {
      const { runTokenCommand } = await import("./cli/token.js");
      process.exitCode = runTokenCommand(command.argv, process.env);
      return;
    }
    case "db": {
      const { runDbCommand } = await import("./cli/db.js");
      process.exitCode = runDbCommand(command.argv, process.env);
      return;
    }
    case "serve-http": {
      const { startHttpGateway } = await import("./transport/http-main.js");
      await startHttpGateway(command, version);
      return;
    }
    case "serve":
      break;
  }
  // Built by scripts/tools-list.mjs at compile time from the same tool definitions.
  const toolsList = JSON.parse(
    readFileSync(new URL("./tools-list.json", import.meta.url), "utf8"),
  ) as unknown;
  const transport = new EarlyStdioTransport(
    version,
    () => toolsList,
    maxMessageBytesFromEnv(process.env),
  );
  // The gateway (the MCP SDK, zod, SQLite, the spawner process) loads on the first call the
  // transport cannot answer itself; until then the process is a bare Node (idle RSS, issue #22).
  transport.whenNeeded(() => void startServing(transport));
  transport.listen();
  // ...unless a gateway that died left CLIs and jobs behind: they are stopped at start, once the
  // first answers are out (looking into gateway.db loads SQLite). On PostgreSQL the gateway always
  // loads then: it must hold its lease and reap dead hosts even if it never gets a call.
  setTimeout(async () => {
    const [{ needsGatewayAtStart }, { gatewayHomeDir }] = await Promise.all([
      import("./jobs/peer-check.js"),
      import("./home.js"),
    ]);
    if (await needsGatewayAtStart(process.env, gatewayHomeDir(process.env))) transport.needNow();
  }, 100);
}

async function startServing(transport: EarlyStdioTransport): Promise<void> {
  // V8's young generation stays at its first semi-spaces (1 MB) instead of growing to 8 MB each:
  // about 14 MB less RSS once the gateway has run (docs/PERFORMANCE.md, issue #22).
  (await import("node:v8")).setFlagsFromString("--semi-space-growth-factor=1");
  try {
    const { startGateway } = await import("./app.js");
    await startGateway(transport, version);
  } catch (err) {
    // initialize may have been answered already: stay up and answer every call with the reason,
    // rather than leave the client's calls unanswered; exit 1 when the client goes.
    const { asStartupError } = await import("./startup-error.js");
    const failure = asStartupError(err);
    logError(`llm-cli-gateway could not start: ${failure.message}`);
    transport.fail(failure);
    if (process.stdin.readableEnded) process.exit(1);
    process.stdin.on("end", () => process.exit(1));
  }
}

function logError(message: string): void {
  process.stderr.write(`[ERROR] ${new Date().toISOString()} - ${message.replace(/\n/g, " ")}\n`);
}

main().catch((err: unknown) => {
  logError(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
