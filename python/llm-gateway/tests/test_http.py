"""The plugin against one long-running gateway over Streamable HTTP (`serve --http`), with a token."""

from __future__ import annotations

import re
import sqlite3
import subprocess

import pytest

from conftest import MAIN, NODE, Lane


@pytest.fixture
def http_gateway(lane: Lane):
    """`serve --http` on a free loopback port in the lane's home, after `token create --name py`."""
    made = subprocess.run(
        [NODE, str(MAIN), "token", "create", "--name", "py"],
        env=lane.env, capture_output=True, text=True, check=True, timeout=60,
    )
    token = made.stdout.strip().splitlines()[0]
    server = subprocess.Popen(
        [NODE, str(MAIN), "serve", "--http", "--port", "0"],
        env=lane.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = None
        for line in server.stderr:
            found = re.search(r"listening on (http://\S+/mcp)", line)
            if found:
                url = found.group(1)
                break
        assert url, "the gateway never said where it listens"
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_prompt_with_the_token_is_answered_and_recorded_as_the_tokens(lane: Lane, http_gateway):
    url, token = http_gateway
    result = lane.llm("-m", "gateway-claude", "hello over http", env={"LLM_GATEWAY_URL": url, "LLM_GATEWAY_TOKEN": token})
    assert result.stdout.strip() == "FAKE-REPLY: hello over http"
    assert lane.invocations()[-1]["stdin"] == "hello over http"
    with sqlite3.connect(lane.gateway_db) as db:
        assert db.execute("select client_token from calls order by id desc limit 1").fetchone() == ("py",)
    # The token was on no command line: only in the environment.
    assert token not in " ".join(lane.invocations()[-1]["argv"])


def test_without_the_token_the_gateway_refuses_and_llm_says_so(lane: Lane, http_gateway):
    url, _ = http_gateway
    result = lane.llm("-m", "gateway-claude", "no token", env={"LLM_GATEWAY_URL": url}, check=False)
    assert result.returncode != 0
    assert "[gateway_unavailable]" in result.stderr and url in result.stderr
    assert "Unauthorized" in result.stderr and "LLM_GATEWAY_TOKEN is not set" in result.stderr
    assert lane.invocations() == []
    wrong = lane.llm(
        "-m", "gateway-claude", "bad token", env={"LLM_GATEWAY_URL": url, "LLM_GATEWAY_TOKEN": "lcg_wrong"}, check=False
    )
    assert wrong.returncode != 0 and "LLM_GATEWAY_TOKEN is not valid there" in wrong.stderr
    assert lane.invocations() == []
