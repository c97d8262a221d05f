import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, extname } from "node:path";
import { fileURLToPath } from "node:url";

/** Table and column descriptions and canned queries for Datasette (shipped with the package). */
export const DATASETTE_METADATA = fileURLToPath(
  new URL("../../datasette/metadata.json", import.meta.url),
);
/** The database name datasette/metadata.json describes: Datasette names a database after its file. */
const METADATA_DATABASE = "logs";

/** `datasette serve <db> --metadata <file>`, as an argv. */
export function datasetteArgs(dbPath: string, extra: string[] = []): string[] {
  return ["serve", dbPath, "--metadata", DATASETTE_METADATA, ...extra];
}

/**
 * `logs datasette`: prints the exact command that opens logs.db in Datasette with the metadata,
 * or runs it (`--run`, with any arguments after `--` passed on, e.g. `-- --port 8002`).
 */
export async function runDatasette(
  dbPath: string,
  extra: string[],
  run: boolean,
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  if (!existsSync(DATASETTE_METADATA)) {
    io.stderr(`The Datasette metadata file is missing: ${DATASETTE_METADATA}\n`);
    return 1;
  }
  const name = basename(dbPath, extname(dbPath));
  if (name !== METADATA_DATABASE) {
    io.stderr(
      `Note: Datasette names the database "${name}" after its file, and the descriptions and canned queries are written for "${METADATA_DATABASE}": link or copy the file as logs.db to get them.\n`,
    );
  }
  const args = datasetteArgs(dbPath, extra);
  if (!run) {
    io.stdout(`${["datasette", ...args].map(shellQuote).join(" ")}\n`);
    return 0;
  }
  return new Promise((resolve) => {
    const child = spawn("datasette", args, { stdio: "inherit" });
    child.on("error", (err: NodeJS.ErrnoException) => {
      io.stderr(
        err.code === "ENOENT"
          ? "datasette is not installed (or not on PATH): pipx install datasette, or pip install datasette\n"
          : `Could not start datasette: ${err.message}\n`,
      );
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Quotes a word for a POSIX shell only when it needs it, so the printed command pastes as is. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
