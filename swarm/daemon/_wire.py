"""The edge of ``swarm.v1.Swarm``: every cross-cutting concern of a call, in one place.

For each method of the service descriptor (so a new method is wired without
a line here) the edge:

1. parses the request bytes itself: undecodable bytes are INVALID_ARGUMENT,
   not grpcio's INTERNAL;
2. authenticates the bearer token on the thread pool;
3. caps the open streams of each tenant (RESOURCE_EXHAUSTED past the cap);
4. runs the handler: a unary one on the bounded thread pool, a stream on the
   event loop;
5. maps any error to one status (``status_of``), clips the message
   (``clip_message``) and writes one log line and the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import inspect
import threading
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Any, NoReturn

import grpc
from google.protobuf import message as pb_message
from google.protobuf.descriptor import MethodDescriptor

import ledger
import replay
from proto.swarm.v1 import service_pb2 as api
from swarm.daemon._errors import PermissionDenied, TokenError, Unauthenticated, UnknownToken
from swarm.daemon._logging import clip_message, get_logger
from swarm.daemon._metrics import Metrics
from swarm.daemon._missions import mission_error_status
from swarm.daemon._service import SwarmService, _Abort, _Call

SERVICE = api.DESCRIPTOR.services_by_name["Swarm"]
LARGE_REQUEST_BYTES = 1 << 20
COLLECT_INTERVAL_S = 0.25

_LEDGER_STATUS: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (ledger.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (ledger.LimitExceeded, grpc.StatusCode.INVALID_ARGUMENT),
    (ledger.NotFound, grpc.StatusCode.NOT_FOUND),
    (ledger.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (ledger.LockError, grpc.StatusCode.FAILED_PRECONDITION),
    (ledger.HashChainBroken, grpc.StatusCode.ABORTED),
    (ledger.Conflict, grpc.StatusCode.ABORTED),
    (ledger.CorruptStore, grpc.StatusCode.DATA_LOSS),  # damaged records, lost commits
    (ledger.StorageError, grpc.StatusCode.UNAVAILABLE),
)


def status_of(exc: Exception) -> tuple[grpc.StatusCode, str]:
    """The gRPC status and (unclipped) message for one of our errors; INTERNAL for the rest."""
    if isinstance(exc, _Abort):
        return exc.code, exc.message
    if isinstance(exc, Unauthenticated):
        return grpc.StatusCode.UNAUTHENTICATED, str(exc)
    if isinstance(exc, PermissionDenied):
        return grpc.StatusCode.PERMISSION_DENIED, str(exc)
    if isinstance(exc, UnknownToken):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, TokenError):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, replay.UnknownPoint):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, replay.BadPoint):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, replay.ChainBroken):
        return grpc.StatusCode.DATA_LOSS, str(exc)
    if isinstance(exc, replay.ReplayError):
        return grpc.StatusCode.FAILED_PRECONDITION, str(exc)
    mission = mission_error_status(exc)
    if mission is not None:
        return getattr(grpc.StatusCode, mission[0]), mission[1]
    for kind, code in _LEDGER_STATUS:
        if isinstance(exc, kind):
            return code, f"{type(exc).__name__}: {exc}"
    # A name the file system cannot hold, reached before a handler's own check: the
    # request is wrong, not the daemon (the path itself is left out: it is the long part).
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return grpc.StatusCode.INVALID_ARGUMENT, "a name in the request is too long for a file"
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        return grpc.StatusCode.INVALID_ARGUMENT, "a name in the request holds a NUL character"
    return grpc.StatusCode.INTERNAL, f"internal error ({type(exc).__name__})"


class StreamSlots:
    """How many streams each tenant has open, and the cap."""

    def __init__(self, per_tenant: int) -> None:
        self.per_tenant = per_tenant
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}

    def take(self, tenant: str) -> None:
        """Count one more stream of ``tenant``, or refuse it with RESOURCE_EXHAUSTED."""
        with self._lock:
            n = self._open.get(tenant, 0)
            if n >= self.per_tenant:
                raise _Abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"tenant {tenant!r} has {n} open streams, the most a tenant may hold "
                    "(swarm serve --max-streams-per-tenant); close one and retry",
                )
            self._open[tenant] = n + 1

    def give(self, tenant: str) -> None:
        with self._lock:
            n = self._open.get(tenant, 0) - 1
            if n > 0:
                self._open[tenant] = n
            else:
                self._open.pop(tenant, None)


def _metadata(context: grpc.aio.ServicerContext[Any, Any]) -> tuple[str, str]:
    """The trace id (``x-trace-id`` or a fresh one) and the bearer token ('' if none)."""
    trace, bearer = "", ""
    for key, value in context.invocation_metadata() or ():
        if not isinstance(value, str):
            continue
        if key == "x-trace-id" and 0 < len(value) <= 64 and value.isprintable():
            trace = value
        elif key == "authorization" and not bearer:
            scheme, _, token = value.partition(" ")
            if scheme.lower() != "bearer":
                raise Unauthenticated("authorization metadata must read 'Bearer <token>'")
            bearer = token.strip()
    return trace or uuid.uuid4().hex, bearer


def _impl_name(method: str) -> str:
    return "_" + "".join("_" + c.lower() if c.isupper() else c for c in method).lstrip("_")


class Edge:
    """Wraps a ``SwarmService``'s handlers into the grpc.aio handlers of ``swarm.v1.Swarm``."""

    def __init__(self, service: SwarmService, metrics: Metrics, streams_per_tenant: int) -> None:
        self._service = service
        self._metrics = metrics
        self.slots = StreamSlots(streams_per_tenant)
        self._collected = 0.0
        self._log = get_logger()

    def handler(self) -> grpc.GenericRpcHandler:
        """One generic handler with every method of the service descriptor."""
        handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
        for method in SERVICE.methods:
            handlers[method.name] = self._method(method)
        return grpc.method_handlers_generic_handler(SERVICE.full_name, handlers)

    def _method(self, method: MethodDescriptor) -> grpc.RpcMethodHandler[Any, Any]:
        request_type: Any = getattr(api, method.input_type.name)
        response_type: Any = getattr(api, method.output_type.name)
        impl = getattr(self._service, _impl_name(method.name))
        name = method.name
        if method.server_streaming:
            # An async generator function itself: grpc.aio tells stream kinds apart by that.
            async def stream(raw: bytes, context: Any) -> AsyncGenerator[Any, None]:
                inner = self._stream(name, impl, request_type, raw, context)
                async with contextlib.aclosing(inner):
                    async for item in inner:
                        yield item

            return grpc.unary_stream_rpc_method_handler(
                stream, response_serializer=response_type.SerializeToString
            )

        async def unary(raw: bytes, context: Any) -> Any:
            return await self._unary(name, impl, request_type, raw, context)

        return grpc.unary_unary_rpc_method_handler(
            unary, response_serializer=response_type.SerializeToString
        )

    def _begin(self, request_type: Any, raw: bytes, context: Any) -> tuple[_Call, Any]:
        trace, bearer = _metadata(context)
        call = _Call(trace, bearer)
        try:
            request = request_type.FromString(raw)
        except (pb_message.DecodeError, RuntimeError, ValueError) as exc:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the request is not a valid {request_type.DESCRIPTOR.full_name} ({exc})",
            ) from None
        return call, request

    def _authenticated(self, call: _Call, impl: Callable[[_Call, Any], Any], request: Any) -> Any:
        self._service.authenticate(call)
        return impl(call, request)

    async def _unary(
        self, name: str, impl: Callable[[_Call, Any], Any], request_type: Any, raw: bytes, ctx: Any
    ) -> Any:
        started = time.perf_counter()
        call: _Call | None = None
        try:
            call, request = self._begin(request_type, raw, ctx)
            response = await self._service.blocking(self._authenticated, call, impl, request)
        except Exception as exc:
            request = None  # a large request must not live on in the error's frames
            await self._refuse(name, call, exc, started, ctx, len(raw))
        self._finish(name, call, grpc.StatusCode.OK, started)
        return response

    async def _stream(
        self,
        name: str,
        impl: Callable[..., AsyncGenerator[Any, None]],
        request_type: Any,
        raw: bytes,
        ctx: Any,
    ) -> AsyncGenerator[Any, None]:
        started = time.perf_counter()
        call: _Call | None = None
        tenant: str | None = None
        try:
            call, request = self._begin(request_type, raw, ctx)
            await self._service.blocking(self._service.authenticate, call)
            assert call.principal is not None
            self.slots.take(call.principal.tenant)
            tenant = call.principal.tenant
            async with contextlib.aclosing(impl(call, request)) as items:
                async for item in items:
                    yield item
        except Exception as exc:
            if tenant is not None:
                self.slots.give(tenant)
                tenant = None
            await self._refuse(name, call, exc, started, ctx, len(raw))
        except BaseException:  # cancelled: the client left or its deadline passed
            self._finish(name, call, grpc.StatusCode.CANCELLED, started)
            raise
        finally:
            if tenant is not None:
                self.slots.give(tenant)
        self._finish(name, call, grpc.StatusCode.OK, started)

    async def _refuse(
        self,
        name: str,
        call: _Call | None,
        exc: Exception,
        started: float,
        ctx: Any,
        request_bytes: int = 0,
    ) -> NoReturn:
        """End the call with ``exc``'s status; never returns.

        A refused request of a megabyte or more is collected soon after: an error's
        traceback holds its frames (and the request) in reference cycles, which the
        collector would otherwise reach only after many more allocations; left
        alone, 20 refused 4 MB calls kept ~300 MB.
        """
        if isinstance(exc, grpc.aio.AbortError):
            raise exc
        code, msg = status_of(exc)
        msg = clip_message(msg)
        if code is grpc.StatusCode.INTERNAL:
            self._log.exception("rpc failed", method=name, error_type=type(exc).__name__)
        self._finish(name, call, code, started, msg)
        if request_bytes >= LARGE_REQUEST_BYTES:
            self._collect_soon()
        await ctx.abort(code, msg)
        raise AssertionError("context.abort returned")  # it raises AbortError

    def _collect_soon(self) -> None:
        """A garbage collection once this call has unwound, at most one per interval."""
        now = time.monotonic()
        if now - self._collected < COLLECT_INTERVAL_S:
            return
        self._collected = now
        asyncio.get_running_loop().call_soon(gc.collect)

    def _finish(
        self, method: str, call: _Call | None, code: grpc.StatusCode, started: float, msg: str = ""
    ) -> None:
        elapsed = time.perf_counter() - started
        self._metrics.requests.labels(method, code.name).inc()
        self._metrics.latency.labels(method).observe(elapsed)
        facts = call.facts if call else {}
        ms = round(elapsed * 1000, 2)
        if code is grpc.StatusCode.OK:
            self._log.info("rpc", method=method, code=code.name, ms=ms, **facts)
        else:
            self._metrics.errors.labels(method).inc()
            self._log.warning("rpc", method=method, code=code.name, ms=ms, error=msg, **facts)


ANONYMOUS_STREAMS = ("/grpc.reflection.", "/grpc.health.v1.Health/Watch")


def _address(peer: str) -> str:
    """The client's address without its port: ``ipv4:1.2.3.4:5`` → ``ipv4:1.2.3.4``."""
    host, sep, port = peer.rpartition(":")
    return host if sep and port.isdigit() else peer


class AnonymousStreamCap(grpc.aio.ServerInterceptor):
    """Caps the streams one client address holds open on the services that need no token.

    Reflection and health watches answer without a token, so only this keeps
    one host from filling ``maximum_concurrent_rpcs`` with idle streams (and
    health checks then refused); past the cap a stream gets RESOURCE_EXHAUSTED.
    """

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()
        self._log = get_logger()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        method = details.method or ""
        if handler is None or not method.startswith(ANONYMOUS_STREAMS):
            return handler
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._wrap(handler.stream_stream),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap(handler.unary_stream),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return handler

    def _wrap(self, inner: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``inner`` holding one of its address's slots; of the same kind (grpc.aio looks)."""
        if inspect.isasyncgenfunction(inner):

            async def stream(request: Any, context: Any) -> AsyncGenerator[Any, None]:
                async with self._slot(context):
                    async for item in inner(request, context):
                        yield item

            return stream

        async def writes(request: Any, context: Any) -> Any:  # writes through the context
            async with self._slot(context):
                return await inner(request, context)

        return writes

    @contextlib.asynccontextmanager
    async def _slot(self, context: Any) -> AsyncGenerator[None, None]:
        address = _address(context.peer() or "")
        with self._lock:
            n = self._open.get(address, 0)
            if n < self.per_address:
                self._open[address] = n + 1
        if n >= self.per_address:
            self._log.warning("anonymous stream refused", peer=address, open=n)
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"{n} streams without a token are open from {address}, the most one address "
                "may hold; close some and retry",
            )
        try:
            yield
        finally:
            with self._lock:
                left = self._open.get(address, 1) - 1
                if left > 0:
                    self._open[address] = left
                else:
                    self._open.pop(address, None)
