"""The web package's small pure parts: the DAG's columns, redirects, origins, sessions, cursors."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers
from starlette.requests import Request

from swarm.client import ClientError, TicketInfo
from swarm.web._live import cursor_of
from swarm.web._login import safe_next
from swarm.web._pages import depths
from swarm.web._render import as_text, duration, environment
from swarm.web._security import cross_site
from swarm.web._server import WebConfig, WebConfigError, check, is_loopback
from swarm.web._session import IDLE_S, Sessions
from tests.conftest import ManualClock


def _t(tid: str, *deps: str) -> TicketInfo:
    return TicketInfo(tid, "coder", "planned", 1, "", tuple(deps))


def test_a_ticket_sits_one_column_right_of_its_deepest_dependency() -> None:
    cols = depths((_t("scout"), _t("base"), _t("e1", "scout", "base"), _t("v", "e1", "scout")))
    assert [[t.id for t in c] for c in cols] == [["scout", "base"], ["e1"], ["v"]]


def test_a_cycle_or_a_missing_dependency_does_not_hang_the_page() -> None:
    cols = depths((_t("a", "b"), _t("b", "a"), _t("c", "gone")))
    assert sorted(t.id for c in cols for t in c) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("target", "goes"),
    [
        ("/p/shop", "/p/shop"),
        ("//evil.example", "/projects"),
        ("/\\evil.example", "/projects"),
        ("https://evil.example", "/projects"),
        ("", "/projects"),
    ],
)
def test_sign_in_goes_on_only_to_a_path_of_this_site(target: str, goes: str) -> None:
    assert safe_next(target) == goes


@pytest.mark.parametrize(
    ("headers", "cross"),
    [
        ({"sec-fetch-site": "same-origin", "origin": "http://h:1", "host": "h:1"}, False),
        ({"sec-fetch-site": "none"}, False),
        ({"sec-fetch-site": "cross-site"}, True),
        ({"sec-fetch-site": "same-site"}, True),
        ({"origin": "http://h:1", "host": "h:1"}, False),
        ({"origin": "http://evil:1", "host": "h:1"}, True),
        ({"origin": "null", "host": "h:1"}, True),
        ({"host": "h:1"}, False),  # no browser's form: curl, scripts
    ],
)
def test_cross_site_posts_are_told_by_fetch_metadata_then_origin(
    headers: dict[str, str], cross: bool
) -> None:
    assert cross_site(Headers(headers)) is cross


def test_a_session_lasts_while_used_and_ends_when_idle_or_closed() -> None:
    clock = ManualClock()
    sessions = Sessions(clock=lambda: clock.now_us / 1e6)
    sid = sessions.open("swt_x_y")
    assert sessions.token(sid) == "swt_x_y"
    clock.advance(IDLE_S - 1)
    assert sessions.token(sid) == "swt_x_y"  # used: the idle time starts again
    clock.advance(IDLE_S + 1)
    assert sessions.token(sid) is None
    other = sessions.open("swt_a_b")
    sessions.close(other)
    assert sessions.token(other) is None and sessions.token("made-up") is None


@pytest.mark.parametrize(
    ("host", "loop"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("192.0.2.1", False), ("example.com", False), ("::", False)],
)  # fmt: skip
def test_loopback_is_this_machine_only(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop


def test_a_non_loopback_port_needs_tls_and_a_malformed_one_is_named(tmp_path: object) -> None:
    with pytest.raises(WebConfigError, match="needs HTTPS"):
        check(WebConfig("0.0.0.0:8080"))
    with pytest.raises(WebConfigError, match="is not HOST:PORT"):
        check(WebConfig("127.0.0.1:http"))
    assert check(WebConfig("[::1]:0")) == ("::1", 0)


def _request(headers: dict[str, str], query: str = "") -> Request:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "headers": raw, "query_string": query.encode()})


def test_the_stream_resumes_from_last_event_id_over_the_pages_cursor() -> None:
    vs, other = "0" * 23 + "a", "0" * 23 + "b"
    assert cursor_of(_request({"last-event-id": vs}, f"after={other}")) == vs
    assert cursor_of(_request({}, f"after={other}")) == other
    assert cursor_of(_request({})) == ""
    for bad in ("zz", "0" * 25, "<script>" * 3):
        with pytest.raises(ClientError) as refused:
            cursor_of(_request({"last-event-id": bad}))
        assert refused.value.code == "INVALID_ARGUMENT"


def test_templates_escape_everything_and_show_bytes_as_text() -> None:
    env = environment()
    html = env.from_string("<pre>{{ x }}</pre>").render(x="<script>alert(1)</script>")
    assert html == "<pre>&lt;script&gt;alert(1)&lt;/script&gt;</pre>"
    assert as_text(b"ok \xff") == "ok \ufffd"
    assert as_text(b"a" * (600 * 1024)).endswith("more bytes not shown)")
    assert duration(1_000_000, 3_500_000) == "2.5s" and duration(1, 0) == ""
