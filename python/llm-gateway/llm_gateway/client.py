"""One request tool call to llm-cli-gateway over MCP, with the official Python SDK.

By default the gateway is started on stdio (`llm-cli-gateway`, or the command in
`LLM_GATEWAY_COMMAND` / `-o gateway_command`) with the user's whole environment, so API keys,
proxies and `LLM_GATEWAY_*` settings reach it and its CLIs as they do from any MCP client (the
SDK's stdio client passes only HOME, PATH, SHELL, TERM, USER and LOGNAME unless given `env`).
`LLM_GATEWAY_URL` / `-o gateway_url` talks to a running gateway over Streamable HTTP instead.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import tempfile
from dataclasses import dataclass
from typing import Any, AsyncIterator, Optional

import llm
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import Implementation

DEFAULT_COMMAND = "llm-cli-gateway"
FIX_HINT = (
    "Install the gateway (npm install -g llm-cli-gateway), or point LLM_GATEWAY_COMMAND "
    "(or -o gateway_command) at it, e.g. LLM_GATEWAY_COMMAND='node /path/to/llm-cli-gateway/dist/main.js'"
)
STDERR_TAIL = 2000


@dataclass
class Target:
    """Where the gateway is: a stdio command line, or an HTTP URL."""

    command: Optional[list[str]] = None
    url: Optional[str] = None

    def describe(self) -> str:
        return self.url if self.url else shlex.join(self.command or [])


def resolve_target(command: Optional[str], url: Optional[str]) -> Target:
    """Option first, then environment, then the default command."""
    url = url or os.environ.get("LLM_GATEWAY_URL") or None
    if url:
        return Target(url=url)
    line = command or os.environ.get("LLM_GATEWAY_COMMAND") or DEFAULT_COMMAND
    parts = shlex.split(line)
    if not parts:
        raise llm.ModelError("LLM_GATEWAY_COMMAND is empty: " + FIX_HINT)
    return Target(command=parts)


def client_info() -> Implementation:
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("llm-gateway")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout
        own = "0"
    return Implementation(name="llm-gateway", version=own)


def _http_transport(url: str) -> Any:
    """The URL as is, or with `Authorization: Bearer $LLM_GATEWAY_TOKEN` (a gateway's `token create`).

    The token is read from the environment only: an `-o` option would put it on the command line.
    """
    token = os.environ.get("LLM_GATEWAY_TOKEN")
    return _with_bearer(url, token) if token else url


@contextlib.asynccontextmanager
async def _with_bearer(url: str, token: str) -> AsyncIterator[Any]:
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            yield streams


async def call_request_tool(
    target: Target, tool: str, arguments: dict[str, Any], timeout_s: Optional[float]
) -> dict[str, Any]:
    """Calls `tool` once and returns its structuredContent; raises llm.ModelError on any failure."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as errlog:
        try:
            if target.url:
                transport: Any = _http_transport(target.url)
            else:
                params = StdioServerParameters(
                    command=target.command[0],
                    args=target.command[1:],
                    env=dict(os.environ),
                )
                transport = stdio_client(params, errlog=errlog)
            async with Client(transport, mode="legacy", client_info=client_info()) as client:
                result = await client.call_tool(tool, arguments, read_timeout_seconds=timeout_s)
        except llm.ModelError:
            raise
        except FileNotFoundError as err:
            raise llm.ModelError(
                f"[gateway_not_found] Could not start the gateway: `{target.describe()}` was not found "
                f"({err.strerror}). {FIX_HINT}"
            ) from None
        except PermissionError as err:
            raise llm.ModelError(
                f"[gateway_not_found] Could not start the gateway `{target.describe()}`: {err.strerror}. {FIX_HINT}"
            ) from None
        except MCPError as err:
            raise llm.ModelError(
                f"[gateway_error] {tool} failed in the gateway `{target.describe()}`: {err}{_tail(errlog)}"
            ) from None
        except Exception as err:  # noqa: BLE001 - every transport failure becomes one clear message
            raise llm.ModelError(_connection_failure(target, err, errlog)) from None
    if result.is_error:
        raise llm.ModelError(_error_text(result))
    structured = result.structured_content
    if not isinstance(structured, dict):
        raise llm.ModelError(f"[gateway_error] {tool} returned no structuredContent")
    return structured


def _error_text(result: Any) -> str:
    """The gateway's own `[category] message` text; the category from structuredContent if missing."""
    text = "\n".join(getattr(block, "text", "") for block in result.content).strip()
    error = (result.structured_content or {}).get("error") if isinstance(result.structured_content, dict) else None
    if error and not text.startswith("["):
        return f"[{error.get('category')}] {error.get('message')}"
    if not text.startswith("["):
        # The MCP SDK's own refusal (schema validation) carries no category.
        return f"[invalid_input] {text}"
    return text


def _connection_failure(target: Target, err: BaseException, errlog: Any) -> str:
    errors = _leaf_errors(err)
    what = "; ".join(f"{type(e).__name__}: {e}" for e in errors) or type(err).__name__
    if target.url:
        message = f"[gateway_unavailable] Could not reach the gateway at {target.url}: {what}"
        if "Unauthorized" in what:
            has = "is not valid there" if os.environ.get("LLM_GATEWAY_TOKEN") else "is not set"
            message += f". LLM_GATEWAY_TOKEN {has}: set it to a token of that gateway's `token create`."
        return message
    tail = _tail(errlog)
    message = f"[gateway_unavailable] The gateway `{target.describe()}` stopped before answering ({what})."
    return message + (tail if tail else f" {FIX_HINT}")


def _leaf_errors(err: BaseException) -> list[BaseException]:
    """anyio wraps failures in exception groups; the innermost ones say what happened."""
    inner = getattr(err, "exceptions", None)
    if inner:
        return [leaf for sub in inner for leaf in _leaf_errors(sub)]
    return [err]


def _tail(errlog: Any) -> str:
    try:
        errlog.flush()
        errlog.seek(0)
        text = errlog.read().strip()
    except (OSError, ValueError):
        return ""
    if not text:
        return ""
    return f"\nThe gateway's stderr ended with:\n{text[-STDERR_TAIL:]}\n"
