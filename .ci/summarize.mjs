// Sums the suites' results into the one closing line CI reads: "N passed, M failed".
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
let passed = 0;
let failed = 0;

for (const suite of ["fast", "fast-pg", "real", "real-pg", "package"]) {
  const file = join(dir, `${suite}.json`);
  if (!existsSync(file)) {
    console.log(`${suite}: no results (the suite did not run)`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(file, "utf8"));
  console.log(
    `${suite}: ${r.numPassedTests} passed, ${r.numFailedTests} failed of ${r.numTotalTests}`,
  );
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.success ? 0 : r.numFailedTests === 0 ? 1 : 0);
}

const tap = join(dir, "mock.tap");
if (existsSync(tap)) {
  const text = readFileSync(tap, "utf8");
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)`, "m").exec(text)?.[1] ?? 0);
  console.log(`mock: ${count("pass")} passed, ${count("fail")} failed`);
  passed += count("pass");
  failed += count("fail");
} else {
  console.log("mock: no results");
  failed += 1;
}

// pytest (the llm plugin, Datasette): its JUnit report's counts, as in its closing line.
const junit = join(dir, "pytest.xml");
if (existsSync(junit)) {
  const suite = /<testsuite\b[^>]*>/.exec(readFileSync(junit, "utf8"))?.[0] ?? "";
  const attr = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const bad = attr("failures") + attr("errors");
  const good = attr("tests") - bad - attr("skipped");
  console.log(`pytest: ${good} passed, ${bad} failed, ${attr("skipped")} skipped`);
  passed += good;
  failed += bad + (attr("tests") === 0 ? 1 : 0);
} else {
  console.log("pytest: no results (the suite did not run)");
  failed += 1;
}

// Lint and the short benchmark run count as one check each.
const checks = join(dir, "checks");
if (existsSync(checks)) {
  for (const line of readFileSync(checks, "utf8").trim().split("\n")) {
    if (line === "pass") passed += 1;
    else {
      console.log(line);
      failed += 1;
    }
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
