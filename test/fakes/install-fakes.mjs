// Creates a bin directory whose CLIs are the fake CLI (fake-cli.mjs, which takes a later CLI's
// format from test/fakes/<cli>.mjs), or a fake of their own (opencode: fake-opencode.mjs).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const FAKE = join(HERE, "fake-cli.mjs");
const OWN_FAKES = { opencode: join(HERE, "fake-opencode.mjs") };

export function installFakeClis(names = ["claude", "codex", "gemini"]) {
  const bin = mkdtempSync(join(tmpdir(), "llm-gateway-fakebin-"));
  for (const name of names) {
    writeFileSync(
      join(bin, name),
      `#!/usr/bin/env node\nimport(${JSON.stringify(OWN_FAKES[name] ?? FAKE)}).then((m) => m.main(${JSON.stringify(name)}));\n`,
      { mode: 0o755 },
    );
  }
  return bin;
}
