"""The llm plugin against the built gateway and the project's fake CLIs, through the real `llm`."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import llm
import pytest

from conftest import LLM, MAIN, NODE, VENV_BIN

CLIS = ["claude", "codex", "gemini"]
RESUME = {
    "claude": lambda sid: ["--resume", sid],
    "codex": lambda sid: ["resume", sid],
    "gemini": lambda sid: ["--resume", sid],
}


def contains_run(argv: list[str], run: list[str]) -> bool:
    return any(argv[i : i + len(run)] == run for i in range(len(argv)))


def test_llm_models_lists_the_three_models_with_their_options(lane):
    out = lane.llm("models", "--options").stdout
    for cli in CLIS:
        assert f"llm-cli-gateway: gateway-{cli}" in out
    section = {cli: out.split(f"gateway-{cli}\n", 1)[1].split("llm-cli-gateway:", 1)[0] for cli in CLIS}
    for cli in CLIS:
        for common in ("model:", "cwd:", "timeout:", "approval_strategy:", "approval_policy:", "optimize_prompt:"):
            assert common in section[cli], (cli, common)
    assert "dangerously_skip_permissions:" in section["claude"]
    assert "full_auto:" in section["codex"] and "allowed_tools" not in section["codex"]
    assert "approval_mode:" in section["gemini"] and "include_dirs:" in section["gemini"]


@pytest.mark.parametrize("cli", CLIS)
def test_each_model_answers_through_the_gateway(lane, cli):
    result = lane.llm("-m", f"gateway-{cli}", "hello there")
    assert result.stdout == "FAKE-REPLY: hello there\n"
    [run] = lane.invocations()
    assert run["cli"] == cli and run["stdin"] == "hello there"
    assert run["cwd"] == str(lane.workdir)
    turn = lane.last_turn()
    assert turn["model"] == f"gateway-{cli}"
    data = turn["response_json"]
    assert data["cli"] == cli and data["sessionId"] and data["correlationId"] == turn["id"]
    assert {"durationMs", "costUsd", "model", "usage"} <= data.keys()
    # set_usage: llm's token columns hold the CLI's figures.
    assert turn["input_tokens"] == data["usage"]["inputTokens"] and turn["input_tokens"] > 0
    assert turn["output_tokens"] == data["usage"]["outputTokens"]


def test_options_reach_each_clis_argv(lane, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    lane.llm(
        "-m", "gateway-claude", "x",
        "-o", "model", "sonnet",
        "-o", "allowed_tools", "Read,Bash(git log:*)",
        "-o", "disallowed_tools", '["Write"]',
        "-o", "cwd", str(other),
    )  # fmt: skip
    lane.llm("-m", "gateway-codex", "x", "-o", "full_auto", "true", "-o", "model", "gpt-6.1-sol")
    lane.llm(
        "-m", "gateway-gemini", "x",
        "-o", "approval_mode", "yolo",
        "-o", "include_dirs", str(other),
        "-o", "model", "gemini-2.5-pro",
    )  # fmt: skip
    claude, codex, gemini = lane.invocations()
    assert contains_run(claude["argv"], ["--model", "sonnet"])
    assert contains_run(claude["argv"], ["--allowedTools", "Read", "Bash(git log:*)"])
    assert contains_run(claude["argv"], ["--disallowedTools", "Write"])
    assert claude["cwd"] == str(other)
    assert contains_run(codex["argv"], ["-s", "workspace-write"])
    assert contains_run(codex["argv"], ["-m", "gpt-6.1-sol"])
    assert contains_run(gemini["argv"], ["--approval-mode", "yolo"])
    assert contains_run(gemini["argv"], ["--include-directories", str(other)])
    assert contains_run(gemini["argv"], ["-m", "gemini-2.5-pro"])


def test_timeout_option_reaches_the_gateway(lane):
    result = lane.llm("-m", "gateway-codex", "-o", "timeout", "1", "[[fake:sleep=5000]] slow", check=False)
    assert result.returncode != 0
    assert "[timeout] Process timed out after 1000ms" in result.stderr


@pytest.mark.parametrize(
    "model,option,value,expected",
    [
        ("gateway-claude", "no_such_option", "1", "no_such_option\n  Extra inputs are not permitted"),
        ("gateway-codex", "allowed_tools", "Read", "allowed_tools\n  Extra inputs are not permitted"),
        ("gateway-gemini", "approval_mode", "sometimes", "approval_mode\n  Input should be 'default', 'auto_edit' or 'yolo'"),
        ("gateway-claude", "timeout", "0", "timeout\n  Input should be greater than or equal to 1"),
        ("gateway-claude", "cwd", "/no/such/dir", "cwd\n  Value error, /no/such/dir is not a directory"),
        ("gateway-claude", "model", "--help", "model\n  Value error, must be a model id or alias"),
        ("gateway-codex", "full_auto", "maybe", "full_auto\n  Input should be a valid boolean"),
    ],
)  # fmt: skip
def test_bad_options_are_refused_before_anything_runs(lane, model, option, value, expected):
    result = lane.llm("-m", model, "-o", option, value, "hi", check=False)
    assert result.returncode != 0
    assert expected in result.stderr
    assert lane.invocations() == []
    assert not (lane.home / ".llm-cli-gateway").exists(), "the gateway must not even start"


def test_codex_sandbox_options_that_contradict_each_other_are_refused(lane):
    result = lane.llm(
        "-m", "gateway-codex", "-o", "full_auto", "1",
        "-o", "dangerously_bypass_approvals_and_sandbox", "1", "hi", check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "full_auto and dangerously_bypass_approvals_and_sandbox cannot be combined" in result.stderr
    assert lane.invocations() == []


def test_system_prompt_uses_claudes_flag(lane):
    lane.llm("-m", "gateway-claude", "-s", "Answer in French.", "hi")
    [run] = lane.invocations()
    i = run["argv"].index("--append-system-prompt-file")
    assert run["argv"][i + 1].endswith("append-system-prompt.md")
    assert "Answer in French." not in run["argv"]
    # claude keeps no system prompt in its session: a continued turn sends the conversation's again.
    lane.llm("-c", "and again")
    assert "--append-system-prompt-file" in lane.invocations()[1]["argv"]


@pytest.mark.parametrize("cli", ["codex", "gemini"])
def test_system_prompt_is_refused_where_the_cli_has_no_flag(lane, cli):
    result = lane.llm("-m", f"gateway-{cli}", "-s", "Answer in French.", "hi", check=False)
    assert result.returncode != 0
    assert f"-s/--system is not supported by gateway-{cli}" in result.stderr
    assert f"{cli} has no system-prompt flag" in result.stderr or f"{cli} exec has no system-prompt flag" in result.stderr
    assert lane.invocations() == []


@pytest.mark.parametrize("cli", CLIS)
def test_continue_resumes_the_clis_native_session(lane, cli):
    lane.llm("-m", f"gateway-{cli}", "first turn")
    first = lane.last_turn()
    session = first["response_json"]["sessionId"]
    result = lane.llm("-c", "second turn")
    assert result.stdout == "FAKE-REPLY: second turn\n"
    one, two = lane.invocations()
    assert not contains_run(one["argv"], RESUME[cli](session))
    assert contains_run(two["argv"], RESUME[cli](session)), two["argv"]
    second = lane.last_turn()
    assert second["thread_id"] == first["thread_id"]
    assert second["response_json"]["sessionId"] == session


def test_cid_picks_the_conversation_and_a_new_prompt_starts_a_new_session(lane):
    lane.llm("-m", "gateway-claude", "conversation A")
    a = lane.last_turn()
    lane.llm("-m", "gateway-claude", "conversation B")
    b = lane.last_turn()
    assert a["response_json"]["sessionId"] != b["response_json"]["sessionId"]
    lane.llm("--cid", a["thread_id"], "back to A")
    runs = lane.invocations()
    assert "--resume" not in runs[1]["argv"], "a prompt without -c is a new CLI session"
    assert contains_run(runs[2]["argv"], ["--resume", a["response_json"]["sessionId"]])


def test_a_conversation_resumes_in_the_directory_it_started_in(lane, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    lane.llm("-m", "gateway-claude", "started here")
    lane.llm("-c", "continued from elsewhere", cwd=other)
    first, second = lane.invocations()
    assert second["cwd"] == first["cwd"] == str(lane.workdir)
    refused = lane.llm("-c", "-o", "cwd", str(other), "somewhere else", check=False)
    assert refused.returncode != 0
    assert f"started in {lane.workdir}" in refused.stderr
    assert "claude finds sessions by directory" in refused.stderr
    assert len(lane.invocations()) == 2


def test_continuing_with_another_gateway_model_is_refused(lane):
    lane.llm("-m", "gateway-claude", "claude conversation")
    result = lane.llm("-c", "-m", "gateway-codex", "now codex", check=False)
    assert result.returncode != 0
    assert "This conversation is a claude session; continue it with -m gateway-claude" in result.stderr
    assert len(lane.invocations()) == 1


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[str]:
    """The shell commands of the README's "Use it from llm" section, as written there."""
    text = README.read_text().split("## Use it from `llm`", 1)[1]
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    lines = [line.split("  #", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and line != "llm install llm-gateway"]


README_JOIN = next(c for c in readme_commands() if c.startswith("sqlite-utils"))


def test_the_readme_commands_run_as_written(lane):
    env = {**lane.env, "PATH": f"{VENV_BIN}:{lane.env['PATH']}"}
    commands = [c for c in readme_commands() if c.startswith("llm ") and not c.startswith("llm install")]
    assert len(commands) == 7, commands
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=lane.workdir, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stderr)
    explain, below, review, sonnet, fix, summarize = lane.invocations()
    assert below["stdin"] == "and the one below it"
    assert contains_run(below["argv"], ["--resume", lane_turn_session(lane, "explain this function")])
    assert review["cli"] == "codex" and review["stdin"] == "review the diff"
    assert contains_run(sonnet["argv"], ["--allowedTools", "Read", "Bash(git log:*)"])
    assert contains_run(fix["argv"], ["-s", "workspace-write"])
    assert contains_run(summarize["argv"], ["--approval-mode", "yolo"])


def lane_turn_session(lane, prompt: str) -> str:
    with sqlite3.connect(lane.gateway_db) as db:
        return db.execute("select native_session_id from calls where prompt = ?", [prompt]).fetchone()[0]


def test_both_logs_hold_the_call_under_one_correlation_id(lane):
    lane.llm("-m", "gateway-claude", "logged twice")
    claude_turn = lane.last_turn()
    lane.llm("-m", "gateway-gemini", "logged twice too")
    gemini_turn = lane.last_turn()
    db = sqlite3.connect(lane.llm_db)
    db.execute("attach database ? as gateway", [str(lane.gateway_db)])
    rows = db.execute(
        "select turns.id, turns.model, turns.input_tokens, calls.cli, calls.status, calls.input_tokens,"
        " calls.prompt, calls.response from turns join gateway.calls on calls.correlation_id = turns.id"
        " order by turns.id"
    ).fetchall()
    assert [r[1:5] + r[6:] for r in rows] == [
        ("gateway-claude", 21800, "claude", "completed", "logged twice", "FAKE-REPLY: logged twice"),
        ("gateway-gemini", rows[1][2], "gemini", "completed", "logged twice too", "FAKE-REPLY: logged twice too"),
    ]
    assert [r[2] for r in rows] == [r[5] for r in rows]
    # The id is in response_json too, as llm logs --json shows it.
    assert [claude_turn["response_json"]["correlationId"], gemini_turn["response_json"]["correlationId"]] == [
        r[0] for r in rows
    ]
    logged = json.loads(lane.llm("logs", "-n", "1", "--json").stdout)[0]
    assert logged["response_json"]["correlationId"] == rows[1][0]
    assert logged["response_json"]["sessionId"] == gemini_turn["response_json"]["sessionId"]


def test_the_readme_join_query_finds_the_call_in_both_logs(lane):
    lane.llm("-m", "gateway-codex", "joined")
    turn = lane.last_turn()
    env = {**lane.env, "PATH": f"{VENV_BIN}:{lane.env['PATH']}"}
    out = subprocess.run(["bash", "-c", README_JOIN], env=env, capture_output=True, text=True, check=True)
    [row] = json.loads(out.stdout)
    assert row["id"] == turn["id"] and row["model"] == "gateway-codex"
    assert (row["cli"], row["status"]) == ("codex", "completed")
    assert row["input_tokens"] == turn["input_tokens"] and row["duration_ms"] is not None


def test_gateway_errors_become_model_errors_with_their_category(lane):
    # No claude anywhere on the gateway's PATH: the gateway's cli_not_found.
    env = {"PATH": "/nonexistent", "LLM_GATEWAY_COMMAND": f"{NODE} {MAIN}"}
    result = lane.llm("-m", "gateway-claude", "hi", env=env, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: [cli_not_found] Error executing claude CLI")
    # A CLI's own failure (a captured real sample), with the gateway's category.
    failed = lane.llm("-m", "gateway-codex", "[[fake:sample=codex-fault-500]]", check=False)
    assert failed.returncode == 1 and failed.stderr.startswith("Error: [")
    with sqlite3.connect(lane.gateway_db) as db:
        category = db.execute("select error_category from calls where cli = 'codex'").fetchone()[0]
    assert failed.stderr.startswith(f"Error: [{category}] ")


def test_model_error_is_the_exception_python_callers_get(lane, monkeypatch):
    for key, value in {**lane.env, "PATH": "/nonexistent"}.items():
        monkeypatch.setenv(key, value)
    model = llm.get_model("gateway-gemini")
    with pytest.raises(llm.ModelError, match=r"^\[cli_not_found\] "):
        model.prompt("hi").text()


def test_a_gateway_that_cannot_start_says_what_was_tried_and_how_to_fix_it(lane):
    missing = lane.llm("-m", "gateway-claude", "hi", env={"LLM_GATEWAY_COMMAND": "no-such-gateway --stdio"}, check=False)
    assert missing.returncode == 1
    assert "Could not start the gateway: `no-such-gateway --stdio` was not found" in missing.stderr
    assert "npm install -g llm-cli-gateway" in missing.stderr and "LLM_GATEWAY_COMMAND" in missing.stderr
    broken = lane.llm("-m", "gateway-claude", "hi", env={"LLM_GATEWAY_TIMEOUT_MS": "soon"}, check=False)
    assert broken.returncode == 1
    assert f"The gateway `{NODE} {MAIN}` stopped before answering" in broken.stderr
    assert 'LLM_GATEWAY_TIMEOUT_MS must be a positive integer, got "soon"' in broken.stderr
    option = lane.llm("-m", "gateway-claude", "-o", "gateway_command", "other-missing-gateway", "hi", check=False)
    assert "`other-missing-gateway` was not found" in option.stderr


def test_the_gateway_gets_the_users_whole_environment(lane, tmp_path):
    # The SDK's stdio client alone would pass only HOME, PATH, SHELL, TERM, USER and LOGNAME.
    custom = tmp_path / "custom-recorder.db"
    lane.llm("-m", "gateway-claude", "hi", env={"LLM_GATEWAY_LOGS_DB": str(custom)})
    with sqlite3.connect(custom) as db:
        assert db.execute("select count(*) from calls").fetchone()[0] == 1
    assert not lane.gateway_db.exists()


def test_default_command_is_the_llm_cli_gateway_bin(lane, tmp_path):
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    shim = shim_dir / "llm-cli-gateway"
    shim.write_text(f"#!/bin/sh\nexec {NODE} {MAIN} \"$@\"\n")
    shim.chmod(0o755)
    env = {k: v for k, v in lane.env.items() if k != "LLM_GATEWAY_COMMAND"}
    env["PATH"] = f"{shim_dir}:{env['PATH']}"
    result = subprocess.run(
        [LLM, "-m", "gateway-codex", "via the bin"], cwd=lane.workdir, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "FAKE-REPLY: via the bin\n"


def test_async_model_and_python_conversations(lane, monkeypatch):
    for key, value in lane.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(lane.workdir)
    conversation = llm.get_model("gateway-claude").conversation()
    assert conversation.prompt("python one").text() == "FAKE-REPLY: python one"
    assert conversation.prompt("python two").text() == "FAKE-REPLY: python two"
    one, two = lane.invocations()
    session = conversation.responses[0].response_json["sessionId"]
    assert contains_run(two["argv"], ["--resume", session])

    result = lane.llm("-m", "gateway-codex", "--async", "async one")
    assert result.stdout == "FAKE-REPLY: async one\n"
    lane.llm("-c", "--async", "async two")
    codex_one, codex_two = lane.invocations()[2:]
    assert contains_run(codex_two["argv"], ["resume", lane.last_turn()["response_json"]["sessionId"]])


def test_gateway_url_talks_streamable_http_and_says_when_it_cannot(lane):
    # The gateway's HTTP transport is not built yet: a closed loopback port shows the URL path.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mcp"
    result = lane.llm("-m", "gateway-claude", "-o", "gateway_url", url, "hi", check=False)
    assert result.returncode == 1
    assert f"[gateway_unavailable] Could not reach the gateway at {url}" in result.stderr
    assert lane.invocations() == [] and not (lane.home / ".llm-cli-gateway").exists()
    bad = lane.llm("-m", "gateway-claude", "-o", "gateway_url", "file:///etc/passwd", "hi", check=False)
    assert "gateway_url\n  Value error, must be an http:// or https:// URL" in bad.stderr


def test_the_main_readme_shows_only_commands_that_run_here():
    """The main README's "Use it from llm" section repeats commands of this package's README (run above)."""
    main = (README.parents[2] / "README.md").read_text().split("## Use it from `llm`", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", main, re.S)
    shown = [line.split("  #", 1)[0].strip() for block in blocks for line in block.splitlines()]
    shown = [line for line in shown if line and line != "llm install llm-gateway"]
    assert len(shown) >= 5 and set(shown) <= set(readme_commands()), shown
