"""OpenAIBrain against the scripted model server (the one allowed fake, at the HTTP seam)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from swarm.brain import (
    EditDoesNotApply,
    EditRequest,
    ModelError,
    ModelSettings,
    ModelTimeout,
    ModelUnreachable,
    OpenAIBrain,
    PatchDoesNotApply,
    Usage,
    replay_proposal,
)
from swarm.scout import RepoIndex
from tests._model_server import ModelServer, Reply, completion, status, stream
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


BLOCKS = """Return the answer.

shop/util.py
```python
<<<<<<< SEARCH
    return 1
=======
    return 42
>>>>>>> REPLACE
```
"""

ASK = EditRequest("ask", {"prompt": "make helper return 42"})
FIXED = "def helper():\n    return 42\n"


def test_ask_returns_edits_and_the_exact_exchange(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    model_server.script(stream([BLOCKS[:40], BLOCKS[40:]], usage=(120, 30)))
    brain = OpenAIBrain(model_server.url, "qwen", api_key="sekret", max_tokens=300)
    proposal = brain.propose(ASK, index, reader(repo))
    assert [(e.path, e.new_source) for e in proposal.edits] == [("shop/util.py", FIXED)]
    (exchange,) = proposal.transcript
    (got,) = model_server.requests
    assert json.loads(exchange.request_json) == got.body
    assert got.body["max_tokens"] == 300 and got.body["stream"] is True
    assert json.loads(exchange.response_json)["choices"][0]["message"]["content"] == BLOCKS
    assert exchange.usage == Usage(120, 30) and brain.usage == Usage(120, 30)
    assert got.headers["Authorization"] == "Bearer sekret"
    system, user = got.messages[0]["content"], got.messages[1]["content"]
    assert "<<<<<<< SEARCH" in system
    assert "make helper return 42" in user and "=== shop/util.py ===" in user
    assert "Repository files:" not in user  # the named file, not the whole list
    assert proposal.rationale == "Return the answer."


def test_a_unified_diff_answer_is_still_accepted(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    model_server.script(completion(ANSWER))
    proposal = OpenAIBrain(model_server.url, "qwen").propose(ASK, index, reader(repo))
    assert [(e.path, e.new_source) for e in proposal.edits] == [("shop/util.py", FIXED)]
    assert proposal.rationale == "Here is the change."


def test_targets_and_edit_ask_the_model_once(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    model_server.script(stream([BLOCKS]))
    brain = OpenAIBrain(model_server.url + "/v1/", "qwen")
    assert brain.targets(ASK, index) == ["shop/util.py"]
    edit = brain.edit(ASK, "shop/util.py", (repo / "shop/util.py").read_text(), index)
    assert edit.new_source == FIXED
    assert len(model_server.requests) == 1


def test_replay_rebuilds_a_streamed_proposal_without_any_model(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    model_server.script(stream(list(BLOCKS)))  # one character a chunk
    proposal = OpenAIBrain(model_server.url, "qwen").propose(ASK, index, reader(repo))
    again = replay_proposal(ASK, proposal.transcript, reader(repo), index)
    assert again.edits == proposal.edits
    assert len(model_server.requests) == 1


def test_patch_requests_never_reach_the_model(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    diff = ANSWER.split("```diff\n")[1].split("```")[0]
    proposal = OpenAIBrain(model_server.url, "qwen").propose(
        EditRequest("patch", {"diff": diff}), index, reader(repo)
    )
    assert proposal.edits[0].new_source == FIXED
    assert model_server.requests == []


def test_an_unreachable_endpoint_is_a_clear_error(index: RepoIndex, repo: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    settings = ModelSettings(f"http://127.0.0.1:{port}", "qwen")
    with pytest.raises(ModelUnreachable) as err:
        OpenAIBrain.from_settings(settings, clock=_NoWait()).propose(ASK, index, reader(repo))
    assert f"127.0.0.1:{port}" in str(err.value)


class _NoWait:
    def monotonic(self) -> float:
        return 0.0

    def time(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        pass


def test_the_timeout_is_the_read_timeout_and_names_its_phase(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    model_server.script(Reply(chunks=(b"",), hold_after=0))  # headers, then nothing
    brain = OpenAIBrain(model_server.url, "qwen", timeout_s=0.2)
    with pytest.raises(ModelTimeout) as err:
        brain.propose(ASK, index, reader(repo))
    assert err.value.phase == "read" and err.value.exchange is not None
    assert len(model_server.requests) == 1  # a read timeout is not retried


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (Reply(body=b"this is not json"), "malformed"),
        (Reply(body=b'{"choices": []}'), "malformed"),
        (completion("I would rather not."), "holds no edit"),
        (completion(BLOCKS.replace("shop/util.py", "../../etc/passwd")), "outside the repository"),
        (completion(BLOCKS.replace("return 42", "return 1")), "leave every file as it was"),
        (status(400, "no such model"), "HTTP 400"),
    ],
)
def test_a_useless_answer_is_a_model_error_with_the_exchange(
    model_server: ModelServer,
    index: RepoIndex,
    repo: Path,
    reply: Reply,
    match: str,
) -> None:
    model_server.script(reply)
    with pytest.raises(ModelError, match=match) as err:
        OpenAIBrain(model_server.url, "qwen", stream=False).propose(ASK, index, reader(repo))
    assert err.value.exchange is not None and err.value.exchange.request_json
    assert err.value.model == "qwen" and err.value.provider == "openai"


def test_an_edit_that_does_not_apply_carries_its_exchange_for_the_record(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    model_server.script(completion(BLOCKS.replace("    return 1\n=", "    return 5\n=")))
    with pytest.raises(EditDoesNotApply) as err:
        OpenAIBrain(model_server.url, "qwen").propose(ASK, index, reader(repo))
    e = err.value
    assert e.path == "shop/util.py" and e.line == "    return 5"
    assert (2, "    return 1") in e.closest
    assert e.exchange is not None and "return 5" in e.exchange.response_json


def test_a_diff_from_the_model_that_does_not_apply_is_refused(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    model_server.script(completion(ANSWER.replace("-    return 1", "-    return 5")))
    with pytest.raises(PatchDoesNotApply, match=r"shop/util\.py: hunk #1"):
        OpenAIBrain(model_server.url, "qwen").propose(ASK, index, reader(repo))


def test_make_brain_passes_the_model_settings_through() -> None:
    from swarm.brain import make_brain

    brain = make_brain(
        "openai", base_url="http://127.0.0.1:1", model="m", timeout_s=240, max_tokens=64
    )
    assert isinstance(brain, OpenAIBrain)
    assert brain.settings.max_tokens == 64 and brain.settings.timeouts.read == 240
    assert brain.settings.timeouts.connect == 10.0


def test_a_loop_can_feed_a_failed_edit_back_and_apply_the_second_answer(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    from swarm.brain import BrainError, feedback_for, proposal_from_answer

    wrong = BLOCKS.replace("    return 1\n=", "    return 5\n=")
    model_server.script(stream([wrong]), stream([BLOCKS]))
    brain = OpenAIBrain(model_server.url, "qwen")
    messages = [{"role": "user", "content": "make helper return 42"}]
    transcript = []
    for _round in range(2):
        content, exchange = brain.chat(messages)
        transcript.append(exchange)
        try:
            proposal = proposal_from_answer(content, transcript, reader(repo), index)
            break
        except BrainError as exc:
            messages += [
                {"role": "assistant", "content": content},
                {"role": "user", "content": feedback_for(exc)},
            ]
    assert [(e.path, e.new_source) for e in proposal.edits] == [("shop/util.py", FIXED)]
    second = model_server.requests[1].messages[-1]["content"]
    assert "shop/util.py" in second and "'return 5'" in second and "    2 |     return 1" in second


def test_the_prompt_holds_a_file_the_task_names_by_path(
    model_server: ModelServer, index: RepoIndex, repo: Path
) -> None:
    model_server.script(stream([BLOCKS]))
    ask = EditRequest("ask", {"prompt": "in shop/util.py make the value 42"})
    OpenAIBrain(model_server.url, "qwen").propose(ask, index, reader(repo))
    user = model_server.requests[0].messages[1]["content"]
    assert "=== shop/util.py ===" in user and "Repository files:" not in user
