// `llm-cli-gateway doctor [--json]`: what the gateway finds on this machine, each problem with its
// fix. Exit 1 when no CLI is usable (none found, or every one found is signed out).
import {
  gatherDoctorReport,
  type CheckReport,
  type CliReport,
  type DoctorReport,
} from "./doctor-checks.js";

export interface DoctorIo {
  stdout: (text: string) => void;
}

const defaultIo: DoctorIo = { stdout: (t) => void process.stdout.write(t) };

export async function runDoctorCommand(
  options: { json: boolean },
  env: NodeJS.ProcessEnv = process.env,
  io: DoctorIo = defaultIo,
): Promise<number> {
  const report = await gatherDoctorReport(env);
  io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}

export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  lines.push(line(report.node.ok, report.node.detail), ...fixes(report.node));
  for (const cli of report.clis)
    lines.push(line(cli.usable && cli.problems.length === 0, cliLine(cli)), ...fixes(cli));
  for (const check of report.checks)
    lines.push(line(check.ok, `${check.name}: ${check.detail}`), ...fixes(check));
  lines.push(
    "",
    report.ok
      ? `Usable: ${report.usableClis.join(", ")}.`
      : "No CLI is usable: install and sign in to at least one of claude, codex, gemini (fixes above).",
  );
  return `${lines.join("\n")}\n`;
}

function cliLine(cli: CliReport): string {
  if (!cli.installed)
    return `${cli.name}: not found (searched ${cli.searched?.join(", ") || "an empty PATH"})`;
  const version = cli.version
    ? `${cli.version} (${cli.inTestedRange ? "tested" : `untested; tested: ${cli.testedVersions}`})`
    : "version unknown";
  const signIn = cli.signIn
    ? `${cli.signIn.signedIn ? "signed in" : "not signed in"}: ${cli.signIn.how}`
    : "";
  return `${cli.name} ${version} at ${cli.path}; ${signIn}`;
}

const line = (ok: boolean, text: string) => `${ok ? "ok  " : "FAIL"} ${text}`;

function fixes(item: CheckReport | CliReport): string[] {
  return item.problems.map((p) => `     fix: ${p.fix}`);
}
