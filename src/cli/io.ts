/** Where a command's output goes: the process's streams, or a test's buffers. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const stdio: CommandIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** A subcommand: its name after `llm-cli-gateway` and its usage text. */
export interface Subcommand {
  name: string;
  usage: string;
}

/** Reports a usage error (the message, then the usage text, on stderr) and returns exit code 2. */
export function usageError(command: Subcommand, io: CommandIo): (message: string) => number {
  return (message) => {
    io.stderr(`llm-cli-gateway ${command.name}: ${message}\n\n${command.usage}`);
    return 2;
  };
}

/**
 * Runs a subcommand's parseArgs (its options must include `help`), or returns the exit code the
 * subcommand ends with instead: 0 after `--help` (the usage on stdout), 2 when parseArgs refuses
 * the command line (a usage error).
 */
export function parseSubcommand<P extends { values: { help?: boolean } }>(
  command: Subcommand,
  io: CommandIo,
  parse: () => P,
): P | number {
  let parsed: P;
  try {
    parsed = parse();
  } catch (err) {
    return usageError(command, io)((err as Error).message);
  }
  if (parsed.values.help) {
    io.stdout(command.usage);
    return 0;
  }
  return parsed;
}
