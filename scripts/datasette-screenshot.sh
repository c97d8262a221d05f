#!/usr/bin/env bash
# Takes docs/datasette.png: Datasette (from PyPI) serving a sample flight recorder with
# datasette/metadata.json, shot in headless Chromium (Debian's chromium package).
# Usage: scripts/datasette-screenshot.sh [PAGE]   (after npm run build; datasette on PATH or $DATASETTE)
# PAGE defaults to the canned query "Cost and tokens per day and CLI". Not part of CI: the JSON API is tested by pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
page="${1:-/logs/cost_and_tokens_per_day_and_cli}"
datasette="${DATASETTE:-datasette}"
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

# A sample recorder, written by the gateway's own Recorder: three CLIs, two days, one failure.
node --input-type=module - "$work/logs.db" <<'JS'
import { Recorder } from "./dist/store/recorder.js";
const recorder = Recorder.open(process.argv[2], { onError: (e) => console.error(e) });
const at = (daysAgo, hour) => {
  const t = new Date(Date.now() - daysAgo * 86_400_000);
  t.setUTCHours(hour, 0, 0, 0);
  return t.toISOString();
};
const calls = [
  ["claude", "claude-sonnet-5-5", "Explain this function: parseConfig in src/config.ts", at(1, 9), 4200, { inputTokens: 21800, outputTokens: 412, cacheReadTokens: 18000 }, 0.0712],
  ["codex", "gpt-6.1-sol", "Review the diff for off-by-one errors", at(1, 10), 8300, { inputTokens: 9536, outputTokens: 233 }],
  ["gemini", "gemini-2.5-pro", "Check src/jobs for race conditions", at(1, 11), 11800, { inputTokens: 7787, outputTokens: 540, reasoningTokens: 120 }],
  ["codex", "gpt-6.1-sol", "Fix the flaky test in test/io.spec.ts", at(0, 8), 2900, null, null, ["rate_limited", "exceeded retry limit, last status: 429 Too Many Requests"]],
  ["claude", "claude-opus-5-5", "Write a migration that adds a consultation id", at(0, 9), 15600, { inputTokens: 30211, outputTokens: 1893, cacheReadTokens: 25000 }, 0.2104],
  ["gemini", "gemini-2.5-flash", "Summarize the CHANGELOG for the release notes", at(0, 10), 3100, { inputTokens: 5120, outputTokens: 310 }],
];
calls.forEach(([cli, model, prompt, startedAt, durationMs, usage, costUsd, error], i) => {
  const id = recorder.start({ correlationId: `01sample${i}`, cli, model, prompt, startedAt, cwd: "/home/me/project" });
  recorder.finish(id, error
    ? { errorCategory: error[0], errorMessage: error[1], exitCode: 1, durationMs }
    : { responseText: `(answer ${i + 1})`, durationMs, usage, costUsd, exitCode: 0 });
});
recorder.close();
JS

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$datasette" serve "$work/logs.db" --metadata datasette/metadata.json --host 127.0.0.1 --port "$port" >"$work/datasette.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/-/versions.json" >/dev/null && break; sleep 0.2; done

chromium --headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars \
  --user-data-dir="$work/chromium" --window-size=1280,600 --screenshot="$work/shot.png" \
  "http://127.0.0.1:$port$page" 2>/dev/null
mkdir -p docs && cp "$work/shot.png" docs/datasette.png
echo "docs/datasette.png ($(stat -c %s docs/datasette.png) bytes) from http://127.0.0.1:$port$page"
