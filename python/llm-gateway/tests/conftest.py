"""Fixtures: the built gateway (dist/main.js), the project's fake CLIs, and throw-away homes.

Every test gets its own HOME (so the gateway's ~/.llm-cli-gateway and the CLIs' state are
temporary) and its own LLM_USER_PATH (so llm's logs.db is too). Nothing touches the user's files.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlite_utils
from llm.logs import LogStore

REPO = Path(__file__).resolve().parents[3]
MAIN = REPO / "dist" / "main.js"
NODE = shutil.which("node") or "node"
# The llm and datasette of the virtualenv pytest runs in.
VENV_BIN = Path(sys.executable).parent
LLM = str(VENV_BIN / "llm")


def node_eval(code: str) -> str:
    out = subprocess.run(
        # The extra argument keeps a module's "am I the main script?" check (argv[1]) working.
        [NODE, "--input-type=module", "-e", code, "eval"], cwd=REPO, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@pytest.fixture(scope="session")
def built_gateway() -> Path:
    if not MAIN.exists():
        pytest.fail(f"{MAIN} is missing: run `npm run build` first")
    return MAIN


@pytest.fixture(scope="session")
def fake_bin(built_gateway):
    path = node_eval('import("./test/fakes/install-fakes.mjs").then((m) => console.log(m.installFakeClis()))')
    yield path
    shutil.rmtree(path, ignore_errors=True)


# Settings of the developer's shell that would change what the tests see.
SCRUB = ("LLM_GATEWAY_", "LLM_USER_PATH", "LLM_RAISE_ERRORS", "FAKE_CLI_LOG", "DEBUG")


@dataclass
class Lane:
    """One test's world: its homes, its environment, and what the fake CLIs recorded."""

    root: Path
    env: dict = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    @property
    def gateway_db(self) -> Path:
        return self.home / ".llm-cli-gateway" / "logs.db"

    @property
    def llm_db(self) -> Path:
        return self.root / "llm" / "logs.db"

    def llm(self, *args: str, cwd: Path | None = None, env: dict | None = None, check: bool = True):
        """Runs the real `llm` command, as a user would."""
        result = subprocess.run(
            [LLM, *args],
            cwd=cwd or self.workdir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=180,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"llm {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def invocations(self) -> list[dict]:
        log = Path(self.env["FAKE_CLI_LOG"])
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if '"cli"' in line]

    def last_turn(self) -> dict:
        """llm's own record of the last prompt (the turns table of llm 0.36's logs.db)."""
        with sqlite3.connect(self.llm_db) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("select * from turns order by id desc limit 1").fetchone()
        data = dict(row)
        # llm stores response_json condensed against the turn's messages; LogStore resolves it.
        data["response_json"] = LogStore(sqlite_utils.Database(self.llm_db)).turn_response_json(data["id"])
        return data


def base_env(root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB)}
    (root / "home").mkdir(parents=True)
    (root / "work").mkdir()
    (root / "llm").mkdir()
    (root / "tmp").mkdir()
    env.update(
        HOME=str(root / "home"),
        TMPDIR=str(root / "tmp"),
        LLM_USER_PATH=str(root / "llm"),
        LLM_GATEWAY_COMMAND=f"{NODE} {MAIN}",
    )
    return env


def make_lane(root: Path, fake_bin: str) -> Lane:
    env = base_env(root)
    env.update(
        PATH=f"{fake_bin}{os.pathsep}{env.get('PATH', '')}",
        FAKE_CLI_LOG=str(root / "invocations.jsonl"),
        # Failures show as they are: retries and breakers have their own tests in the gateway.
        LLM_GATEWAY_RETRY_MAX_ATTEMPTS="1",
        LLM_GATEWAY_BREAKER_THRESHOLD="1000",
    )
    return Lane(root=root, env=env)


@pytest.fixture
def lane(tmp_path, fake_bin) -> Lane:
    return make_lane(tmp_path, fake_bin)
