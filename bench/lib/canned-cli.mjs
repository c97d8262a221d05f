// CLIs that print a reply recorded from the fake CLIs (test/fakes) with the gateway's own arguments:
// a Perl script per CLI that reads its stdin and prints the recording. One runs in about 4 ms with
// little spread where the Node fakes take 50-60 ms, so the gateway's overhead stands out of the noise.
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLIS, fakeBin, sandbox, tempDir } from "./sandbox.mjs";

export const cannedPrompt = (cli) => `Bench request for ${cli}.`;

/** A bin directory of canned CLIs; `args` is the gateway's argv per CLI. */
export function cannedBin(args) {
  const box = sandbox(fakeBin());
  const bin = tempDir("canned");
  for (const cli of CLIS) {
    const run = spawnSync(cli, args[cli], {
      input: cannedPrompt(cli),
      env: box.env,
      cwd: box.work,
    });
    if (run.status !== 0) throw new Error(`fake ${cli} failed: ${run.stderr}`);
    const reply = join(bin, `${cli}.reply`);
    writeFileSync(reply, run.stdout);
    writeFileSync(
      join(bin, cli),
      `#!/usr/bin/perl\nlocal $/; my $prompt = <STDIN>;\nopen(my $f, "<", ${JSON.stringify(reply)}) or die;\nprint <$f>;\n`,
    );
    chmodSync(join(bin, cli), 0o755);
  }
  return bin;
}
