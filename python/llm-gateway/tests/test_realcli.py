"""Real-CLI lane: `llm -m gateway-*` runs the real claude, codex and gemini (the pinned versions
test/realcli/install-clis.mjs installs) behind the built gateway, against the project's mock
model API on loopback. Nothing leaves 127.0.0.1 (every proxy variable points at the mock)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

import pytest

from conftest import NODE, REPO, Lane, base_env, node_eval

pytestmark = pytest.mark.realcli
CLIS = ["claude", "codex", "gemini"]


@pytest.fixture(scope="module")
def mock_api():
    proc = subprocess.Popen(
        [NODE, str(REPO / "test" / "realcli" / "mock-llm-api.mjs"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line.startswith("MOCK_LLM_LISTENING "), line
    yield line.split(" ", 1)[1]
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def real_bin() -> str:
    path = node_eval('import("./test/realcli/install-clis.mjs").then((m) => console.log(m.realCliBin()))')
    if not all((Path(path) / cli).exists() for cli in CLIS):
        pytest.fail(f"the real CLIs are not installed in {path}: run node test/realcli/install-clis.mjs")
    return path


@pytest.fixture(scope="module")
def real_lane(tmp_path_factory, mock_api, real_bin) -> Lane:
    """The environment test/realcli/harness.ts gives the real CLIs, with llm and the plugin on top."""
    root = tmp_path_factory.mktemp("realcli")
    env = {k: v for k, v in base_env(root).items() if not k.endswith(("_PROXY", "_proxy"))}
    home = root / "home"
    write_cli_configs(home, mock_api)
    proxy = mock_api
    env.update(
        PATH=f"{real_bin}:{os.path.dirname(NODE)}:/usr/bin:/bin",
        LANG="C.UTF-8",
        ANTHROPIC_BASE_URL=mock_api,
        ANTHROPIC_API_KEY="sk-ant-mock",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        CLAUDE_CODE_MAX_RETRIES="2",
        CODEX_HOME=str(home / ".codex"),
        MOCK_API_KEY="mock-key",
        GEMINI_API_KEY="mock-key",
        GOOGLE_GEMINI_BASE_URL=mock_api,
        GEMINI_CLI_TRUST_WORKSPACE="true",
        GEMINI_CLI_NO_RELAUNCH="true",
        HTTPS_PROXY=proxy,
        HTTP_PROXY=proxy,
        ALL_PROXY=proxy,
        https_proxy=proxy,
        http_proxy=proxy,
        all_proxy=proxy,
        NO_PROXY="127.0.0.1,localhost,::1",
        no_proxy="127.0.0.1,localhost,::1",
    )
    for key in ("ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY", "GOOGLE_API_KEY", "CLAUDE_CONFIG_DIR"):
        env.pop(key, None)
    return Lane(root=root, env=env)


def write_cli_configs(home: Path, mock_url: str) -> None:
    """The settings that point each CLI at the mock and stop all other traffic (CLI-FACTS §2, §4)."""
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "config.toml").write_text(
        "\n".join(
            [
                'model_provider = "mock"',
                "[analytics]",
                "enabled = false",
                "[features]",
                "plugins = false",
                "remote_plugin = false",
                "[model_providers.mock]",
                'name = "mock-llm-api"',
                f'base_url = "{mock_url}/v1"',
                'env_key = "MOCK_API_KEY"',
                'wire_api = "responses"',
                "request_max_retries = 2",
                "stream_max_retries = 2",
                "",
            ]
        )
    )
    (home / ".gemini").mkdir()
    (home / ".gemini" / "settings.json").write_text(
        json.dumps(
            {
                "security": {"auth": {"selectedType": "gemini-api-key"}},
                "privacy": {"usageStatisticsEnabled": False},
                "telemetry": {"enabled": False},
                "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False, "maxAttempts": 2},
            }
        )
    )


def main_requests(mock_url: str, marker: str) -> list[dict]:
    with urllib.request.urlopen(f"{mock_url}/__mock/log", timeout=10) as response:
        log = json.load(response)
    entries = log if isinstance(log, list) else log.get("entries", log.get("log", []))
    return [
        e
        for e in entries
        if e.get("dialect") != "proxy" and e.get("kind") == "main" and marker in (e.get("prompt") or "")
    ]


@pytest.mark.parametrize("cli", CLIS)
def test_two_turn_llm_conversation_with_the_real_cli(real_lane, mock_api, cli):
    first = real_lane.llm("-m", f"gateway-{cli}", f"t1-{cli} remember pelican")
    assert first.stdout.startswith(f"MOCK-REPLY 1: t1-{cli} remember pelican")
    turn = real_lane.last_turn()
    assert turn["response_json"]["cli"] == cli and turn["response_json"]["sessionId"]

    second = real_lane.llm("-c", f"t2-{cli} which word?")
    # The mock numbers its reply by the assistant turns in the request: 2 = the history came back.
    assert second.stdout.startswith(f"MOCK-REPLY 2: t2-{cli} which word?")
    [request] = main_requests(mock_api, f"t2-{cli}")
    assert any(f"t1-{cli} remember pelican" in t for t in request["userTexts"])
    assert any(t.startswith(f"MOCK-REPLY 1: t1-{cli}") for t in request["assistantTexts"])

    # One id finds the call in both logs.
    resumed = real_lane.last_turn()
    assert resumed["response_json"]["sessionId"] == turn["response_json"]["sessionId"]
    with sqlite3.connect(real_lane.gateway_db) as db:
        row = db.execute(
            "select cli, status, native_session_id from calls where correlation_id = ?", [resumed["id"]]
        ).fetchone()
    assert row == (cli, "completed", turn["response_json"]["sessionId"])


def test_system_prompt_reaches_claudes_model_request(real_lane, mock_api):
    result = real_lane.llm("-m", "gateway-claude", "-s", "Speak like a sys-marker-pirate.", "sys-prompt-turn hello")
    assert result.stdout.startswith("MOCK-REPLY 1: sys-prompt-turn hello")
    [request] = main_requests(mock_api, "sys-prompt-turn")
    assert "Speak like a sys-marker-pirate." in json.dumps(request["body"].get("system"))
