// Installs the pinned real CLIs into a cache directory outside the repo (idempotent) and prints
// the bin directories. Versions: REALCLI_CLAUDE_VERSION, REALCLI_CODEX_VERSION, REALCLI_GEMINI_VERSION;
// the CLIs added later (EXTRA_VERSIONS) each have a cache directory of their own.
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
  return isElf(join(bin, "claude"));
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

/**
 * CLIs added after the first three, each in a directory of its own beside the pinned three's (so
 * their cache path, which CI keeps, does not change): REALCLI_QWEN_VERSION, REALCLI_OPENCODE_VERSION.
 */
export const EXTRA_VERSIONS = {
  qwen: process.env.REALCLI_QWEN_VERSION || "0.24.4",
  opencode: process.env.REALCLI_OPENCODE_VERSION || "1.18.33",
};
export const EXTRA_PACKAGES = { qwen: "@qwen-code/qwen-code", opencode: "opencode-ai" };
/** How an install is known to be whole: opencode-ai copies its native binary from a platform package. */
const EXTRA_READY = {
  qwen: (bin) => existsSync(join(bin, "qwen")),
  opencode: (bin) => isElf(join(bin, "opencode")),
};

export function extraCliDir(cli) {
  const root =
    process.env.LLM_GATEWAY_REALCLI_CACHE ||
    join(homedir(), ".cache", "llm-cli-gateway", "realcli");
  return join(root, `${cli}-${EXTRA_VERSIONS[cli]}`);
}

export function extraCliBin(cli) {
  return join(extraCliDir(cli), "node_modules", ".bin");
}

/** Installs one extra CLI (idempotent) and returns its bin directory. */
export function installExtraCli(cli) {
  const dir = extraCliDir(cli);
  const bin = extraCliBin(cli);
  if (EXTRA_READY[cli](bin)) return bin;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: `realcli-${cli}`, private: true }),
  );
  const spec = `${EXTRA_PACKAGES[cli]}@${EXTRA_VERSIONS[cli]}`;
  process.stderr.write(`installing ${spec} into ${dir}\n`);
  // qwen 0.24 declares node >=22 and runs on node 20 (docs/cli-facts/qwen.md): npm only warns.
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", spec], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (!EXTRA_READY[cli](bin)) throw new Error(`${spec} did not install its binary in ${bin}`);
  return bin;
}

/** Installs every extra CLI and returns their bin directories. */
export function installExtraClis() {
  return Object.keys(EXTRA_VERSIONS).map(installExtraCli);
}

function isElf(path) {
  if (!existsSync(path)) return false;
  const fd = openSync(path, "r");
  const head = Buffer.alloc(4);
  readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  return head.toString("latin1") === "\x7fELF";
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write([installRealClis(), ...installExtraClis()].join("\n") + "\n");
}
