// Which CLIs are installed and which versions, found without a model call: a PATH look-up and
// `<cli> --version` (short timeout, cached per binary until the file changes).
import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import type { Provider } from "../providers/types.js";

export const VERSION_TIMEOUT_MS = 10_000;

export interface Found {
  path: string;
  /** Changes when the binary is replaced: the version cache's key. */
  stamp: string;
}

/** The first executable `binary` on `PATH`, as a shell would find it. */
export function findOnPath(binary: string, path: string): Found | undefined {
  for (const dir of searchedDirs(path)) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      const stat = statSync(candidate);
      if (!stat.isFile()) continue;
      return { path: candidate, stamp: `${stat.mtimeMs}:${stat.size}` };
    } catch {
      // not here
    }
  }
  return undefined;
}

export function searchedDirs(path: string): string[] {
  return [...new Set(path.split(delimiter).filter((dir) => dir && isAbsolute(dir)))];
}

/** The x.y.z (with any pre-release tag) in a `--version` line, e.g. "2.1.331 (Claude Code)". */
export function parseVersion(text: string): string | undefined {
  return /\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?/.exec(text)?.[0];
}

/** Numeric comparison of x.y.z; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const [mainA = "", preA] = a.split("-", 2);
  const [mainB = "", preB] = b.split("-", 2);
  const pa = mainA.split(".").map(Number);
  const pb = mainB.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (preA === preB) return 0;
  if (preA === undefined) return 1;
  if (preB === undefined) return -1;
  return preA < preB ? -1 : 1;
}

export function inTestedRange(provider: Provider, version: string): boolean {
  const { min, max } = provider.testedVersions;
  return compareVersions(version, min) >= 0 && compareVersions(version, max) <= 0;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  /** Set when the command could not run or did not finish in time. */
  failure?: string;
}

/** Runs a short, model-free command of a CLI (`--version`, `auth status`) with a time limit. */
export function runShort(
  path: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = VERSION_TIMEOUT_MS,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      path,
      [...args],
      { env, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: unknown }) | null;
        const exitCode = e ? (typeof e.code === "number" ? e.code : null) : 0;
        let failure: string | undefined;
        if (e?.killed) failure = `no answer within ${timeoutMs} ms`;
        else if (e && typeof e.code === "string") failure = e.message;
        resolve({ stdout, stderr, exitCode, ...(failure ? { failure } : {}) });
      },
    ).stdin?.end();
  });
}

export interface CliInstall {
  installed: boolean;
  path?: string;
  version?: string;
  inTestedRange?: boolean;
  /** Why the version is unknown, when it is. */
  versionError?: string;
}

/**
 * The installed CLIs and their versions, cached: `--version` runs once per binary (again only when
 * the file changes), and callers that must stay fast read `peek`, which never waits.
 */
export class CliProbe {
  private readonly versions = new Map<string, Promise<{ version?: string; error?: string }>>();
  private readonly settled = new Map<string, { version?: string; error?: string }>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The full facts, waiting for `--version` if it has not run yet. */
  async check(provider: Provider): Promise<CliInstall> {
    const found = findOnPath(provider.binary, this.env.PATH ?? "");
    if (!found) return { installed: false };
    const { version, error } = await this.version(found);
    return this.describe(provider, found, version, error);
  }

  /** What is known now; starts `--version` in the background when it has not run. */
  peek(provider: Provider): CliInstall {
    const found = findOnPath(provider.binary, this.env.PATH ?? "");
    if (!found) return { installed: false };
    const known = this.settled.get(key(found));
    if (!known) {
      void this.version(found);
      return { installed: true, path: found.path };
    }
    return this.describe(provider, found, known.version, known.error);
  }

  private describe(
    provider: Provider,
    found: Found,
    version: string | undefined,
    error: string | undefined,
  ): CliInstall {
    if (!version) return { installed: true, path: found.path, versionError: error ?? "unknown" };
    return {
      installed: true,
      path: found.path,
      version,
      inTestedRange: inTestedRange(provider, version),
    };
  }

  private version(found: Found): Promise<{ version?: string; error?: string }> {
    const k = key(found);
    let pending = this.versions.get(k);
    if (!pending) {
      pending = runShort(found.path, ["--version"], this.env).then((r) => {
        const version = parseVersion(r.stdout) ?? parseVersion(r.stderr);
        const outcome = version
          ? { version }
          : { error: r.failure ?? `\`--version\` printed no version (exit ${r.exitCode})` };
        this.settled.set(k, outcome);
        // A failed probe is tried again by the next full check.
        if (!version) this.versions.delete(k);
        return outcome;
      });
      this.versions.set(k, pending);
    }
    return pending;
  }
}

const key = (found: Found) => `${found.path}\0${found.stamp}`;

/** The startup log's line for a CLI installed at a version outside its tested range, else none. */
export function untestedVersionWarning(
  provider: Provider,
  install: CliInstall,
): string | undefined {
  if (!install.version || install.inTestedRange !== false) return undefined;
  const { min, max } = provider.testedVersions;
  const tested = min === max ? min : `${min} to ${max}`;
  return `${provider.binary} ${install.version} (${install.path}) is outside the tested versions (${tested}): its output may have changed`;
}

/** Finds every CLI's version in the background; warns about each one outside its tested range. */
export function announceUntested(
  probe: CliProbe,
  providers: readonly Provider[],
  warn: (line: string) => void,
): void {
  for (const provider of providers)
    void probe.check(provider).then((install) => {
      const line = untestedVersionWarning(provider, install);
      if (line) warn(line);
    });
}
