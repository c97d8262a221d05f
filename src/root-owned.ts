import { randomUUID } from "node:crypto";
import { accessSync, constants, existsSync, lstatSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { invalidInput } from "./errors.js";

/**
 * gemini 0.61 reads a system settings file (GEMINI_CLI_SYSTEM_SETTINGS_PATH) only when the file and
 * every directory above it are owned by root and writable by neither group nor others, and no
 * directory on the way is a symlink that root does not own (isFileAndDirectorySecureSync in its
 * bundle); otherwise it skips the file with a warning and runs without it. This is that check,
 * made before the run, for a directory the gateway would create (as 0700) to hold such a file.
 *
 * Returns why gemini would skip a file there, or undefined when it would read it.
 */
export function rootOwnershipProblem(
  dir: string,
  uid: number = process.geteuid?.() ?? -1,
): string | undefined {
  // Files the gateway writes belong to the user it runs as.
  if (uid !== 0) return `the gateway runs as uid ${uid}, and only files owned by root count`;
  const chain = (start: string) => {
    const dirs: string[] = [];
    for (let d = resolve(start); ; d = dirname(d)) {
      dirs.push(d);
      if (dirname(d) === d) return dirs;
    }
  };
  let existing = resolve(dir);
  while (!existsSync(existing)) existing = dirname(existing);
  const dirs = [...chain(dir), ...chain(realpathSync(existing))];
  for (const d of new Set(dirs)) {
    if (!existsSync(d)) continue; // the gateway creates it, owned by root, 0700
    const link = lstatSync(d);
    if (link.isSymbolicLink() && link.uid !== 0)
      return `${d} is a symlink owned by uid ${link.uid}, not root`;
    const stat = statSync(d);
    if (stat.uid !== 0) return `${d} is owned by uid ${stat.uid}, not root`;
    if (stat.mode & 0o022)
      return `${d} is writable by group or others (mode ${(stat.mode & 0o7777).toString(8)})`;
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    return `${existing} cannot be written (to make the directory in)`;
  }
  return undefined;
}

/**
 * A fresh directory path, in the first of `roots` where gemini would read a settings file, or an
 * invalid_input error that says why none qualifies: then gemini cannot be handed per-request MCP
 * servers, and running it without them would look like success.
 */
export function rootOwnedScratchDir(
  roots: readonly string[],
  uid: number = process.geteuid?.() ?? -1,
): string {
  const problems: string[] = [];
  // Not root: no place qualifies, and one reason says so.
  for (const root of uid === 0 ? roots : roots.slice(0, 1)) {
    const problem = rootOwnershipProblem(root, uid);
    if (!problem) return join(root, randomUUID());
    problems.push(`${root}: ${problem}`);
  }
  throw invalidInput(
    `mcpServers: gemini reads per-request MCP servers only from a system settings file that root owns, in directories that root owns and neither group nor others can write, and there is no such place for it (${problems.join("; ")}). ` +
      "Run the gateway as root with LLM_GATEWAY_GEMINI_SETTINGS_DIR (or LLM_GATEWAY_HOME) in such a directory, or configure the servers in gemini's own settings and leave mcpServers out.",
  );
}
