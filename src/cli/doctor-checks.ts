// The facts `llm-cli-gateway doctor` reports, gathered without a model call and without printing a
// secret: which variable or file signs a CLI in is named, its value never read out.
import { accessSync, constants, existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { loadConfig, type GatewayConfig } from "../config.js";
import { loadMcpConfig, MCP_ENTRY_FORMAT } from "../mcp-config.js";
import {
  CliProbe,
  compareVersions,
  runShort,
  searchedDirs,
  type CliInstall,
} from "../process/cli-probe.js";
import { PROVIDERS } from "../providers/index.js";
import { checkPostgres } from "./doctor-postgres.js";
import type { CliName, Provider } from "../providers/types.js";

export const MIN_NODE = "20.19.0";

export interface Problem {
  /** What is wrong, in a sentence. */
  problem: string;
  fix: string;
}

export interface SignIn {
  signedIn: boolean | null;
  /** How it was told: the variable, the status command or the file (never a value). */
  how: string;
}

export interface CliReport extends CliInstall {
  name: CliName;
  /** The PATH directories searched, when the CLI was not found. */
  searched?: string[];
  testedVersions: string;
  signIn?: SignIn;
  /** Found, and not known to be signed out. */
  usable: boolean;
  problems: Problem[];
}

export interface CheckReport {
  name: string;
  ok: boolean;
  detail: string;
  problems: Problem[];
}

export interface DoctorReport {
  ok: boolean;
  usableClis: CliName[];
  node: CheckReport;
  clis: CliReport[];
  checks: CheckReport[];
}

export async function gatherDoctorReport(env: NodeJS.ProcessEnv): Promise<DoctorReport> {
  const node = checkNode(process.versions.node);
  let config: GatewayConfig | undefined;
  const configCheck: CheckReport = { name: "environment", ok: true, detail: "", problems: [] };
  try {
    config = loadConfig(env);
    configCheck.detail = "the gateway's environment variables are valid";
  } catch (err) {
    configCheck.ok = false;
    configCheck.detail = (err as Error).message;
    configCheck.problems.push({
      problem: (err as Error).message,
      fix: "correct or unset that variable (see the README's environment table)",
    });
  }
  // Without a valid config the CLIs are still looked for, on the PATH the gateway would use.
  const childEnv = config?.childEnv ?? env;
  const home = env.HOME || homedir();
  const probe = new CliProbe(childEnv);
  const clis = await Promise.all(
    (Object.keys(PROVIDERS) as CliName[]).map((name) =>
      checkCli(PROVIDERS[name], probe, childEnv, home),
    ),
  );
  const checks = [configCheck];
  if (config) {
    checks.push(checkHome(config.home), ...checkDatabases(config));
    if (config.postgres)
      checks.push(
        ...(await checkPostgres(config.postgres, { recorder: config.recorder.postgres !== null })),
      );
    checks.push(checkMcp(config));
  }
  const usableClis = clis.filter((c) => c.usable).map((c) => c.name);
  return { ok: usableClis.length > 0, usableClis, node, clis, checks };
}

export function checkNode(version: string): CheckReport {
  const ok = compareVersions(version, MIN_NODE) >= 0;
  return {
    name: "node",
    ok,
    detail: `Node.js ${version}`,
    problems: ok
      ? []
      : [
          {
            problem: `Node.js ${version} is older than ${MIN_NODE}`,
            fix: "install Node.js 20.19 or newer",
          },
        ],
  };
}

async function checkCli(
  provider: Provider,
  probe: CliProbe,
  env: NodeJS.ProcessEnv,
  home: string,
): Promise<CliReport> {
  const { min, max } = provider.testedVersions;
  const testedVersions = min === max ? min : `${min} to ${max}`;
  const install = await probe.check(provider);
  const report: CliReport = {
    name: provider.name,
    ...install,
    testedVersions,
    usable: false,
    problems: [],
  };
  if (!install.installed || !install.path) {
    report.searched = searchedDirs(env.PATH ?? "");
    report.problems.push({
      problem: `${provider.binary} was not found on the PATH the gateway uses`,
      fix: `${provider.installCommand}; or, if it is installed, add its directory to PATH in the MCP client's server config ("env": {"PATH": ...})`,
    });
    return report;
  }
  if (!install.version) {
    report.problems.push({
      problem: `\`${provider.binary} --version\` failed: ${install.versionError}`,
      fix: `check that ${install.path} runs, or reinstall: ${provider.installCommand}`,
    });
  } else if (!install.inTestedRange) {
    report.problems.push({
      problem: `${provider.binary} ${install.version} is not a version the gateway was tested with (${testedVersions})`,
      fix: `it may work; to be on the tested version: ${provider.installCommand}@${max}`,
    });
  }
  report.signIn = await checkSignIn(provider, install.path, env, home);
  if (report.signIn.signedIn === false)
    report.problems.push({
      problem: `${provider.binary} is not signed in`,
      fix: provider.auth.fix,
    });
  report.usable = report.signIn.signedIn !== false;
  return report;
}

export async function checkSignIn(
  provider: Provider,
  path: string,
  env: NodeJS.ProcessEnv,
  home: string,
): Promise<SignIn> {
  const { auth } = provider;
  const key = auth.envKeys.find((name) => env[name]);
  if (key) return { signedIn: true, how: `${key} is set` };
  if (auth.statusCommand) {
    const r = await runShort(path, auth.statusCommand.args, env);
    const verdict = r.failure ? undefined : auth.statusCommand.signedIn(r.stdout, r.exitCode);
    const command = `${provider.binary} ${auth.statusCommand.args.join(" ")}`;
    if (verdict !== undefined)
      return {
        signedIn: verdict,
        how: `\`${command}\` says ${verdict ? "signed in" : "signed out"}`,
      };
  }
  const dir = auth.configDir(env, home);
  const file = auth.credentialFiles.find((name) => existsSync(join(dir, name)));
  if (file) return { signedIn: true, how: `${join(dir, file)} exists` };
  return {
    signedIn: false,
    how: `none of ${[...auth.envKeys, ...auth.credentialFiles.map((f) => join(dir, f))].join(", ")}`,
  };
}

export function checkHome(home: string): CheckReport {
  const problems: Problem[] = [];
  let detail = `${home} is writable`;
  try {
    if (!existsSync(home)) {
      // Not there yet: the gateway creates it; its nearest existing parent must be writable.
      let parent = dirname(home);
      while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
      if (!statSync(parent).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
      accessSync(parent, constants.W_OK);
      detail = `${home} does not exist yet; the gateway will create it`;
    } else {
      const probe = join(home, `.doctor-${process.pid}`);
      writeFileSync(probe, "", { mode: 0o600 });
      rmSync(probe);
    }
  } catch (err) {
    detail = `${home} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    problems.push({
      problem: detail,
      fix: `make it writable by this user (chown/chmod), or set LLM_GATEWAY_HOME to a writable directory`,
    });
  }
  return { name: "home", ok: problems.length === 0, detail, problems };
}

function checkDatabases(config: GatewayConfig): CheckReport[] {
  const paths: [string, string | null][] = [
    // With LLM_GATEWAY_DATABASE_URL the store is in PostgreSQL ("database", doctor-postgres.ts).
    ...(config.postgres
      ? []
      : [["gateway.db", join(config.home, "gateway.db")] as [string, string]]),
    // With the flight recorder in PostgreSQL there is no logs.db ("recorder", doctor-postgres.ts).
    ...(config.recorder.postgres
      ? []
      : [["logs.db", config.recorder.path] as [string, string | null]]),
  ];
  return paths.map(([name, path]) => {
    if (path === null)
      return {
        name,
        ok: true,
        detail: "the flight recorder is off (LLM_GATEWAY_LOGS_DB)",
        problems: [],
      };
    if (!existsSync(path))
      return { name, ok: true, detail: `${path} not created yet`, problems: [] };
    try {
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        const rows = db.pragma("quick_check") as { quick_check: string }[];
        const verdict = rows.map((r) => r.quick_check).join("; ");
        if (verdict === "ok") return { name, ok: true, detail: `${path}: intact`, problems: [] };
        return damaged(name, path, verdict);
      } finally {
        db.close();
      }
    } catch (err) {
      return damaged(name, path, (err as Error).message);
    }
  });
}

function damaged(name: string, path: string, why: string): CheckReport {
  return {
    name,
    ok: false,
    detail: `${path}: ${why}`,
    problems: [
      {
        problem: `${path} failed SQLite's integrity check: ${why}`,
        fix: `stop the gateway and move ${path} aside (it is recreated empty), or recover it with \`sqlite3 ${path} .recover\``,
      },
    ],
  };
}

/** The MCP server config's state: a parse error with its position, each invalid entry and why. */
function checkMcp(config: GatewayConfig): CheckReport {
  const name = "mcp-config";
  const state = loadMcpConfig(config.approvals.mcpConfigPath);
  const { path } = state;
  if (!state.exists)
    return {
      name,
      ok: true,
      detail: `${path} not present (no MCP servers for the CLIs)`,
      problems: [],
    };
  if (state.fileError) {
    const problem = `${path} ${state.fileError.problem}`;
    return { name, ok: false, detail: problem, problems: [{ problem, fix: state.fileError.fix }] };
  }
  const names = Object.keys(state.servers);
  const invalid = state.invalid.map((e) => `"${e.name}" (${e.problem})`);
  return {
    name,
    ok: invalid.length === 0,
    detail:
      `${path}: ${names.length} server(s)${names.length ? `: ${names.join(", ")}` : ""}` +
      (invalid.length ? `; ${invalid.length} invalid, left out: ${invalid.join("; ")}` : ""),
    problems: state.invalid.map((e) => ({
      problem: `entry "${e.name}" in ${path}: ${e.problem}`,
      fix: `entry "${e.name}": ${e.problem}; write it as ${MCP_ENTRY_FORMAT} or remove it`,
    })),
  };
}
