// Builds the MCP Bundle (.mcpb) for one-click install in Claude Desktop:
//   node scripts/build-mcpb.mjs [--from <installed package dir>] [--out <file.mcpb>]
// The bundle is the npm package as installed (dist plus production node_modules) with
// mcpb/manifest.json, its version and tools filled in from package.json and dist/tools-list.json.
// better-sqlite3 is a native module, so a bundle runs only on the platform it was built on: the
// manifest says so (compatibility.platforms).
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
const MCPB = join(ROOT, "node_modules", "@anthropic-ai", "mcpb", "dist", "cli", "cli.js");

/** The npm package, packed and installed into a temporary prefix: what a user's install holds. */
export function installPackage(work) {
  execFileSync("npm", ["pack", "--pack-destination", work, "--silent"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith(".tgz")),
  );
  const prefix = join(work, "prefix");
  execFileSync("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", tarball], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return { tarball, prefix, dir: join(prefix, "lib", "node_modules", "llm-cli-gateway") };
}

export function buildMcpb(from, out) {
  const pkg = JSON.parse(readFileSync(join(from, "package.json"), "utf8"));
  const tools = JSON.parse(readFileSync(join(from, "dist", "tools-list.json"), "utf8")).tools;
  const manifest = JSON.parse(readFileSync(join(ROOT, "mcpb", "manifest.json"), "utf8"));
  manifest.version = pkg.version;
  manifest.tools = tools.map(({ name, description }) => ({ name, description }));
  manifest.compatibility.platforms = [process.platform];
  const stage = mkdtempSync(join(tmpdir(), "llm-gateway-mcpb-"));
  try {
    cpSync(from, stage, { recursive: true });
    writeFileSync(join(stage, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    execFileSync(process.execPath, [MCPB, "validate", join(stage, "manifest.json")], {
      stdio: "inherit",
    });
    execFileSync(process.execPath, [MCPB, "pack", stage, out], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return { out, manifest };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { from: { type: "string" }, out: { type: "string" } } });
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  const out = resolve(
    values.out ?? `llm-cli-gateway-${version}-${process.platform}-${process.arch}.mcpb`,
  );
  const work = values.from ? undefined : mkdtempSync(join(tmpdir(), "llm-gateway-pack-"));
  try {
    const from = values.from ? resolve(values.from) : installPackage(work).dir;
    buildMcpb(from, out);
    console.log(out);
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}
