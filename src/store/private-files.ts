import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Owner-only modes for the gateway's state (prompts, answers, session ids): directories 0700,
 * files 0600, whoever creates them first — the server, the `logs` command, a job's scratch files —
 * and whatever an older version or the umask left behind.
 */

/** Creates the directory (and its missing parents) 0700. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Creates the file 0600 if it is missing (an empty file; SQLite takes it for a new database and
 * creates its -wal and -shm files with the database file's mode), and narrows it if it is wider.
 */
export function privateFile(path: string): void {
  closeSync(openSync(path, "a", 0o600));
  narrow(path);
}

/** Narrows the file if it exists (a database's -wal or -shm file, which comes and goes). */
export function narrowIfPresent(path: string): void {
  try {
    narrow(path);
  } catch {
    // gone, or never created
  }
}

/**
 * Narrows the gateway home and everything in it that this user owns to owner-only modes (0700
 * directories, 0600 files): the group's and others' bits go. Symbolic links are not followed.
 */
export function narrowTree(dir: string): void {
  let entries: string[];
  try {
    if (!narrow(dir)) return;
    entries = readdirSync(dir);
  } catch {
    return; // missing, or not ours
  }
  for (const name of entries) {
    const path = join(dir, name);
    try {
      const stat = lstatSync(path);
      if (stat.isDirectory()) narrowTree(path);
      else if (stat.isFile()) narrow(path);
    } catch {
      // removed meanwhile (a job's scratch directory): nothing to narrow
    }
  }
}

/** Drops the group's and others' permission bits of an entry this user owns; false if not ours. */
function narrow(path: string): boolean {
  const stat = lstatSync(path);
  if (typeof process.getuid === "function" && stat.uid !== process.getuid()) return false;
  if (stat.mode & 0o077) chmodSync(path, stat.mode & 0o700);
  return true;
}
