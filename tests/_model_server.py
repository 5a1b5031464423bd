"""A scripted OpenAI-compatible model server: the one deliberate fake, at the HTTP seam.

A real HTTP server on a loopback port that answers ``POST .../chat/completions``
from a per-test script of :class:`Reply` values, one per request, in order, and
records every request it got (path, headers, JSON body). Replies can be
whole completions, server-sent-event streams, error statuses with
Retry-After, malformed bodies, or bodies held back until the test releases
them (a slow model). A stream can wait for the client to hang up, and the
server records that it did (``disconnected``): that is how a test sees that
closing a stream cancels the call on the server.

Nothing here sleeps: a held reply waits on an event, a hang-up is seen by
``select`` on the socket.
"""

from __future__ import annotations

import json
import select
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

_WAIT_S = 60.0  # the longest a held reply waits (the test releases it, or the server closes)


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    ``chunks`` are written one by one after the headers (no Content-Length: the
    body ends when the connection closes). ``hold_after`` chunks are sent, then
    the server waits: for the test's ``release`` when ``until_hangup`` is off,
    else for the client to close the connection (recorded in ``disconnected``).
    """

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    chunks: tuple[bytes, ...] | None = None
    hold_after: int | None = None
    until_hangup: bool = False


@dataclass(frozen=True)
class Received:
    """One request as the server got it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        """The request's chat messages."""
        return list(self.body.get("messages", []))


def completion(
    content: str, *, usage: tuple[int, int] | None = (11, 7), finish: str = "stop"
) -> Reply:
    """A whole (non-streamed) chat completion answering ``content``."""
    data: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "scripted",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
    }
    if usage is not None:
        data["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        }
    return Reply(body=json.dumps(data).encode())


def sse_event(data: str) -> bytes:
    """One server-sent event carrying ``data``."""
    return f"data: {data}\n\n".encode()


def chunk(piece: str | None, finish: str | None = None) -> bytes:
    """One chat.completion.chunk event with a content delta ``piece``."""
    delta = {} if piece is None else {"content": piece}
    data = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return sse_event(json.dumps(data))


def stream(
    pieces: Sequence[str],
    *,
    usage: tuple[int, int] | None = (11, 7),
    finish: str = "stop",
    done: bool = True,
    hold_after: int | None = None,
    until_hangup: bool = False,
) -> Reply:
    """A streamed answer: one chunk per piece, a finish chunk, usage, then ``[DONE]``."""
    events = [chunk(p) for p in pieces] + [chunk(None, finish)]
    if usage is not None:
        u = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
        events.append(sse_event(json.dumps({"id": "chatcmpl-1", "choices": [], "usage": u})))
    if done:
        events.append(sse_event("[DONE]"))
    return Reply(
        headers=(("Content-Type", "text/event-stream"),),
        chunks=tuple(events),
        hold_after=hold_after,
        until_hangup=until_hangup,
    )


def status(code: int, message: str = "busy", retry_after: str | None = None) -> Reply:
    """An HTTP error with an OpenAI-style error body and an optional Retry-After."""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    if retry_after is not None:
        headers += (("Retry-After", retry_after),)
    body = json.dumps({"error": {"message": message, "code": code}}).encode()
    return Reply(status=code, body=body, headers=headers)


@dataclass
class ModelServer:
    """The server; ``script(...)`` queues replies, ``requests`` holds what arrived."""

    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    disconnected: threading.Event = field(default_factory=threading.Event)
    _replies: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL to give a client (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order."""
        with self._lock:
            self._replies.extend(replies)

    def next_reply(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return status(599, "the test scripted no reply for this request")

    def close(self) -> None:
        self.release.set()
        self._http.shutdown()
        self._http.server_close()


def _handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"unparsed": raw.decode("utf-8", "replace")}
            with server._lock:
                server.requests.append(Received(self.path, dict(self.headers), body))
            reply = server.next_reply()
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            if reply.chunks is None and reply.hold_after is None:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            try:
                self._write(reply)
            except (BrokenPipeError, ConnectionResetError):
                server.disconnected.set()

        def _write(self, reply: Reply) -> None:
            chunks = reply.chunks if reply.chunks is not None else (reply.body,)
            for i, piece in enumerate(chunks):
                if i == reply.hold_after:
                    self._hold(reply)
                self.wfile.write(piece)
                self.wfile.flush()
            if reply.hold_after is not None and reply.hold_after >= len(chunks):
                self._hold(reply)

        def _hold(self, reply: Reply) -> None:
            if not reply.until_hangup:
                server.release.wait(_WAIT_S)
                return
            # The client hanging up makes the socket readable with nothing to read.
            readable, _, _ = select.select([self.connection], [], [], _WAIT_S)
            if readable and self.connection.recv(1) == b"":
                server.disconnected.set()
                raise BrokenPipeError("the client closed the connection")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """A fresh scripted model server for one test."""
    server = ModelServer()
    yield server
    server.close()
