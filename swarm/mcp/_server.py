"""The MCP server: the tools, each a thin adapter over the binding's ``Client``.

Every tool takes typed arguments (the SDK publishes them as its JSON input
schema) and answers a JSON object; a refusal, ours or the client's, is an
error result (``isError``) whose text leads with the status (``NOT_FOUND:
...``, ``INVALID_ARGUMENT: ...``), and nothing is written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from swarm.client import ClientError
from swarm.mcp import _missions as missions
from swarm.mcp._binding import Binding
from swarm.mcp._history import HistoryTools
from swarm.mcp._missions import (
    AllowUnverified,
    Coders,
    MissionTools,
    Project,
    RunTests,
    Workspace,
)
from swarm.mcp._runs import Runs

F = TypeVar("F", bound=Callable[..., Any])

INSTRUCTIONS = (
    "Swarm runs code changes across a repository as durable missions (scout, coders, critic) "
    "and records every step in a ledger. Submit a mission (mission_rename, mission_add_param, "
    "mission_apply_diff), follow it with mission_follow until finished, then mission_result. "
    "replay_tree and replay_file show the project at any point; audit_who_changed says who "
    "changed a file and why; lock_take and lock_release hold a file for a person."
)


def refusals(fn: F, tenant: str = "") -> F:
    """``fn`` with a ``ClientError`` turned into the tool's error result, status first; a
    NOT_FOUND says which tenant was looked in (the token's: nothing else is reachable)."""

    @functools.wraps(fn)
    def tool(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ClientError as exc:
            where = f" (looked in tenant {tenant!r}, the token's)" if tenant else ""
            scope = where if exc.code == "NOT_FOUND" and repr(tenant) not in exc.detail else ""
            raise ToolError(f"{exc.code}: {exc.detail}{scope}") from None

    return tool  # type: ignore[return-value]


def build_server(binding: Binding) -> MCPServer[Any]:
    """An MCP server whose tools act for ``binding``'s token, on its tenant only."""
    server: MCPServer[Any] = MCPServer(name="swarm", instructions=INSTRUCTIONS, log_level="WARNING")
    m = MissionTools(binding, Runs(binding.client))
    h = HistoryTools(binding)
    tools: tuple[tuple[str, Callable[..., Any]], ...] = (
        *_submit_tools(m),
        ("mission_follow", m.follow),
        ("mission_result", m.result),
        ("mission_list", m.listing),
        ("replay_tree", h.tree),
        ("replay_file", h.file),
        ("audit_who_changed", h.who_changed),
        ("lock_take", h.lock),
        ("lock_release", h.unlock),
    )
    for name, fn in tools:
        server.add_tool(refusals(fn, binding.tenant), name=name, description=fn.__doc__)
    return server


def _submit_tools(m: MissionTools) -> list[tuple[str, Callable[..., Any]]]:
    """One tool per kind of change, each with the arguments of its request."""

    def mission_rename(
        old: Annotated[str, Field(description="the symbol: name, Class.attr or pkg.mod:name")],
        new: Annotated[str, Field(description="the new name")],
        in_docs: Annotated[
            bool, Field(description="also rename code-like mentions in docs")
        ] = False,
        project: Project = None,
        workspace: Workspace = None,
        run_tests: RunTests = True,
        coders: Coders = 4,
        allow_unverified: AllowUnverified = False,
    ) -> dict[str, Any]:
        """Rename a symbol everywhere it is defined and used; returns the mission's id."""
        request = missions.rename_request(old, new, in_docs)
        return m.submit(
            request, project, workspace,
            run_tests=run_tests, coders=coders, allow_unverified=allow_unverified,
        )  # fmt: skip

    def mission_add_param(
        function: Annotated[str, Field(description="the function: name or pkg.mod:func")],
        param: Annotated[str, Field(description="the new parameter's name")],
        default: Annotated[str, Field(description="its default, a Python expression")],
        value: Annotated[str | None, Field(description="an expression for every call site")] = None,
        project: Project = None,
        workspace: Workspace = None,
        run_tests: RunTests = True,
        coders: Coders = 4,
        allow_unverified: AllowUnverified = False,
    ) -> dict[str, Any]:
        """Add a parameter with a default to a function and update its call sites."""
        request = missions.add_param_request(function, param, default, value)
        return m.submit(
            request, project, workspace,
            run_tests=run_tests, coders=coders, allow_unverified=allow_unverified,
        )  # fmt: skip

    def mission_apply_diff(
        diff: Annotated[str, Field(description="a unified diff with paths relative to the repo")],
        project: Project = None,
        workspace: Workspace = None,
        run_tests: RunTests = True,
        coders: Coders = 4,
        allow_unverified: AllowUnverified = False,
    ) -> dict[str, Any]:
        """Apply a unified diff as a mission (checked by the critic like any other change)."""
        request = missions.patch_request(diff)
        return m.submit(
            request, project, workspace,
            run_tests=run_tests, coders=coders, allow_unverified=allow_unverified,
        )  # fmt: skip

    return [
        ("mission_rename", mission_rename),
        ("mission_add_param", mission_add_param),
        ("mission_apply_diff", mission_apply_diff),
    ]
