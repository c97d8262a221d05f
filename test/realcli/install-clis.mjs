// Installs the pinned real CLIs into a cache directory outside the repo (idempotent) and prints
// the bin directory. Versions: REALCLI_CLAUDE_VERSION, REALCLI_CODEX_VERSION, REALCLI_GEMINI_VERSION.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readSync, closeSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const VERSIONS = {
  claude: process.env.REALCLI_CLAUDE_VERSION || "2.1.332",
  codex: process.env.REALCLI_CODEX_VERSION || "0.169.0",
  gemini: process.env.REALCLI_GEMINI_VERSION || "0.61.0",
};

export const PACKAGES = {
  claude: "@anthropic-ai/claude-code",
  codex: "@openai/codex",
  gemini: "@google/gemini-cli",
};

export function realCliDir() {
  const root =
    process.env.LLM_GATEWAY_REALCLI_CACHE ||
    join(homedir(), ".cache", "llm-cli-gateway", "realcli");
  return join(root, `claude-${VERSIONS.claude}_codex-${VERSIONS.codex}_gemini-${VERSIONS.gemini}`);
}

export function realCliBin() {
  return join(realCliDir(), "node_modules", ".bin");
}

/** claude's postinstall copies the native binary over a stub; a stub means the install is broken. */
function claudeIsNative(bin) {
  const path = join(bin, "claude");
  if (!existsSync(path)) return false;
  const fd = openSync(path, "r");
  const head = Buffer.alloc(4);
  readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  return head.toString("latin1") === "\x7fELF";
}

export function installRealClis() {
  const dir = realCliDir();
  const bin = realCliBin();
  const ready =
    claudeIsNative(bin) && existsSync(join(bin, "codex")) && existsSync(join(bin, "gemini"));
  if (ready) return bin;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "realcli-cache", private: true }),
  );
  const specs = Object.entries(PACKAGES).map(([cli, pkg]) => `${pkg}@${VERSIONS[cli]}`);
  process.stderr.write(`installing ${specs.join(" ")} into ${dir}\n`);
  // Exact versions: on Node 20 a bare install of claude-code silently picks an old release.
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...specs], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (!claudeIsNative(bin))
    throw new Error(`claude's postinstall did not install its native binary in ${bin}`);
  return bin;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(installRealClis() + "\n");
}
