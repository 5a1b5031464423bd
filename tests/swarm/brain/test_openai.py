"""OpenAIBrain against a local HTTP server that speaks chat-completions (the one allowed fake)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from swarm.brain import (
    EditRequest,
    ModelError,
    ModelUnreachable,
    OpenAIBrain,
    PatchDoesNotApply,
    replay_proposal,
)
from swarm.scout import RepoIndex
from tests.swarm.brain.conftest import reader

ANSWER = """Here is the change.

```diff
--- a/shop/util.py
+++ b/shop/util.py
@@ -1,2 +1,2 @@
 def helper():
-    return 1
+    return 42
```
"""


class FakeModel:
    def __init__(self) -> None:
        self.answer: str | bytes = ANSWER
        self.status = 200
        self.requests: list[dict[str, object]] = []
        self.headers: list[dict[str, str]] = []

    def body(self) -> bytes:
        if isinstance(self.answer, bytes):
            return self.answer
        return json.dumps(
            {
                "id": "x",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.answer},
                        "finish_reason": "stop",
                    }
                ],
            }
        ).encode()


@pytest.fixture
def model() -> Iterator[tuple[FakeModel, str]]:
    fake = FakeModel()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            fake.requests.append(json.loads(self.rfile.read(length)))
            fake.headers.append(dict(self.headers))
            if self.path != "/v1/chat/completions":
                self.send_response(404)
                self.end_headers()
                return
            body = fake.body()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


ASK = EditRequest("ask", {"prompt": "make helper return 42"})


def test_ask_returns_edits_and_the_exact_exchange(
    model: tuple[FakeModel, str], index: RepoIndex, repo: Path
) -> None:
    fake, url = model
    brain = OpenAIBrain(url, "qwen", api_key="sekret")
    proposal = brain.propose(ASK, index, reader(repo))
    assert [(e.path, e.new_source) for e in proposal.edits] == [
        ("shop/util.py", "def helper():\n    return 42\n")
    ]
    (exchange,) = proposal.transcript
    assert json.loads(exchange.request_json) == fake.requests[0]
    assert json.loads(exchange.response_json)["choices"][0]["message"]["content"] == ANSWER
    assert fake.headers[0]["Authorization"] == "Bearer sekret"
    user = fake.requests[0]["messages"][1]["content"]  # type: ignore[index]
    assert "make helper return 42" in user and "=== shop/util.py ===" in user
    assert proposal.rationale == "Here is the change."


def test_targets_and_edit_ask_the_model_once(
    model: tuple[FakeModel, str], index: RepoIndex, repo: Path
) -> None:
    fake, url = model
    brain = OpenAIBrain(url + "/v1/", "qwen")
    assert brain.targets(ASK, index) == ["shop/util.py"]
    edit = brain.edit(ASK, "shop/util.py", (repo / "shop/util.py").read_text(), index)
    assert edit.new_source == "def helper():\n    return 42\n"
    assert len(fake.requests) == 1


def test_replay_rebuilds_the_proposal_without_any_model(
    model: tuple[FakeModel, str], index: RepoIndex, repo: Path
) -> None:
    fake, url = model
    proposal = OpenAIBrain(url, "qwen").propose(ASK, index, reader(repo))
    again = replay_proposal(ASK, proposal.transcript, reader(repo), index)
    assert again.edits == proposal.edits
    assert len(fake.requests) == 1


def test_patch_requests_never_reach_the_model(
    model: tuple[FakeModel, str], index: RepoIndex, repo: Path
) -> None:
    fake, url = model
    diff = ANSWER.split("```diff\n")[1].split("```")[0]
    proposal = OpenAIBrain(url, "qwen").propose(
        EditRequest("patch", {"diff": diff}), index, reader(repo)
    )
    assert proposal.edits[0].new_source == "def helper():\n    return 42\n"
    assert fake.requests == []


def test_an_unreachable_endpoint_is_a_clear_error(index: RepoIndex, repo: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    with pytest.raises(ModelUnreachable) as err:
        OpenAIBrain(f"http://127.0.0.1:{port}", "qwen", timeout_s=5).propose(
            ASK, index, reader(repo)
        )
    assert f"127.0.0.1:{port}" in str(err.value)


@pytest.mark.parametrize(
    ("answer", "status", "match"),
    [
        (b"this is not json", 200, "malformed"),
        (b'{"choices": []}', 200, "malformed"),
        ("I would rather not.", 200, "no unified diff"),
        ("```diff\n--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n```", 200, "malformed"),
        (ANSWER.replace("shop/util.py", "../../etc/passwd"), 200, "outside the repository"),
        (b'{"error": {"message": "overloaded"}}', 503, "HTTP 503"),
    ],
)
def test_a_useless_answer_is_a_model_error_with_the_exchange(
    model: tuple[FakeModel, str],
    index: RepoIndex,
    repo: Path,
    answer: str | bytes,
    status: int,
    match: str,
) -> None:
    fake, url = model
    fake.answer, fake.status = answer, status
    with pytest.raises(ModelError, match=match) as err:
        OpenAIBrain(url, "qwen").propose(ASK, index, reader(repo))
    assert err.value.exchange is not None and err.value.exchange.request_json


def test_a_diff_from_the_model_that_does_not_apply_is_refused(
    model: tuple[FakeModel, str], index: RepoIndex, repo: Path
) -> None:
    fake, url = model
    fake.answer = ANSWER.replace("-    return 1", "-    return 5")
    with pytest.raises(PatchDoesNotApply, match=r"shop/util\.py: hunk #1"):
        OpenAIBrain(url, "qwen").propose(ASK, index, reader(repo))
