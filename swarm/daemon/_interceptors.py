"""What every call needs besides its own work: grpc.aio server interceptors, each with one job.

The daemon's server runs them in this order (``interceptors()``), outermost first::

    AnonymousStreamCap   health and reflection streams: a cap per client address
    Telemetry            one log line and the metrics per call; its trace id bound for logs
    StatusMapping        an error → its status (``swarm.daemon._status.STATUS``), clipped
    Decode               the request bytes → the message; undecodable is INVALID_ARGUMENT
    OnPool               a unary method runs on the bounded thread pool
    Authenticate         the bearer token checked → ``call.principal``
    TenantStreamCap      open streams per tenant, RESOURCE_EXHAUSTED past the cap

and then the servicer's method (``swarm.daemon._service``), which gets the
``Call`` that ``Telemetry`` made in place of grpc's context. Only the methods
of ``swarm.v1.Swarm`` pass through the last six. Behaviours inside ``OnPool``
stay plain functions for unary methods, so the token check and the method
share one hop to the pool; a streaming method is an async generator at every
layer and runs on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

import grpc
import structlog
from google.protobuf import message as pb_message

from proto.swarm.v1 import service_pb2 as api
from swarm.daemon._call import Abort, Call, bearer_of
from swarm.daemon._logging import clip_message, get_logger
from swarm.daemon._metrics import Metrics
from swarm.daemon._pool import Pool
from swarm.daemon._status import status_of
from swarm.daemon._tokens import TokenStore
from swarm.telemetry import end_rpc_span, start_rpc_span

SERVICE = api.DESCRIPTOR.services_by_name["Swarm"]
PREFIX = f"/{SERVICE.full_name}/"
LARGE_REQUEST_BYTES = 1 << 20
COLLECT_INTERVAL_S = 0.25
ANONYMOUS_STREAMS = ("/grpc.reflection.", "/grpc.health.v1.Health/Watch")

Behaviour = Callable[[Any, Any], Any]
if TYPE_CHECKING:
    from opentelemetry.trace import Span

    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
else:  # generic in the stubs only
    Handler = grpc.RpcMethodHandler


def interceptors(
    *,
    tokens: TokenStore,
    metrics: Metrics,
    pool: Pool,
    streams_per_tenant: int,
    anonymous_streams_per_address: int,
) -> tuple[grpc.aio.ServerInterceptor, ...]:
    """The daemon's interceptors, outermost first (the order the module docstring explains)."""
    return (
        AnonymousStreamCap(anonymous_streams_per_address),
        Telemetry(metrics),
        StatusMapping(),
        Decode(),
        OnPool(pool),
        Authenticate(tokens, pool),
        TenantStreamCap(streams_per_tenant),
    )


class SwarmInterceptor(grpc.aio.ServerInterceptor):
    """Wraps each ``swarm.v1.Swarm`` method's behaviour, once per method; others pass through.

    A subclass overrides ``unary`` and/or ``stream``: given the method's name and
    the inner behaviour ``(request, call)``, it returns the wrapped one.
    """

    def __init__(self) -> None:
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(details)
        method = details.method or ""
        if handler is None or not method.startswith(PREFIX):
            return handler
        cached = self._wrapped.get(method)
        if cached is None or cached[0] is not handler:
            cached = (handler, self.wrap(method[len(PREFIX) :], handler))
            self._wrapped[method] = cached
        return cached[1]

    def wrap(self, name: str, handler: Handler) -> Handler:
        streamed, unary = handler.unary_stream, handler.unary_unary
        if streamed is not None:
            return grpc.unary_stream_rpc_method_handler(
                self.stream(name, streamed),
                handler.request_deserializer,
                handler.response_serializer,
            )
        assert unary is not None  # swarm.v1.Swarm has unary and server-streaming methods only
        return grpc.unary_unary_rpc_method_handler(
            self.unary(name, unary),
            handler.request_deserializer,
            handler.response_serializer,
        )

    def unary(self, name: str, inner: Behaviour) -> Behaviour:
        return inner

    def stream(self, name: str, inner: Behaviour) -> Behaviour:
        return inner


class Telemetry(SwarmInterceptor):
    """Makes the call's ``Call``, binds its trace id and method for every line logged while it
    runs, and at its end writes one log line, counts it (requests, latency, errors) and ends
    its span (``swarm.telemetry``: in the trace the client's x-trace-id names)."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self._metrics = metrics
        self._log = get_logger()

    def unary(self, name: str, inner: Behaviour) -> Behaviour:
        async def observed(request: Any, context: Any) -> Any:
            call, started, span = self._begin(name, context)
            try:
                response = await inner(request, call)
            except BaseException:
                self._finish(call, started, span, grpc.StatusCode.CANCELLED)
                raise
            self._finish(call, started, span, grpc.StatusCode.OK)
            return response

        return observed

    def stream(self, name: str, inner: Behaviour) -> Behaviour:
        async def observed(request: Any, context: Any) -> AsyncGenerator[Any, None]:
            call, started, span = self._begin(name, context)
            try:
                async with contextlib.aclosing(inner(request, call)) as items:
                    async for item in items:
                        yield item
            except BaseException:  # refused, or cancelled: the client left or its deadline passed
                self._finish(call, started, span, grpc.StatusCode.CANCELLED)
                raise
            self._finish(call, started, span, grpc.StatusCode.OK)

        return observed

    @staticmethod
    def _begin(name: str, context: Any) -> tuple[Call, float, Span]:
        call = Call(name, context)
        # Each call runs in its own task (its own context): nothing of another call is bound.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(trace_id=call.trace_id, method=name)
        return call, time.perf_counter(), start_rpc_span(name, call.trace_id)

    def _finish(self, call: Call, started: float, span: Span, otherwise: grpc.StatusCode) -> None:
        """The call's log line, metrics and span: its refusal's status if it was refused."""
        code = call.code or otherwise
        end_rpc_span(span, code.name, call.facts, call.message or "")
        elapsed = time.perf_counter() - started
        self._metrics.requests.labels(call.method, code.name).inc()
        self._metrics.latency.labels(call.method).observe(elapsed)
        line = {"method": call.method, "code": code.name, "ms": round(elapsed * 1000, 2)}
        if code is grpc.StatusCode.OK:
            self._log.info("rpc", **line, **call.facts)
        else:
            self._metrics.errors.labels(call.method).inc()
            self._log.warning("rpc", **line, error=call.message, **call.facts)


class StatusMapping(SwarmInterceptor):
    """Ends a call that raised with its error's status (the ``STATUS`` table), message clipped.

    A refused request of a megabyte or more is collected soon after: an error's
    traceback holds its frames (and the request) in reference cycles, which the
    collector would otherwise reach only after many more allocations; left
    alone, 20 refused 4 MB calls kept ~300 MB.
    """

    def __init__(self) -> None:
        super().__init__()
        self._collected = 0.0
        self._log = get_logger()

    def unary(self, name: str, inner: Behaviour) -> Behaviour:
        async def mapped(request: Any, call: Call) -> Any:
            try:
                return await inner(request, call)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                self._refused(call, exc)
            await self._abort(call, len(request))  # out of the except: the error is let go

        return mapped

    def stream(self, name: str, inner: Behaviour) -> Behaviour:
        async def mapped(request: Any, call: Call) -> AsyncGenerator[Any, None]:
            try:
                async with contextlib.aclosing(inner(request, call)) as items:
                    async for item in items:
                        yield item
                return
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                self._refused(call, exc)
            await self._abort(call, len(request))

        return mapped

    def _refused(self, call: Call, exc: Exception) -> None:
        code, message = status_of(exc)
        call.code, call.message = code, clip_message(message)
        if code is grpc.StatusCode.INTERNAL:
            self._log.exception("rpc failed", method=call.method, error_type=type(exc).__name__)

    async def _abort(self, call: Call, request_bytes: int) -> NoReturn:
        assert call.code is not None
        if request_bytes >= LARGE_REQUEST_BYTES:
            self._collect_soon()
        await call.context.abort(call.code, call.message)
        raise AssertionError("context.abort returned")  # it raises AbortError

    def _collect_soon(self) -> None:
        """A garbage collection once this call has unwound, at most one per interval."""
        now = time.monotonic()
        if now - self._collected < COLLECT_INTERVAL_S:
            return
        self._collected = now
        asyncio.get_running_loop().call_soon(gc.collect)


class Decode(SwarmInterceptor):
    """Parses the request bytes itself: undecodable bytes are INVALID_ARGUMENT, where grpcio
    would answer UNKNOWN (outer interceptors see the raw bytes, and their size)."""

    def wrap(self, name: str, handler: Handler) -> Handler:
        parse = handler.request_deserializer
        assert parse is not None
        full_name = SERVICE.methods_by_name[name].input_type.full_name

        def decode(raw: bytes) -> Any:
            try:
                return parse(raw)
            except (pb_message.DecodeError, RuntimeError, ValueError) as exc:
                raise Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"the request is not a valid {full_name} ({exc})",
                ) from None

        streamed, unary = handler.unary_stream, handler.unary_unary
        if streamed is not None:
            return grpc.unary_stream_rpc_method_handler(
                lambda raw, call: streamed(decode(raw), call),  # an iterator: no layer of its own
                None,
                handler.response_serializer,
            )
        assert unary is not None
        return grpc.unary_unary_rpc_method_handler(
            lambda raw, call: unary(decode(raw), call), None, handler.response_serializer
        )


class OnPool(SwarmInterceptor):
    """Runs a unary method (and the plain checks inside this layer) on the bounded pool."""

    def __init__(self, pool: Pool) -> None:
        super().__init__()
        self._pool = pool

    def unary(self, name: str, inner: Behaviour) -> Behaviour:
        async def pooled(request: Any, call: Call) -> Any:
            return await self._pool.run(inner, request, call)

        return pooled


class Authenticate(SwarmInterceptor):
    """Checks the call's bearer token (UNAUTHENTICATED without a live one) and sets
    ``call.principal`` before the method runs; the method checks tenant and role."""

    def __init__(self, tokens: TokenStore, pool: Pool) -> None:
        super().__init__()
        self._tokens = tokens
        self._pool = pool

    def unary(self, name: str, inner: Behaviour) -> Behaviour:
        def checked(request: Any, call: Call) -> Any:  # plain: it runs in the method's pool hop
            self._check(call)
            return inner(request, call)

        return checked

    def stream(self, name: str, inner: Behaviour) -> Behaviour:
        async def checked(request: Any, call: Call) -> AsyncGenerator[Any, None]:
            await self._pool.run(self._check, call)
            async with contextlib.aclosing(inner(request, call)) as items:
                async for item in items:
                    yield item

        return checked

    def _check(self, call: Call) -> None:
        call.bearer = bearer_of(call)
        call.principal = self._tokens.check(call.bearer)
        call.note(token_id=call.principal.token_id)


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
                raise Abort(
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


class TenantStreamCap(SwarmInterceptor):
    """Holds one of the tenant's stream slots for as long as a stream is open."""

    def __init__(self, per_tenant: int) -> None:
        super().__init__()
        self.slots = StreamSlots(per_tenant)

    def stream(self, name: str, inner: Behaviour) -> Behaviour:
        async def capped(request: Any, call: Call) -> AsyncGenerator[Any, None]:
            tenant = call.who.tenant
            self.slots.take(tenant)
            try:
                async with contextlib.aclosing(inner(request, call)) as items:
                    async for item in items:
                        yield item
            finally:
                self.slots.give(tenant)

        return capped


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
    async def _slot(self, context: Any) -> AsyncIterator[None]:
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
