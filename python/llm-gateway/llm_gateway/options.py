"""The `-o name value` options of the gateway models, and how they become tool arguments.

llm validates `-o` values against these pydantic models before a model runs, so an unknown or
invalid option is refused before any gateway or CLI starts.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Literal, Optional

import llm
from pydantic import Field, field_validator, model_validator

MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.:/\[\]-]*$")


def _tool_list(value: Any) -> Optional[list[str]]:
    """A list option: a JSON array, or names separated by commas."""
    if value is None or isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a JSON array of strings or a comma-separated list")
    text = value.strip()
    if text.startswith("["):
        parsed = json.loads(text)
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise ValueError("must be a JSON array of strings")
        return parsed
    return [part.strip() for part in text.split(",") if part.strip()]


class GatewayOptions(llm.Options):
    """Options every gateway model takes."""

    model: Optional[str] = Field(
        default=None,
        description="The CLI's model or a gateway alias, e.g. sonnet, gpt-6.1-sol, gemini-2.5-pro, latest",
        max_length=100,
    )
    cwd: Optional[str] = Field(
        default=None,
        description="Directory the CLI runs in (default: the current one; a continued conversation resumes where it started)",
    )
    timeout: Optional[int] = Field(
        default=None, description="Seconds before the gateway stops the CLI", ge=1, le=86_400
    )
    approval_strategy: Optional[Literal["legacy", "mcp_managed"]] = Field(
        default=None, description="legacy (the CLI's flags as given) or mcp_managed (gateway policy)"
    )
    approval_policy: Optional[Literal["strict", "balanced", "permissive"]] = Field(
        default=None, description="Policy for approval_strategy mcp_managed"
    )
    optimize_prompt: Optional[bool] = Field(
        default=None, description="Compact the prompt with meaning-preserving rules"
    )
    optimize_response: Optional[bool] = Field(
        default=None, description="Compact the answer with meaning-preserving rules"
    )
    gateway_command: Optional[str] = Field(
        default=None,
        description="Command that starts the gateway on stdio (default: $LLM_GATEWAY_COMMAND, else llm-cli-gateway)",
    )
    gateway_url: Optional[str] = Field(
        default=None,
        description="Streamable HTTP URL of a running gateway (default: $LLM_GATEWAY_URL); overrides gateway_command",
    )

    @field_validator("model")
    @classmethod
    def _model_id(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not MODEL_ID.match(value):
            raise ValueError("must be a model id or alias such as sonnet or latest")
        return value

    @field_validator("cwd")
    @classmethod
    def _directory(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        path = os.path.abspath(os.path.expanduser(value))
        if not os.path.isdir(path):
            raise ValueError(f"{value} is not a directory")
        return path

    @field_validator("gateway_url")
    @classmethod
    def _url(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.match(r"^https?://", value):
            raise ValueError("must be an http:// or https:// URL")
        return value


class ClaudeOptions(GatewayOptions):
    allowed_tools: Optional[list[str]] = Field(
        default=None, description='Tools claude may use unasked: "Read,Bash(git log:*)" or a JSON array'
    )
    disallowed_tools: Optional[list[str]] = Field(default=None, description="Tools claude may not use")
    dangerously_skip_permissions: Optional[bool] = Field(
        default=None, description="claude --dangerously-skip-permissions (refused as root unless IS_SANDBOX=1)"
    )

    @field_validator("allowed_tools", "disallowed_tools", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Optional[list[str]]:
        return _tool_list(value)


class CodexOptions(GatewayOptions):
    full_auto: Optional[bool] = Field(
        default=None, description="codex -s workspace-write (default sandbox: read-only)"
    )
    dangerously_bypass_approvals_and_sandbox: Optional[bool] = Field(
        default=None, description="codex --dangerously-bypass-approvals-and-sandbox"
    )

    @model_validator(mode="after")
    def _one_sandbox(self) -> "CodexOptions":
        if self.full_auto and self.dangerously_bypass_approvals_and_sandbox:
            raise ValueError("full_auto and dangerously_bypass_approvals_and_sandbox cannot be combined")
        return self


class GeminiOptions(GatewayOptions):
    approval_mode: Optional[Literal["default", "auto_edit", "yolo"]] = Field(
        default=None, description="gemini --approval-mode"
    )
    allowed_tools: Optional[list[str]] = Field(
        default=None, description="Tools gemini may use unasked (comma-separated or a JSON array)"
    )
    include_dirs: Optional[list[str]] = Field(
        default=None, description="More directories gemini may read (comma-separated or a JSON array)"
    )

    @field_validator("allowed_tools", "include_dirs", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Optional[list[str]]:
        return _tool_list(value)

    @field_validator("include_dirs")
    @classmethod
    def _directories(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is None:
            return value
        out = []
        for item in value:
            path = os.path.abspath(os.path.expanduser(item))
            if not os.path.isdir(path):
                raise ValueError(f"{item} is not a directory")
            out.append(path)
        return out


OPTIONS = {"claude": ClaudeOptions, "codex": CodexOptions, "gemini": GeminiOptions}

# Option name -> the request tool's argument name. Options not listed here configure the plugin.
COMMON_ARGS = {
    "model": "model",
    "cwd": "cwd",
    "approval_strategy": "approvalStrategy",
    "approval_policy": "approvalPolicy",
    "optimize_prompt": "optimizePrompt",
    "optimize_response": "optimizeResponse",
}
CLI_ARGS = {
    "claude": {
        "allowed_tools": "allowedTools",
        "disallowed_tools": "disallowedTools",
        "dangerously_skip_permissions": "dangerouslySkipPermissions",
    },
    "codex": {
        "full_auto": "fullAuto",
        "dangerously_bypass_approvals_and_sandbox": "dangerouslyBypassApprovalsAndSandbox",
    },
    "gemini": {
        "approval_mode": "approvalMode",
        "allowed_tools": "allowedTools",
        "include_dirs": "includeDirs",
    },
}


def tool_arguments(cli: str, options: GatewayOptions) -> dict[str, Any]:
    """The request tool's arguments for the options that were set."""
    names = {**COMMON_ARGS, **CLI_ARGS[cli]}
    args = {
        names[key]: value
        for key, value in options.model_dump().items()
        if key in names and value is not None
    }
    if options.timeout is not None:
        args["timeoutMs"] = options.timeout * 1000
    return args
