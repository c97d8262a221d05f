// Creates a bin directory whose claude, codex and gemini are the fake CLI (qwen on request).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FAKE = join(dirname(fileURLToPath(import.meta.url)), "fake-cli.mjs");

export function installFakeClis(names = ["claude", "codex", "gemini"]) {
  const bin = mkdtempSync(join(tmpdir(), "llm-gateway-fakebin-"));
  for (const name of names) {
    writeFileSync(
      join(bin, name),
      `#!/usr/bin/env node\nimport(${JSON.stringify(FAKE)}).then((m) => m.main(${JSON.stringify(name)}));\n`,
      { mode: 0o755 },
    );
  }
  return bin;
}
