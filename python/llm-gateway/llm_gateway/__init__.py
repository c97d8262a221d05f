"""llm models gateway-claude, gateway-codex and gateway-gemini: one prompt = one `<cli>_request`
call to llm-cli-gateway, the same pipeline (sessions, retries, breakers, approvals, flight
recorder) every MCP client goes through.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, Optional

import llm
from llm.parts import StreamEvent

from .client import call_request_tool, resolve_target
from .options import OPTIONS, GatewayOptions, tool_arguments

CLIS = ("claude", "codex", "gemini")
# Where the gateway's session travels with the conversation: on the answer's text part (llm stores
# it with the message, and `llm -c` loads it back), and in response_json for logs and queries.
METADATA_KEY = "llm_gateway"
NO_SYSTEM_FLAG = {
    "codex": "codex exec has no system-prompt flag",
    "gemini": "gemini has no system-prompt flag (only GEMINI_SYSTEM_MD, a file that replaces its whole system prompt)",
}


@llm.hookimpl
def register_models(register):
    for cli in CLIS:
        register(GatewayModel(cli), GatewayAsyncModel(cli))


class _GatewayMixin:
    can_stream = False
    supports_schema = False
    supports_tools = False

    def __init__(self, cli: str):
        self.cli = cli
        self.model_id = f"gateway-{cli}"
        self.Options = OPTIONS[cli]

    def __str__(self) -> str:
        return f"llm-cli-gateway: {self.model_id}"

    def _request(self, prompt: llm.Prompt, response: Any, conversation: Any) -> tuple[dict, dict]:
        """The tool arguments for this prompt, and what to remember of the conversation so far."""
        options: GatewayOptions = prompt.options
        args: dict[str, Any] = {"prompt": prompt.prompt, "correlationId": response.id}
        args.update(tool_arguments(self.cli, options))
        previous = previous_turn(prompt, conversation)
        if previous:
            if previous.get("cli") != self.cli:
                raise llm.ModelError(
                    f"[invalid_input] This conversation is a {previous.get('cli')} session; "
                    f"continue it with -m gateway-{previous.get('cli')}"
                )
            if not previous.get("sessionId"):
                raise llm.ModelError(
                    "[invalid_input] The previous answer in this conversation has no gateway sessionId to resume"
                )
            args["sessionId"] = previous["sessionId"]
        elif has_foreign_history(prompt):
            raise llm.ModelError(
                f"[invalid_input] This conversation did not start with a gateway model, so {self.cli} has no "
                "session to resume; start a new conversation (without -c/--cid)"
            )
        else:
            # A fresh llm conversation is a fresh CLI session, whatever session_set_active says.
            args["createNewSession"] = True
        system = prompt.system or (previous_system(prompt) if previous else None)
        if system:
            if self.cli != "claude":
                raise llm.ModelError(
                    f"[invalid_input] -s/--system is not supported by {self.model_id}: "
                    f"{NO_SYSTEM_FLAG[self.cli]}, and the plugin does not drop it silently. "
                    "Put the instructions in the prompt instead."
                )
            args["appendSystemPrompt"] = system
        cwd = args.get("cwd") or (previous or {}).get("cwd") or os.getcwd()
        return args, {"cwd": cwd}

    def _target(self, options: GatewayOptions):
        return resolve_target(options.gateway_command, options.gateway_url)

    def _timeout(self, options: GatewayOptions) -> Optional[float]:
        # The gateway stops the CLI at `timeout`; the MCP read waits a little longer for that answer.
        return None if options.timeout is None else options.timeout + 30

    def _finish(self, response: Any, result: dict, remembered: dict) -> StreamEvent:
        usage = result.get("usage") or {}
        details = {
            key: usage[key]
            for key in ("cacheReadTokens", "cacheWriteTokens", "reasoningTokens")
            if usage.get(key) is not None
        }
        response.set_usage(
            input=usage.get("inputTokens"), output=usage.get("outputTokens"), details=details or None
        )
        if result.get("model"):
            response.set_resolved_model(result["model"])
        session = {
            "cli": result.get("cli", self.cli),
            "sessionId": result.get("sessionId"),
            "gatewaySessionId": result.get("gatewaySessionId"),
            "cwd": remembered["cwd"],
        }
        response.response_json = {
            "correlationId": result.get("correlationId"),
            **session,
            "model": result.get("model"),
            "durationMs": result.get("durationMs"),
            "costUsd": result.get("costUsd"),
            "usage": usage,
            "retryCount": result.get("retryCount"),
            "turns": result.get("turns"),
        }
        for key in ("optimization", "approval", "mcpServers"):
            if result.get(key):
                response.response_json[key] = result[key]
        return StreamEvent(
            type="text", chunk=result.get("text", ""), provider_metadata={METADATA_KEY: session}
        )


class GatewayModel(_GatewayMixin, llm.Model):
    def execute(self, prompt, stream, response, conversation):
        args, remembered = self._request(prompt, response, conversation)
        coro = call_request_tool(
            self._target(prompt.options), f"{self.cli}_request", args, self._timeout(prompt.options)
        )
        result = run_sync(coro)
        yield self._finish(response, result, remembered)


class GatewayAsyncModel(_GatewayMixin, llm.AsyncModel):
    async def execute(self, prompt, stream, response, conversation):
        args, remembered = self._request(prompt, response, conversation)
        result = await call_request_tool(
            self._target(prompt.options), f"{self.cli}_request", args, self._timeout(prompt.options)
        )
        yield self._finish(response, result, remembered)


def previous_turn(prompt: llm.Prompt, conversation: Any) -> Optional[dict]:
    """The gateway session of the conversation's last answer, if it came from a gateway model.

    `llm -c` loads the history as messages (the answer's part carries the session); a conversation
    built in Python also has its live responses, whose response_json holds the same fields.
    """
    for message in reversed(prompt.messages):
        if message.role != "assistant":
            continue
        for part in message.parts:
            found = (getattr(part, "provider_metadata", None) or {}).get(METADATA_KEY)
            if found:
                return found
        return None
    for earlier in reversed(getattr(conversation, "responses", None) or []):
        data = getattr(earlier, "response_json", None) or {}
        if data.get("sessionId") or data.get("cli"):
            return data
    return None


def has_foreign_history(prompt: llm.Prompt) -> bool:
    return any(message.role == "assistant" for message in prompt.messages)


def previous_system(prompt: llm.Prompt) -> Optional[str]:
    """claude takes its system prompt per run, not from the session: re-send the conversation's last one."""
    for message in reversed(prompt.messages):
        if message.role == "system":
            return "\n".join(getattr(part, "text", "") for part in message.parts).strip() or None
    return None


def run_sync(coro):
    """Runs a coroutine from llm's sync API, also when the caller already has an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def worker():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = err

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
