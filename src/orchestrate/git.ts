import { execFile } from "node:child_process";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { GatewayError, invalidInput } from "../errors.js";

/** What a review looks at: a git change in cwd, or a list of files. */
export interface ReviewTarget {
  base?: string;
  head?: string;
  /** "staged": the index against HEAD; "working": every uncommitted change against HEAD. */
  diff?: "staged" | "working";
  files?: string[];
}

export interface CollectedChange {
  /** e.g. "git diff 1a2b3c..HEAD (2 files)". */
  description: string;
  /** The diff, or the files with line numbers. */
  text: string;
  files: string[];
}

/** More than this is refused: a reviewer's context is not the place for a whole repository. */
export const MAX_CHANGE_CHARS = 150_000;
const GIT_TIMEOUT_MS = 30_000;

/** A branch, tag, sha or HEAD~n style ref: never an option, a range, a path outside or a NUL. */
const REF = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/@{}~^-]{1,200}$/;

export function checkTarget(target: ReviewTarget): void {
  const git = target.base !== undefined || target.head !== undefined || target.diff !== undefined;
  if (target.files && git)
    throw invalidInput("Review either files or a git change (base/head/diff), not both");
  if (target.head !== undefined && target.base === undefined)
    throw invalidInput("head needs base (the change is base..head)");
  if (target.diff && target.base !== undefined)
    throw invalidInput("diff (staged/working) and base/head cannot be combined");
  for (const field of ["base", "head"] as const) {
    const ref = target[field];
    if (ref !== undefined && !REF.test(ref))
      throw invalidInput(
        `${field} must be a git ref (branch, tag, sha, HEAD~1), not an option or a range`,
      );
  }
}

/** Collects the change with `git` run directly (no shell); refs are verified as commits first. */
export async function collectChange(cwd: string, target: ReviewTarget): Promise<CollectedChange> {
  checkTarget(target);
  const change = target.files ? readFiles(cwd, target.files) : await gitDiff(cwd, target);
  if (!change.text.trim()) throw invalidInput(`Nothing to review: ${change.description} is empty`);
  if (change.text.length > MAX_CHANGE_CHARS)
    throw invalidInput(
      `The change is ${change.text.length} characters (${change.description}); at most ${MAX_CHANGE_CHARS} are reviewed: narrow it with base/head or files`,
    );
  return change;
}

async function gitDiff(cwd: string, target: ReviewTarget): Promise<CollectedChange> {
  await git(cwd, ["rev-parse", "--is-inside-work-tree"]).catch(() => {
    throw invalidInput(`cwd ${cwd} is not inside a git work tree`);
  });
  let range: string[];
  let description: string;
  if (target.base !== undefined) {
    const base = await commit(cwd, target.base, "base");
    const head = target.head !== undefined ? await commit(cwd, target.head, "head") : undefined;
    range = head ? [base, head] : [base];
    description = `git diff ${target.base}..${target.head ?? "(working tree)"}`;
  } else if (target.diff === "staged") {
    range = ["--cached"];
    description = "the staged diff";
  } else {
    range = ["HEAD"];
    description = "the working-tree diff against HEAD";
  }
  const common = ["-c", "core.quotepath=off", "diff", "--no-color", "--no-ext-diff"];
  const names = await git(cwd, [...common, "--name-only", ...range, "--"]);
  const files = names.split("\n").filter(Boolean);
  const text = await git(cwd, [...common, "--unified=5", ...range, "--"]);
  return { description: `${description} (${files.length} files)`, text, files };
}

async function commit(cwd: string, ref: string, field: string): Promise<string> {
  try {
    const sha = await git(cwd, [
      "rev-parse",
      "--verify",
      "--quiet",
      "--end-of-options",
      `${ref}^{commit}`,
    ]);
    return sha.trim();
  } catch {
    throw invalidInput(`${field} ${ref} is not a commit in ${cwd}`);
  }
}

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "git",
      args,
      {
        cwd,
        timeout: GIT_TIMEOUT_MS,
        maxBuffer: MAX_CHANGE_CHARS * 8,
        env: { ...process.env, GIT_PAGER: "cat", GIT_TERMINAL_PROMPT: "0" },
      },
      (err, stdout, stderr) => {
        if (!err) return resolvePromise(stdout);
        if ((err as NodeJS.ErrnoException).code === "ENOENT")
          return reject(new GatewayError("cli_not_found", "git is not installed or not on PATH"));
        if ((err as { code?: unknown }).code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER")
          return reject(invalidInput(`The diff is over ${MAX_CHANGE_CHARS} characters`));
        reject(
          new GatewayError("cli_error", `git ${args[0]} failed: ${stderr.trim() || err.message}`),
        );
      },
    );
  });
}

/** The files, each with line numbers; every path must be a file inside cwd. */
function readFiles(cwd: string, files: string[]): CollectedChange {
  const root = realpathSync(cwd);
  const parts: string[] = [];
  const names: string[] = [];
  files.forEach((file, i) => {
    const field = `files[${i}]`;
    if (file.includes("\0")) throw invalidInput(`${field} contains a NUL byte`);
    let path: string;
    try {
      path = realpathSync(resolve(root, file));
    } catch {
      throw invalidInput(`${field}: ${file} does not exist in ${cwd}`);
    }
    const rel = relative(root, path);
    if (rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel))
      throw invalidInput(`${field}: ${file} is outside cwd`);
    if (!statSync(path).isFile()) throw invalidInput(`${field}: ${file} is not a file`);
    if (statSync(path).size > MAX_CHANGE_CHARS * 4)
      throw invalidInput(`${field}: ${file} is too large to review`);
    const lines = readFileSync(path, "utf8").split("\n");
    const numbered = lines.map((line, n) => `${String(n + 1).padStart(5)}  ${line}`).join("\n");
    parts.push(`=== ${rel} ===\n${numbered}`);
    names.push(rel);
  });
  return { description: `${names.length} files`, text: parts.join("\n\n"), files: names };
}
