/** Logs go to stderr only: stdout is the MCP channel. Format: `[LEVEL] ISO-time - message`. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export function createLogger(
  debugEnabled: boolean,
  write = (line: string) => process.stderr.write(line),
): Logger {
  const emit = (level: string, message: string) =>
    write(`[${level}] ${new Date().toISOString()} - ${message}\n`);
  return {
    info: (m) => emit("INFO", m),
    warn: (m) => emit("WARN", m),
    error: (m) => emit("ERROR", m),
    debug: (m) => {
      if (debugEnabled) emit("DEBUG", m);
    },
  };
}
