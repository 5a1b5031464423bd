"""What one ``swarm.v1.Swarm`` call knows about itself, and the checks every handler makes.

The interceptors (``swarm.daemon._interceptors``) make a ``Call`` for each
request and pass it to the servicer's method in place of grpc's context: it
carries the caller's checked token (``principal``), the facts of the call's
log line, and, once the call ended badly, its status. ``Call.scope`` and
``Call.project`` are the tenant and role checks each method starts with.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import structlog

from proto.swarm.v1 import service_pb2 as api
from swarm.daemon._errors import PermissionDenied, Unauthenticated
from swarm.daemon._tokens import SYSTEM_TENANT, Role, TokenInfo

TRACE_HEADER = "x-trace-id"


class Abort(Exception):
    """A status to end the call with, raised inside handlers (``StatusMapping`` sends it)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Call:
    """One call: its method, grpc context, token, log facts and (at the end) status."""

    __slots__ = (
        "authorization",
        "bearer",
        "code",
        "context",
        "facts",
        "message",
        "method",
        "principal",
    )

    def __init__(self, method: str, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self.method = method
        self.context = context
        trace, self.authorization = _read_metadata(context)
        self.bearer = ""  # the secret: checked, never logged
        self.principal: TokenInfo | None = None
        self.facts: dict[str, str] = {"trace_id": trace}
        self.code: grpc.StatusCode | None = None  # set when the call is refused
        self.message = ""

    @property
    def trace_id(self) -> str:
        return self.facts["trace_id"]

    @property
    def who(self) -> TokenInfo:
        """The checked token (``Authenticate`` sets it before any handler runs)."""
        assert self.principal is not None, "the call was not authenticated"
        return self.principal

    def note(self, **facts: str) -> None:
        """Add facts to the call's log line and to every line logged while it runs."""
        self.facts.update(facts)
        structlog.contextvars.bind_contextvars(**facts)

    def scope(self, tenant: str, need: Role) -> str:
        """The tenant this call acts on (the token's own if ``tenant`` is empty), after
        checking the token reaches it with role ``need``; PermissionDenied otherwise."""
        who = self.who
        wanted = tenant or who.tenant
        self.note(tenant=wanted)
        if wanted != who.tenant or wanted == SYSTEM_TENANT:
            raise PermissionDenied(
                f"token {who.token_id} belongs to tenant {who.tenant!r}, not {wanted!r}",
                tenant=who.tenant,
                role=who.role.label,
            )
        if who.role < need:
            raise PermissionDenied(
                f"token {who.token_id} has role {who.role.label}; this call needs {need.label}",
                tenant=who.tenant,
                role=who.role.label,
            )
        return wanted

    def project(self, ref: api.ProjectRef, need: Role) -> tuple[str, str]:
        """(tenant, project) of ``ref`` after ``scope``; INVALID_ARGUMENT without a project."""
        tenant = self.scope(ref.tenant, need)
        if not ref.project:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "project is required")
        self.note(project=ref.project)
        return tenant, ref.project


def _read_metadata(context: grpc.aio.ServicerContext[Any, Any]) -> tuple[str, str]:
    """The trace id (the client's ``x-trace-id`` if short and printable, else a fresh one)
    and the first ``authorization`` value ('' if none)."""
    trace, authorization = "", ""
    for key, value in context.invocation_metadata() or ():
        if not isinstance(value, str):
            continue
        if key == TRACE_HEADER and 0 < len(value) <= 64 and value.isprintable():
            trace = value
        elif key == "authorization" and not authorization:
            authorization = value
    return trace or uuid.uuid4().hex, authorization


def bearer_of(call: Call) -> str:
    """The bearer token of the call's ``authorization`` metadata ('' if none).

    Raises Unauthenticated if the metadata names another scheme.
    """
    if not call.authorization:
        return ""
    scheme, _, token = call.authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthenticated("authorization metadata must read 'Bearer <token>'")
    return token.strip()
