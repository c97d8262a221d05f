import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { parse } from "smol-toml";

type Table = Record<string, unknown>;

function readToml(path: string): Table | undefined {
  try {
    return parse(readFileSync(path, "utf8")) as Table;
  } catch {
    return undefined; // missing or not TOML (codex then refuses to run; parse reports that)
  }
}

const modelOf = (table: Table | undefined) =>
  typeof table?.model === "string" && table.model ? table.model : undefined;

/**
 * The model `codex exec` uses when no `-m` is given, from the config it reads, as codex 0.169
 * resolves it (checked against it): `$CODEX_HOME/config.toml` (default `~/.codex`), overridden by
 * the `.codex/config.toml` files between a *trusted* project's root (the nearest git checkout, else
 * the cwd) and the cwd. Undefined when none names one: codex then uses its own default.
 */
export function codexConfiguredModel(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const codexHome = env.CODEX_HOME || join(env.HOME ?? "", ".codex");
  const userPath = join(codexHome, "config.toml");
  const user = readToml(userPath);
  let model = modelOf(user);
  const root = projectRoot(cwd);
  const projects = (user?.projects ?? {}) as Record<string, Table | undefined>;
  if (projects[root]?.trust_level !== "trusted") return model;
  const below = relative(root, cwd);
  let dir = root;
  for (const part of ["", ...(below ? below.split(sep) : [])]) {
    dir = join(dir, part);
    const path = join(dir, ".codex", "config.toml");
    if (path !== userPath) model = modelOf(readToml(path)) ?? model;
  }
  return model;
}

function projectRoot(cwd: string): string {
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (isGitCheckout(dir)) return dir;
    if (dirname(dir) === dir) return cwd;
  }
}

/** A repository (`.git/HEAD`) or a worktree (a `.git` file); an empty `.git` is neither for codex. */
function isGitCheckout(dir: string): boolean {
  const git = join(dir, ".git");
  return existsSync(join(git, "HEAD")) || (existsSync(git) && statSync(git).isFile());
}
