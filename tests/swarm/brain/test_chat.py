"""ChatClient against the scripted model server: streaming, retries, timeouts, usage, secrecy."""

from __future__ import annotations

import email.utils
import json
import logging
import socket
from dataclasses import dataclass, field

import pytest

from swarm.brain import (
    ChatClient,
    InvalidRequest,
    ModelError,
    ModelHTTPError,
    ModelSettings,
    ModelTimeout,
    ModelUnreachable,
    RetryPolicy,
    Timeouts,
    Usage,
)
from tests._model_server import ModelServer, Reply, completion, sse_event, status, stream

EPOCH = 1_800_000_000.0
HELLO = [{"role": "user", "content": "say hello"}]


@dataclass
class FakeClock:
    """Time that moves only when the client sleeps (or, with ``tick``, on every read)."""

    now: float = 0.0
    tick: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        self.now += self.tick
        return self.now

    def time(self) -> float:
        return EPOCH + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(server: ModelServer, clock: FakeClock | None = None, **options: object) -> ChatClient:
    settings = ModelSettings(server.url, "qwen-test", **options)  # type: ignore[arg-type]
    return ChatClient(settings, clock=clock or FakeClock())


def test_a_streamed_answer_is_assembled_with_the_servers_usage(model_server: ModelServer) -> None:
    model_server.script(stream(["Hel", "lo", "!"], usage=(12, 3)))
    with client(model_server, api_key="k-123", max_tokens=77) as chat:
        reply = chat.complete(HELLO)
    assert reply.content == "Hello!"
    assert reply.usage == Usage(12, 3) and reply.usage.total_tokens == 15
    assert reply.finish_reason == "stop" and not reply.truncated and reply.attempts == 1
    (got,) = model_server.requests
    assert got.path == "/v1/chat/completions"
    assert got.body["max_tokens"] == 77 and got.body["stream"] is True
    assert got.body["stream_options"] == {"include_usage": True}
    assert got.headers["Authorization"] == "Bearer k-123"
    assert json.loads(reply.exchange.request_json) == got.body
    recorded = json.loads(reply.exchange.response_json)
    assert recorded["choices"][0]["message"]["content"] == "Hello!"
    assert recorded["usage"]["total_tokens"] == 15
    assert reply.exchange.usage == Usage(12, 3)


def test_stream_yields_pieces_as_they_arrive(model_server: ModelServer) -> None:
    model_server.script(stream(["a", "b", "c"]))
    with client(model_server) as chat, chat.stream(HELLO) as answer:
        assert list(answer) == ["a", "b", "c"]
        assert answer.reply().content == "abc"


def test_a_whole_answer_is_recorded_byte_for_byte(model_server: ModelServer) -> None:
    reply_ = completion("fine", usage=(5, 2))
    model_server.script(reply_)
    with client(model_server, stream=False) as chat:
        reply = chat.complete(HELLO)
    assert reply.content == "fine" and reply.usage == Usage(5, 2)
    assert reply.exchange.response_json == reply_.body.decode()
    assert "stream" not in model_server.requests[0].body


def test_finish_reason_length_says_the_answer_was_cut(model_server: ModelServer) -> None:
    model_server.script(stream(["par"], finish="length"))
    with client(model_server) as chat:
        assert chat.complete(HELLO).truncated


def test_without_reported_usage_the_estimate_says_so(model_server: ModelServer) -> None:
    model_server.script(stream(["one", " two", " three"], usage=None))
    with client(model_server) as chat:
        reply = chat.complete([{"role": "user", "content": "x" * 400}])
    assert reply.usage == Usage(100, 3, estimated=True)


def test_usage_adds_up_over_a_clients_calls(model_server: ModelServer) -> None:
    model_server.script(stream(["a"], usage=(10, 1)), stream(["b"], usage=(20, 2)))
    with client(model_server) as chat:
        chat.complete(HELLO)
        chat.complete(HELLO)
        assert chat.usage == Usage(30, 3)


def test_429_waits_as_long_as_retry_after_says(model_server: ModelServer) -> None:
    model_server.script(status(429, retry_after="3"), stream(["ok"]))
    clock = FakeClock()
    with client(model_server, clock) as chat:
        reply = chat.complete(HELLO)
    assert reply.content == "ok" and reply.attempts == 2
    assert clock.sleeps == [3.0]
    first, second = model_server.requests
    assert first.body == second.body


def test_retry_after_as_an_http_date_is_honoured(model_server: ModelServer) -> None:
    when = email.utils.formatdate(EPOCH + 7, usegmt=True)
    model_server.script(status(503, retry_after=when), stream(["ok"]))
    clock = FakeClock()
    with client(model_server, clock) as chat:
        chat.complete(HELLO)
    assert clock.sleeps == [7.0]


def test_5xx_backs_off_exponentially_then_succeeds(model_server: ModelServer) -> None:
    model_server.script(status(500), status(502), stream(["ok"]))
    clock = FakeClock()
    retry = RetryPolicy(attempts=3, base_s=0.5)
    with client(model_server, clock, retry=retry) as chat:
        assert chat.complete(HELLO).attempts == 3
    assert clock.sleeps == [0.5, 1.0]


def test_5xx_on_every_attempt_names_status_provider_and_model(model_server: ModelServer) -> None:
    model_server.script(status(500, "kaput"), status(500, "kaput"), status(500, "kaput"))
    with client(model_server) as chat, pytest.raises(ModelHTTPError) as err:
        chat.complete(HELLO)
    e = err.value
    assert e.status == 500 and e.attempts == 3 and len(model_server.requests) == 3
    assert "HTTP 500 after 3 attempts" in str(e) and "kaput" in str(e)
    assert "openai" in str(e) and "qwen-test" in str(e) and model_server.url in str(e)
    assert e.exchange is not None and "kaput" in e.exchange.response_json


def test_a_retry_after_longer_than_allowed_fails_at_once(model_server: ModelServer) -> None:
    model_server.script(status(429, retry_after="3600"))
    clock = FakeClock()
    with client(model_server, clock) as chat, pytest.raises(ModelHTTPError) as err:
        chat.complete(HELLO)
    assert err.value.retry_after == 3600.0 and "Retry-After 3600s" in str(err.value)
    assert clock.sleeps == [] and len(model_server.requests) == 1


def test_a_client_error_is_not_retried(model_server: ModelServer) -> None:
    model_server.script(status(400, "bad model name"))
    with client(model_server) as chat, pytest.raises(ModelHTTPError, match="HTTP 400"):
        chat.complete(HELLO)
    assert len(model_server.requests) == 1


def test_malformed_json_is_a_model_error_with_the_body_on_record(
    model_server: ModelServer,
) -> None:
    model_server.script(Reply(body=b"<html>not json</html>"))
    with client(model_server, stream=False) as chat, pytest.raises(ModelError) as err:
        chat.complete(HELLO)
    assert "malformed chat-completions answer" in str(err.value)
    assert err.value.exchange is not None
    assert err.value.exchange.response_json == "<html>not json</html>"


def test_a_malformed_stream_event_is_a_model_error(model_server: ModelServer) -> None:
    bad = Reply(headers=(("Content-Type", "text/event-stream"),), chunks=(sse_event("{oops"),))
    model_server.script(bad)
    with client(model_server) as chat, pytest.raises(ModelError, match="malformed stream event"):
        chat.complete(HELLO)


def test_closing_a_stream_early_hangs_up_on_the_server(model_server: ModelServer) -> None:
    model_server.script(stream(["first", "second"], hold_after=1, until_hangup=True))
    with client(model_server) as chat:
        with chat.stream(HELLO) as answer:
            assert next(iter(answer)) == "first"
        with pytest.raises(ModelError, match="not read to its end"):
            answer.reply()
    assert model_server.disconnected.wait(30), "the server never saw the client hang up"


def test_a_read_timeout_is_named_and_not_retried(model_server: ModelServer) -> None:
    model_server.script(Reply(chunks=(b"{",), hold_after=1))
    timeouts = Timeouts(read=0.2)
    with (
        client(model_server, timeouts=timeouts, stream=False) as chat,
        pytest.raises(ModelTimeout) as err,
    ):
        chat.complete(HELLO)
    assert err.value.phase == "read" and "read timeout of 0.2s" in str(err.value)
    assert len(model_server.requests) == 1


def test_a_read_timeout_hangs_up_so_the_server_stops_computing(
    model_server: ModelServer,
) -> None:
    model_server.script(stream(["thinking"], hold_after=1, until_hangup=True))
    with (
        client(model_server, timeouts=Timeouts(read=0.2)) as chat,
        pytest.raises(ModelTimeout, match="read timeout"),
    ):
        chat.complete(HELLO)
    assert model_server.disconnected.wait(30), "the abandoned call kept its connection"


def test_the_total_deadline_stops_a_long_stream_and_hangs_up(model_server: ModelServer) -> None:
    model_server.script(stream([f"w{i} " for i in range(50)]))
    clock = FakeClock(tick=1.0)  # every reading of the clock is a second later
    timeouts = Timeouts(total=10.0)
    with client(model_server, clock, timeouts=timeouts) as chat, pytest.raises(ModelTimeout) as err:
        chat.complete(HELLO)
    assert err.value.phase == "total"
    assert err.value.exchange is not None and "w0" in err.value.exchange.response_json


def test_a_refused_connection_is_retried_then_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    clock = FakeClock()
    settings = ModelSettings(f"http://127.0.0.1:{port}", "qwen", retry=RetryPolicy(attempts=2))
    with ChatClient(settings, clock=clock) as chat, pytest.raises(ModelUnreachable) as err:
        chat.complete(HELLO)
    assert f"127.0.0.1:{port}" in str(err.value) and "qwen" in str(err.value)
    assert clock.sleeps == [0.5]


def test_the_api_key_never_appears_in_errors_logs_or_records(
    model_server: ModelServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = "sk-very-secret-123"
    echo = f"bad key: Bearer {key}"
    model_server.script(status(500, echo), status(401, echo))
    settings = ModelSettings(model_server.url, "qwen", api_key=key)
    caplog.set_level(logging.DEBUG)
    with ChatClient(settings, clock=FakeClock()) as chat, pytest.raises(ModelHTTPError) as err:
        chat.complete(HELLO)
    assert err.value.status == 401 and "bad key" in str(err.value)
    assert key not in str(err.value) and key not in err.value.body
    assert err.value.exchange is not None and key not in err.value.exchange.response_json
    assert key not in caplog.text and "HTTP 500" in caplog.text
    assert key not in repr(settings)


def test_a_password_in_the_endpoint_url_is_not_shown(model_server: ModelServer) -> None:
    model_server.script(status(400))
    host = model_server.url.removeprefix("http://")
    settings = ModelSettings(f"http://user:pw-secret@{host}", "qwen")
    with ChatClient(settings, clock=FakeClock()) as chat, pytest.raises(ModelHTTPError) as err:
        chat.complete(HELLO)
    assert "pw-secret" not in str(err.value) and host in str(err.value)


def test_settings_read_the_key_from_the_named_variable() -> None:
    s = ModelSettings.from_env("http://h:1/v1/", "m", key_env="MY_KEY", environ={"MY_KEY": "k"})
    assert s.api_key == "k" and s.url == "http://h:1/v1/chat/completions"
    assert ModelSettings.from_env("http://h:1", "m", environ={}).api_key is None
    with pytest.raises(InvalidRequest, match="MY_KEY is not set"):
        ModelSettings.from_env("http://h:1", "m", key_env="MY_KEY", environ={})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"endpoint": "ftp://h"}, "must start with http"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"model": ""}, "model name"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"endpoint": "http://h", "model": "m", **kwargs}
    with pytest.raises(InvalidRequest, match=match):
        ModelSettings(**args)  # type: ignore[arg-type]


def test_a_timeout_that_is_not_positive_is_refused_naming_its_phase() -> None:
    with pytest.raises(InvalidRequest, match="read timeout must be positive"):
        Timeouts(read=0)


def test_a_stream_read_twice_or_after_closing_yields_nothing_more(
    model_server: ModelServer,
) -> None:
    model_server.script(stream(["a", "b"]), stream(["c"]))
    with client(model_server) as chat:
        answer = chat.stream(HELLO)
        assert list(answer) == ["a", "b"] and list(answer) == []
        assert answer.reply().content == "ab"
        closed = chat.stream(HELLO)
        closed.close()
        assert list(closed) == []
        with pytest.raises(ModelError, match="not read to its end"):
            closed.reply()
