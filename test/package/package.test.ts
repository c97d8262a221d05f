// The package as a user gets it: `npm pack`, then `npm install -g` into an empty prefix,
// `npx -y <tarball>` and the MCP Bundle, each run through initialize and tools/list.
// Slow (better-sqlite3 may build from source): its own vitest project, run by .ci/run.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildMcpb, installPackage } from "../../scripts/build-mcpb.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, any>;
const MCPB = join(ROOT, "node_modules", "@anthropic-ai", "mcpb", "dist", "cli", "cli.js");
let work: string;
let installed: ReturnType<typeof installPackage>;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "llm-gateway-package-"));
  installed = installPackage(work);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A throw-away home and a PATH with node on it: what an MCP client hands a server. */
function serverEnv(): Record<string, string> {
  const home = mkdtempSync(join(work, "home-"));
  return {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    LLM_GATEWAY_HOME: join(home, ".llm-cli-gateway"),
    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? home, ".npm"),
  };
}

async function initializeAndList(command: string, args: string[]) {
  const client = new Client({ name: "package-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command, args, env: serverEnv(), stderr: "pipe" }),
  );
  try {
    const tools = await client.listTools();
    return { server: client.getServerVersion(), names: tools.tools.map((t) => t.name) };
  } finally {
    await client.close();
  }
}

const expectedTools = () =>
  (
    JSON.parse(readFileSync(join(ROOT, "dist", "tools-list.json"), "utf8")) as {
      tools: { name: string }[];
    }
  ).tools.map((t) => t.name);

describe("the npm package", () => {
  it("ships dist, LICENSE and README, no source maps, and says where it comes from", () => {
    const files = execFileSync("tar", ["-tzf", installed.tarball], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(files).toEqual(
      expect.arrayContaining(["package/LICENSE", "package/README.md", "package/dist/main.js"]),
    );
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(files.filter((f) => f.startsWith("package/src/"))).toEqual([]);
    const js = readdirSync(join(installed.dir, "dist"), {
      recursive: true,
      encoding: "utf8",
    }).filter((f) => f.endsWith(".js"));
    for (const f of js)
      expect(readFileSync(join(installed.dir, "dist", f), "utf8"), f).not.toMatch(
        /sourceMappingURL/,
      );
    expect(readFileSync(join(installed.dir, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    expect(pkg.license).toBe("MIT");
    for (const field of ["repository", "homepage", "bugs", "keywords", "mcpName"])
      expect(pkg[field], field).toBeTruthy();
    expect(pkg.scripts.prepare).toMatch(/build/);
  });

  it("npm install -g: the installed bin answers initialize and tools/list", async () => {
    const bin = join(installed.prefix, "bin", "llm-cli-gateway");
    expect(execFileSync(bin, ["--version"], { encoding: "utf8" })).toBe(`${pkg.version}\n`);
    const { server, names } = await initializeAndList(bin, []);
    expect(server).toMatchObject({ name: "llm-cli-gateway", version: pkg.version });
    expect(names).toEqual(expectedTools());
  });

  it("npx -y <tarball>: answers initialize and tools/list", async () => {
    // The first npx run installs (and may build better-sqlite3) before the server starts: longer
    // than a client waits for initialize. The README's first command, doctor, does the same.
    const npx = ["-y", "--package", installed.tarball, "llm-cli-gateway"];
    const env = { ...process.env, ...serverEnv() };
    expect(execFileSync("npx", [...npx, "--version"], { encoding: "utf8", env })).toBe(
      `${pkg.version}\n`,
    );
    const { server, names } = await initializeAndList("npx", npx);
    expect(server).toMatchObject({ name: "llm-cli-gateway", version: pkg.version });
    expect(names).toEqual(expectedTools());
  });

  it("the MCP Bundle: validated and packed by mcpb, and the unpacked bundle serves", async () => {
    const out = join(work, "llm-cli-gateway.mcpb");
    const { manifest } = buildMcpb(installed.dir, out);
    expect(manifest).toMatchObject({
      version: pkg.version,
      compatibility: { platforms: [process.platform] },
    });
    expect((manifest.tools as { name: string }[]).map((t) => t.name)).toEqual(expectedTools());
    const unpacked = join(work, "unpacked");
    execFileSync(process.execPath, [MCPB, "unpack", out, unpacked], { stdio: "ignore" });
    const { names } = await initializeAndList(process.execPath, [
      join(unpacked, "dist", "main.js"),
    ]);
    expect(names).toEqual(expectedTools());
  });
});
