import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A git repository at `repo` with two commits: `HEAD~1..HEAD` plants an off-by-one in
 * src/sum.js (line 3: `<=` instead of `<`), the change the review tests review.
 */
export function makePlantedBugRepo(repo: string): void {
  mkdirSync(join(repo, "src"), { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo });
  git("init", "-q");
  writeFileSync(join(repo, "src/sum.js"), "export function sum(xs) {\n  return 0;\n}\n");
  git("add", ".");
  git("commit", "-qm", "one");
  writeFileSync(
    join(repo, "src/sum.js"),
    "export function sum(xs) {\n  let t = 0;\n  for (let i = 0; i <= xs.length; i++) t += xs[i];\n  return t;\n}\n",
  );
  git("commit", "-qam", "two");
}
