// The bin answers a cold start from one bundled file (scripts/bundle-bin.mjs, issue #22): before the
// first call it cannot answer itself, it loads dist/main.js and the one shared module it keeps apart.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, expect, it } from "vitest";
import { startGateway, type StartedGateway } from "../helpers/gateway.js";

const DIST = resolve(import.meta.dirname, "../../dist");
const REGISTER = resolve(import.meta.dirname, "../fixtures/module-log/register.mjs");
let gw: StartedGateway | undefined;
let dir: string | undefined;

afterEach(async () => {
  await gw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const loadedFromDist = (log: string) =>
  readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((url) => new URL(url).pathname)
    .filter((path) => path.startsWith(`${DIST}/`))
    .map((path) => path.slice(DIST.length + 1));

it("loads two files of dist/ to answer initialize and tools/list, and the rest on the first call", async () => {
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-modules-"));
  const log = join(dir, "modules.log");
  gw = await startGateway({ NODE_OPTIONS: `--import=${REGISTER}`, MODULE_LOG: log });
  const { tools } = await gw.client.listTools();
  expect(tools.length).toBeGreaterThan(10);
  expect(loadedFromDist(log).sort()).toEqual(["main.js", "process/large-text.js"]);

  const reply = await gw.call("session_list", {});
  expect(reply.isError).toBeFalsy();
  expect(loadedFromDist(log)).toContain("app.js");
});
