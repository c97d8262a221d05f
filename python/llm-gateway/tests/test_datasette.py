"""The real Datasette (from PyPI) serves a recorder database the gateway wrote, with the shipped
metadata, on loopback: a table, canned queries and full-text search through its JSON API."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import MAIN, NODE, REPO, VENV_BIN, make_lane


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory, fake_bin):
    """Three calls recorded through the plugin, then Datasette started with the command the gateway prints."""
    lane = make_lane(tmp_path_factory.mktemp("datasette"), fake_bin)
    lane.llm("-m", "gateway-claude", "how do pelicans fly")
    lane.llm("-m", "gateway-codex", "[[fake:sample=codex-fault-500]] list the files", check=False)
    lane.llm("-m", "gateway-gemini", "summarize the changelog")
    printed = subprocess.run(
        [NODE, str(MAIN), "logs", "datasette"], env=lane.env, capture_output=True, text=True, check=True
    )
    argv = shlex.split(printed.stdout)
    assert argv == ["datasette", "serve", str(lane.gateway_db), "--metadata", str(REPO / "datasette" / "metadata.json")]
    port = free_port()
    server = subprocess.Popen(
        [str(VENV_BIN / "datasette"), *argv[1:], "--host", "127.0.0.1", "--port", str(port)],
        env=lane.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"datasette did not start: {server.stderr.read()}")
                time.sleep(0.2)
        yield base, lane
    finally:
        server.terminate()
        server.wait(timeout=10)


def get_json(base: str, path: str, **params):
    query = urllib.parse.urlencode({**params, "_shape": "array"})
    with urllib.request.urlopen(f"{base}{path}.json?{query}", timeout=10) as response:
        return json.load(response)


def test_datasette_serves_the_calls_table(served):
    base, _ = served
    rows = get_json(base, "/logs/calls")
    assert [(r["cli"], r["status"]) for r in rows] == [
        ("gemini", "completed"),
        ("codex", "failed"),
        ("claude", "completed"),
    ], "newest first (the metadata's sort_desc)"
    page = urllib.request.urlopen(f"{base}/logs/calls", timeout=10).read().decode()
    assert "One row per request" in page


def test_datasette_runs_the_canned_queries(served):
    base, lane = served
    per_day = get_json(base, "/logs/cost_and_tokens_per_day_and_cli")
    by_cli = {r["cli"]: r for r in per_day}
    assert set(by_cli) == {"claude", "codex", "gemini"}
    assert by_cli["claude"]["calls"] == 1 and by_cli["claude"]["input_tokens"] > 0
    assert by_cli["claude"]["cost_usd"] > 0
    assert by_cli["codex"]["failed"] == 1
    failures = get_json(base, "/logs/failures_by_category")
    assert [(f["cli"], f["calls"]) for f in failures] == [("codex", 1)]
    assert failures[0]["category"] and failures[0]["last_message"]
    slowest = get_json(base, "/logs/slowest_calls")
    assert len(slowest) == 3
    assert [s["duration_ms"] for s in slowest] == sorted((s["duration_ms"] for s in slowest), reverse=True)
    session = lane.last_turn()["response_json"]["sessionId"]
    [one] = get_json(base, "/logs/consultation_calls", id=session)
    assert one["cli"] == "gemini" and one["prompt"] == "summarize the changelog"


def test_datasette_full_text_search_finds_prompts_and_responses(served):
    base, _ = served
    found = get_json(base, "/logs/calls", _search="pelicans")
    assert [r["cli"] for r in found] == ["claude"]
    # The last call of the last gateway process is searchable too: the gateway indexes on exit.
    found = get_json(base, "/logs/calls", _search="changelog")
    assert [r["cli"] for r in found] == ["gemini"]
