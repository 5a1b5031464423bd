"""ChatClient: one OpenAI-compatible chat-completions call, done carefully.

Built on httpx (imported when a client is made, so a CLI start that never calls
a model does not pay for it):

- a timeout per phase (connect, read, write, pool) and an optional deadline for
  the whole call, streaming included;
- retries with exponential backoff on 429, 5xx and refused connections,
  honouring Retry-After; never on a read timeout, since the server may still be
  computing the abandoned answer and an identical request would queue behind it;
- ``max_tokens`` on every request;
- streaming (server-sent events): closing a :class:`ChatStream` early closes the
  connection, which is how llama.cpp, vLLM and Ollama learn to stop generating;
- token usage from the server (``stream_options.include_usage``), or an
  estimate marked as such when it reports none.

Time comes from a :class:`Clock`, so tests of the backoff never sleep. The API
key is sent in a header and redacted from every error reason, log line and
recorded answer.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from swarm.brain._errors import ModelError, ModelHTTPError, ModelTimeout, ModelUnreachable
from swarm.brain._settings import ModelSettings
from swarm.brain._types import Exchange, Usage

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("swarm.brain")

_RETRY_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
_BODY_EXCERPT = 2_000  # bytes of an error body kept for the message and the record


class Clock(Protocol):
    """Where the client reads time and waits: the system's, or a test's."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def time(self) -> float:
        """Seconds since the epoch (for an HTTP-date Retry-After)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True, slots=True)
class ChatReply:
    """A finished answer: its text, why it stopped (``"length"``: cut by max_tokens),
    the tokens it used, the exchange to record, and how many attempts it took."""

    content: str
    finish_reason: str | None
    usage: Usage
    exchange: Exchange
    attempts: int

    @property
    def truncated(self) -> bool:
        """The answer was cut off by ``max_tokens``."""
        return self.finish_reason == "length"


def public_url(url: str) -> str:
    """``url`` without any user:password part, fit for a message."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class ChatClient:
    """Calls one model's chat-completions endpoint; see the module docstring.

    ``transport`` is httpx's transport port (None: the network). Use as a
    context manager, or call :meth:`close`, to release pooled connections.
    """

    def __init__(
        self,
        settings: ModelSettings,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.settings = settings
        self.url = public_url(settings.url)
        self.clock: Clock = clock or SystemClock()
        self.usage = Usage()  # every answer this client has received, added up
        self._usage_lock = threading.Lock()  # parallel coders may share one client
        t = settings.timeouts
        headers = {"Content-Type": "application/json"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        self._http = httpx.Client(
            timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
            headers=headers,
            transport=transport,
        )

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

    # -- calls ----------------------------------------------------------------

    def request_json(self, messages: Sequence[dict[str, str]], max_tokens: int | None) -> str:
        """The exact JSON body a call with these messages sends."""
        s = self.settings
        body: dict[str, Any] = {
            "model": s.model,
            "messages": list(messages),
            "temperature": s.temperature,
            "max_tokens": max_tokens or s.max_tokens,
        }
        if s.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return json.dumps(body, ensure_ascii=False)

    def complete(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int | None = None
    ) -> ChatReply:
        """Ask once (retrying as the policy allows) and return the whole answer."""
        with self.stream(messages, max_tokens=max_tokens) as chat:
            for _ in chat:
                pass
            return chat.reply()

    def stream(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int | None = None
    ) -> ChatStream:
        """Start a call; iterate the returned stream for the answer's text as it arrives.

        With ``settings.stream`` off the whole answer arrives as one piece.
        Closing the stream before the end cancels the call.
        """
        body = self.request_json(messages, max_tokens)
        started = self.clock.monotonic()
        response, attempts = self._open(body, started)
        return ChatStream(self, body, response, started, attempts)

    # -- internals ------------------------------------------------------------

    def count(self, usage: Usage) -> None:
        """Add one answer's tokens to :attr:`usage`."""
        with self._usage_lock:
            self.usage = self.usage + usage

    def redact(self, text: str) -> str:
        """``text`` with the API key (should a server echo it) blanked out."""
        key = self.settings.api_key
        return text.replace(key, "[redacted]") if key else text

    def exchange(self, body: str, raw: str, started: float, usage: Usage | None) -> Exchange:
        """The record of one call: the body sent, the (redacted) answer, seconds taken."""
        s = self.settings
        seconds = self.clock.monotonic() - started
        return Exchange(s.provider, s.model, body, self.redact(raw), seconds, usage)

    def model_error(self, reason: str, exchange: Exchange | None = None) -> ModelError:
        """A ModelError naming this endpoint, provider and model."""
        s = self.settings
        return ModelError(
            self.url, self.redact(reason), exchange, provider=s.provider, model=s.model
        )

    def timeout(self, phase: str, seconds: float, exchange: Exchange | None) -> ModelTimeout:
        """A ModelTimeout naming this endpoint, provider and model."""
        s = self.settings
        return ModelTimeout(self.url, phase, seconds, exchange, provider=s.provider, model=s.model)

    def check_deadline(self, body: str, raw: str, started: float) -> None:
        """Raise ModelTimeout("total") once the call's whole deadline has passed."""
        total = self.settings.timeouts.total
        if total is not None and self.clock.monotonic() - started > total:
            raise self.timeout("total", total, self.exchange(body, raw, started, None))

    def _open(self, body: str, started: float) -> tuple[httpx.Response, int]:
        """Send ``body`` until a 200 arrives or the retry policy says stop."""
        policy = self.settings.retry
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            response = self._send(body, started, retry_connect=not last)
            if response is None:
                self._wait(attempt, None, body, started)
                continue
            if response.status_code == 200:
                return response, attempt
            raw = _read_excerpt(response)
            retry_after = _retry_after(response.headers.get("retry-after"), self.clock)
            too_long = retry_after is not None and retry_after > policy.max_wait_s
            if response.status_code in _RETRY_STATUSES and not last and not too_long:
                log.warning(
                    "model call got HTTP %d from %s, retry %d of %d",
                    response.status_code,
                    self.url,
                    attempt,
                    policy.attempts - 1,
                )
                self._wait(attempt, retry_after, body, started)
                continue
            raise self._http_error(response.status_code, raw, body, started, attempt, retry_after)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _http_error(
        self,
        status: int,
        raw: str,
        body: str,
        started: float,
        attempts: int,
        retry_after: float | None,
    ) -> ModelHTTPError:
        s = self.settings
        return ModelHTTPError(
            self.url,
            status,
            self.redact(raw),
            self.exchange(body, raw, started, None),
            provider=s.provider,
            model=s.model,
            attempts=attempts,
            retry_after=retry_after,
        )

    def _wait(self, attempt: int, retry_after: float | None, body: str, started: float) -> None:
        delay = self.settings.retry.delay(attempt, retry_after)
        total = self.settings.timeouts.total
        if total is not None and self.clock.monotonic() + delay - started > total:
            raise self.timeout("total", total, self.exchange(body, "", started, None))
        self.clock.sleep(delay)

    def _send(self, body: str, started: float, *, retry_connect: bool) -> httpx.Response | None:
        """One POST, streamed; ``None`` when the connection was refused and may be retried."""
        import httpx

        request = self._http.build_request("POST", self.settings.url, content=body.encode())
        try:
            return self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            phase = _phase(exc)
            seconds = getattr(self.settings.timeouts, phase)
            raise self.timeout(phase, seconds, self.exchange(body, "", started, None)) from None
        except httpx.ConnectError as exc:
            if retry_connect:
                log.warning("model endpoint %s refused the connection, retrying", self.url)
                return None
            raise self._unreachable(str(exc), body, started) from None
        except httpx.TransportError as exc:
            raise self._unreachable(str(exc) or type(exc).__name__, body, started) from None

    def _unreachable(self, reason: str, body: str, started: float) -> ModelUnreachable:
        s = self.settings
        return ModelUnreachable(
            self.url,
            self.redact(reason),
            self.exchange(body, "", started, None),
            provider=s.provider,
            model=s.model,
        )


def _phase(exc: Exception) -> str:
    import httpx

    for kind, phase in (
        (httpx.ConnectTimeout, "connect"),
        (httpx.WriteTimeout, "write"),
        (httpx.PoolTimeout, "pool"),
    ):
        if isinstance(exc, kind):
            return phase
    return "read"


class _Malformed(Exception):
    """An answer that is not a chat completion; the stream turns it into a ModelError."""


def _read_excerpt(response: httpx.Response) -> str:
    """The start of an error response's body; the rest is not waited for."""
    import httpx

    data = b""
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= _BODY_EXCERPT:
                break
    except httpx.HTTPError:
        pass  # an error body that breaks off is still an error; keep what came
    finally:
        response.close()
    return data[:_BODY_EXCERPT].decode("utf-8", "replace")


def _retry_after(value: str | None, clock: Clock) -> float | None:
    """A Retry-After header's seconds (delta-seconds or an HTTP-date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock.time())


class ChatStream:
    """An answer arriving: iterate for text pieces; :meth:`reply` once it has ended.

    Closing it (or leaving its ``with`` block) before the end closes the
    connection, so the server stops generating.
    """

    def __init__(
        self, client: ChatClient, body: str, response: httpx.Response, started: float, attempts: int
    ) -> None:
        self._client = client
        self._body = body
        self._response = response
        self._started = started
        self._attempts = attempts
        self._pieces: list[str] = []
        self._reply: ChatReply | None = None
        # A server that ignores "stream" answers with one JSON object: read it as such.
        kind = response.headers.get("content-type", "")
        self._sse = "event-stream" in kind or (client.settings.stream and not kind)
        self._decoder = _SseAnswer() if self._sse else _JsonAnswer()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading; an unfinished answer is cancelled by closing its connection."""
        self._response.close()

    def __iter__(self) -> Iterator[str]:
        import httpx

        c = self._client
        sse = self._sse
        if self._response.is_closed:
            return  # read already, or closed: reply() says which
        try:
            # A last "" line ends an event the server did not end with a blank line.
            source = chain(self._response.iter_lines(), [""]) if sse else self._response.iter_text()
            for line in source:
                c.check_deadline(self._body, self._decoder.raw(), self._started)
                piece = self._decoder.feed(line)
                if piece:
                    self._pieces.append(piece)
                    yield piece
                if self._decoder.done:
                    break
            self._reply = self._finish()
            if not sse:
                yield self._reply.content
        except _Malformed as exc:
            raise c.model_error(str(exc), self._partial()) from None
        except httpx.TimeoutException:
            seconds = c.settings.timeouts.read
            raise c.timeout("read", seconds, self._partial()) from None
        except httpx.TransportError as exc:
            reason = f"the answer broke off: {exc or type(exc).__name__}"
            raise c.model_error(reason, self._partial()) from None
        finally:
            self.close()

    def _partial(self) -> Exchange:
        return self._client.exchange(self._body, self._decoder.raw(), self._started, None)

    def _finish(self) -> ChatReply:
        c = self._client
        raw, usage, content = self._decoder.completion("".join(self._pieces))
        if usage is None:
            usage = _estimate(self._body, content, self._decoder.pieces)
        exchange = c.exchange(self._body, raw, self._started, usage)
        c.count(usage)
        return ChatReply(content, self._decoder.finish_reason, usage, exchange, self._attempts)

    def reply(self) -> ChatReply:
        """The whole answer; only once the stream has been read to its end."""
        if self._reply is None:
            raise self._client.model_error("the answer was not read to its end")
        return self._reply


def _estimate(body: str, content: str, pieces: int) -> Usage:
    """About four characters a token for the prompt; a streamed piece is about one token."""
    prompt = sum(len(m.get("content", "")) for m in json.loads(body)["messages"])
    return Usage(max(1, prompt // 4), pieces or max(1, len(content) // 4), estimated=True)


def _usage_of(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    try:
        return Usage(int(data["prompt_tokens"]), int(data["completion_tokens"]))
    except (KeyError, TypeError, ValueError):
        return None


class _JsonAnswer:
    """A non-streamed answer: one chat.completion object, kept as it came."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.done = False
        self.finish_reason: str | None = None
        self.pieces = 0

    def raw(self) -> str:
        return "".join(self.text)

    def feed(self, text: str) -> str:
        self.text.append(text)
        return ""

    def completion(self, content: str) -> tuple[str, Usage | None, str]:
        raw = self.raw()
        data = _json_object(raw)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            text = None
        if not isinstance(text, str):
            raise _Malformed(f"malformed chat-completions answer: {raw[:200]!r}")
        self.finish_reason = choice.get("finish_reason")
        self.pieces = 1
        return raw, _usage_of(data.get("usage")), text


def _json_object(raw: str) -> Any:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class _SseAnswer:
    """A streamed answer: ``data:`` events of chat.completion.chunk objects, then [DONE]."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.data: list[str] = []
        self.done = False
        self.finish_reason: str | None = None
        self.pieces = 0
        self.usage: Usage | None = None
        self.meta: dict[str, Any] = {}

    def raw(self) -> str:
        return "\n".join(self.events)

    def feed(self, line: str) -> str:
        if line.startswith(":"):
            return ""  # a comment, e.g. a keep-alive
        if line.startswith("data:"):
            self.data.append(line[5:].removeprefix(" "))
            return ""
        if line or not self.data:
            return ""  # another field (event:, id:, retry:) or an empty event
        payload, self.data = "\n".join(self.data), []
        return self._event(payload)

    def _event(self, payload: str) -> str:
        self.events.append(payload)
        if payload.strip() == "[DONE]":
            self.done = True
            return ""
        try:
            chunk = json.loads(payload)
        except ValueError:
            raise _Malformed(f"malformed stream event: {payload[:200]!r}") from None
        if not isinstance(chunk, dict):
            raise _Malformed(f"malformed stream event: {payload[:200]!r}")
        if "error" in chunk:
            raise _Malformed(f"the stream reported an error: {payload[:300]}")
        self.usage = _usage_of(chunk.get("usage")) or self.usage
        for key in ("id", "created", "model"):
            self.meta.setdefault(key, chunk.get(key))
        choices = chunk.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        self.finish_reason = choice.get("finish_reason") or self.finish_reason
        piece = (choice.get("delta") or {}).get("content") or ""
        if not isinstance(piece, str):
            raise _Malformed(f"a stream event's content is not text: {payload[:200]!r}")
        self.pieces += bool(piece)
        return piece

    def completion(self, content: str) -> tuple[str, Usage | None, str]:
        completion: dict[str, Any] = {
            **self.meta,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": self.finish_reason,
                }
            ],
            "streamed_events": len(self.events),
        }
        if self.usage is not None:
            completion["usage"] = {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "total_tokens": self.usage.total_tokens,
            }
        return json.dumps(completion, ensure_ascii=False), self.usage, content


__all__ = ["ChatClient", "ChatReply", "ChatStream", "Clock", "SystemClock", "public_url"]
