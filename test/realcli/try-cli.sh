#!/usr/bin/env bash
# Run one REAL CLI (claude | codex | gemini) against the project's mock model API, fully offline.
#
#   test/realcli/try-cli.sh start                 # start a mock, print its URL (state in $TRY_DIR)
#   test/realcli/try-cli.sh claude -p "hi" --output-format json
#   test/realcli/try-cli.sh codex exec --json --skip-git-repo-check "hi"
#   test/realcli/try-cli.sh gemini -p "hi" -o json -m gemini-2.5-pro
#   test/realcli/try-cli.sh prove claude          # turn 1, resume, [[mock:500]], proxy sink empty
#   test/realcli/try-cli.sh log | proxy-log | stop
#
# Each CLI gets a throw-away HOME, TMPDIR and cwd under $TRY_DIR/<cli>/ (kept between calls so that
# resumes work; `fresh <cli>` wipes it), an `env -i` environment, every proxy variable pointed at the
# mock (whose proxy sink answers 403), and the settings that stop all other traffic (CLI-FACTS §2, §4).
# stdin is passed through, so `… < /dev/null` or `printf … | try-cli.sh …` are both possible.
# Extra env for the CLI: TRY_ENV="K=V K2=V2".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TRY_DIR="${TRY_DIR:-/tmp/llm-cli-gateway-try}"
BIN="${REALCLI_BIN:-/root/.cache/llm-cli-gateway/realcli/node_modules/.bin}"
NODE_DIR="$(dirname "$(command -v node)")"
mkdir -p "$TRY_DIR"

mock_url() {
  [[ -s "$TRY_DIR/mock.port" ]] || { echo "mock not running: $0 start" >&2; exit 2; }
  echo "http://127.0.0.1:$(cat "$TRY_DIR/mock.port")"
}

start_mock() {
  rm -f "$TRY_DIR/mock.port"; : >"$TRY_DIR/mock.jsonl"   # one log per mock run
  nohup node "$HERE/mock-llm-api.mjs" --port 0 --log "$TRY_DIR/mock.jsonl" --port-file "$TRY_DIR/mock.port" \
    >"$TRY_DIR/mock.out" 2>&1 &
  echo $! >"$TRY_DIR/mock.pid"
  for _ in $(seq 50); do [[ -s "$TRY_DIR/mock.port" ]] && break; sleep 0.1; done
  cat "$TRY_DIR/mock.out"
}

# Per-CLI config files: written once per fresh home.
setup_home() {
  local cli=$1 h=$2 port=$3
  mkdir -p "$h/home" "$h/tmp" "$h/cwd"
  case $cli in
    codex)
      mkdir -p "$h/home/.codex"
      cat >"$h/home/.codex/config.toml" <<EOF
model_provider = "mock"
[analytics]
enabled = false
[features]
plugins = false
remote_plugin = false
[model_providers.mock]
name = "mock-llm-api"
base_url = "http://127.0.0.1:$port/v1"
env_key = "MOCK_API_KEY"
wire_api = "responses"
request_max_retries = 2
stream_max_retries = 2
EOF
      ;;
    gemini)
      mkdir -p "$h/home/.gemini"
      cat >"$h/home/.gemini/settings.json" <<'EOF'
{ "security": { "auth": { "selectedType": "gemini-api-key" } },
  "privacy": { "usageStatisticsEnabled": false },
  "telemetry": { "enabled": false },
  "general": { "enableAutoUpdate": false, "enableAutoUpdateNotification": false, "maxAttempts": 2 } }
EOF
      ;;
  esac
}

run_cli() {
  local cli=$1; shift
  local m port h
  m=$(mock_url); port=${m##*:}
  h="$TRY_DIR/$cli"
  # A home made for an older mock port is rewritten (codex keeps the port in config.toml).
  if [[ ! -f "$h/port" || "$(cat "$h/port")" != "$port" ]]; then setup_home "$cli" "$h" "$port"; echo "$port" >"$h/port"; fi
  local common=(PATH="$BIN:$NODE_DIR:/usr/bin:/bin" HOME="$h/home" TMPDIR="$h/tmp" LANG=C.UTF-8 TERM=dumb
    HTTPS_PROXY="$m" HTTP_PROXY="$m" ALL_PROXY="$m" https_proxy="$m" http_proxy="$m" all_proxy="$m"
    NO_PROXY=127.0.0.1,localhost,::1 no_proxy=127.0.0.1,localhost,::1)
  local extra=()
  case $cli in
    claude) extra=(ANTHROPIC_BASE_URL="$m" ANTHROPIC_API_KEY=sk-ant-mock-key CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
      DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 CLAUDE_CODE_MAX_RETRIES=2) ;;
    codex) extra=(CODEX_HOME="$h/home/.codex" MOCK_API_KEY=sk-mock-key) ;;
    gemini) extra=(GEMINI_API_KEY=mock-gemini-key GOOGLE_GEMINI_BASE_URL="$m" GEMINI_CLI_TRUST_WORKSPACE=true
      GEMINI_CLI_NO_RELAUNCH=true) ;;
    *) echo "unknown cli: $cli" >&2; exit 2 ;;
  esac
  # shellcheck disable=SC2206
  local user_env=(${TRY_ENV:-})
  cd "$h/cwd"
  exec env -i "${common[@]}" "${extra[@]}" "${user_env[@]}" "$BIN/$cli" "$@"
}

# `prove <cli>`: turn 1, resume by id (turn 2 sees turn 1), [[mock:500]] fails, proxy sink empty.
run_turn() { # cli prompt [resume-id] -> writes $out/{stdout,stderr,rc}
  local cli=$1 prompt=$2 id=${3:-} rc=0
  local -a args
  case $cli in
    claude) args=(-p "$prompt" --output-format json --model claude-sonnet-4-5 ${id:+--resume "$id"}) ;;
    codex) args=(exec --json --skip-git-repo-check -m gpt-5.5 ${id:+resume "$id"} "$prompt") ;;
    gemini) args=(-p "$prompt" -o json -m gemini-2.5-pro ${id:+--resume "$id"}) ;;
  esac
  "$0" "$cli" "${args[@]}" </dev/null >"$out/stdout" 2>"$out/stderr" || rc=$?
  echo "$rc" >"$out/rc"
}

# Prints "<rc>\t<session id>\t<reply or error>" from the last run_turn.
summarize() {
  node - "$1" "$out" <<'JS'
const fs = require("fs");
const [cli, dir] = process.argv.slice(2);
const read = (f) => fs.readFileSync(`${dir}/${f}`, "utf8");
const rc = read("rc").trim();
let id = "", text = "";
if (cli === "claude") {
  const d = JSON.parse(read("stdout"));
  [id, text] = [d.session_id, (d.is_error ? "is_error: " : "") + d.result];
} else if (cli === "codex") {
  const ev = read("stdout").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  id = ev.find((e) => e.type === "thread.started")?.thread_id ?? "";
  const msgs = ev.filter((e) => e.item?.type === "agent_message").map((e) => e.item.text);
  const failed = ev.find((e) => e.type === "turn.failed");
  text = failed ? `turn.failed: ${failed.error.message}` : (msgs.at(-1) ?? "");
} else {
  const out = read("stdout").trim();
  const err = read("stderr");
  const d = JSON.parse(out || err.slice(err.lastIndexOf("\n{") + 1));
  [id, text] = [d.session_id, d.error ? `error: ${d.error.message}` : d.response];
}
console.log(`${rc}\t${id}\t${text}`);
JS
}

prove() {
  local cli=$1 tag=$RANDOM ok=1 r1 r2 r3 id
  out=$(mktemp -d); "$0" fresh "$cli"
  local p1="alpha-$tag remember the word pelican" p2="beta-$tag which word did I ask you to remember"
  run_turn "$cli" "$p1"; r1=$(summarize "$cli"); id=$(cut -f2 <<<"$r1")
  echo "turn 1 : $r1"; [[ $r1 == 0$'\t'*$'\t'"MOCK-REPLY 1: alpha-$tag"* ]] || ok=0
  run_turn "$cli" "$p2" "$id"; r2=$(summarize "$cli")
  echo "resume : $r2"; [[ $r2 == 0$'\t'"$id"$'\t'"MOCK-REPLY 2: beta-$tag"* ]] || ok=0
  node -e '
    const [log, p1, p2, reply1] = process.argv.slice(1);
    const e = require("fs").readFileSync(log, "utf8").trim().split("\n").map(JSON.parse)
      .filter((x) => x.kind === "main" && x.prompt === p2).at(-1);
    const good = e && e.userTexts.includes(p1) && e.assistantTexts.includes(reply1);
    console.log(`log    : turn=${e?.turn} userTexts=${JSON.stringify(e?.userTexts)} assistantTexts=${JSON.stringify(e?.assistantTexts)}`);
    process.exit(good ? 0 : 1);' "$TRY_DIR/mock.jsonl" "$p1" "$p2" "$(cut -f3 <<<"$r1")" || ok=0
  run_turn "$cli" "fault-$tag [[mock:500]]"; r3=$(summarize "$cli")
  echo "500    : $r3"
  case $cli in
    claude) [[ $r3 == 1$'\t'*$'\t'"is_error: API Error: 500"* ]] || ok=0 ;;
    codex) [[ $r3 == 1$'\t'*$'\t'"turn.failed:"* ]] || ok=0 ;;
    gemini) [[ $r3 == 244$'\t'*$'\t'"error: "*500* ]] || ok=0 ;;
  esac
  if grep -q '"dialect":"proxy"' "$TRY_DIR/mock.jsonl"; then echo "proxy  : NOT EMPTY"; ok=0; else echo "proxy  : sink empty"; fi
  rm -rf "$out"
  if ((ok)); then echo "PROVE $cli: PASS"; else echo "PROVE $cli: FAIL"; return 1; fi
}

cmd=${1:-}; shift || true
case $cmd in
  start) start_mock ;;
  stop) [[ -f "$TRY_DIR/mock.pid" ]] && kill "$(cat "$TRY_DIR/mock.pid")" 2>/dev/null; rm -f "$TRY_DIR/mock.pid" "$TRY_DIR/mock.port" ;;
  url) mock_url ;;
  log) cat "$TRY_DIR/mock.jsonl" ;;
  proxy-log) grep '"dialect":"proxy"' "$TRY_DIR/mock.jsonl" || echo "proxy sink empty" ;;
  fresh) rm -rf "${TRY_DIR:?}/${1:?cli}" ;;
  dir) echo "$TRY_DIR/${1:?cli}" ;;
  claude | codex | gemini) run_cli "$cmd" "$@" ;;
  prove) prove "${1:?cli}" ;;
  *) sed -n '2,16p' "$0"; exit 2 ;;
esac
