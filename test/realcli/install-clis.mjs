// Installs the pinned real CLIs into a cache directory outside the repo (idempotent) and prints
// the bin directory. Versions: REALCLI_CLAUDE_VERSION, REALCLI_CODEX_VERSION, REALCLI_GEMINI_VERSION.
// opencode (REALCLI_OPENCODE_VERSION) has a cache directory of its own, so adding it left the
// pinned three's path unchanged.
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

export const OPENCODE_VERSION = process.env.REALCLI_OPENCODE_VERSION || "1.18.33";

export function opencodeDir() {
  const root =
    process.env.LLM_GATEWAY_REALCLI_CACHE ||
    join(homedir(), ".cache", "llm-cli-gateway", "realcli");
  return join(`${root}-extra`, `opencode-${OPENCODE_VERSION}`);
}

export function opencodeBin() {
  return join(opencodeDir(), "node_modules", ".bin");
}

/** opencode-ai: a native binary, copied from its platform package (opencode-linux-x64) at install. */
export function installOpencode() {
  const dir = opencodeDir();
  const bin = opencodeBin();
  if (isElf(join(bin, "opencode"))) return bin;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "realcli-extra", private: true }),
  );
  const spec = `opencode-ai@${OPENCODE_VERSION}`;
  process.stderr.write(`installing ${spec} into ${dir}\n`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", spec], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (!isElf(join(bin, "opencode")))
    throw new Error(`opencode-ai did not install its native binary in ${bin}`);
  return bin;
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
  const bin = installRealClis();
  installOpencode();
  process.stdout.write(bin + "\n");
}
