"""Model settings per agent kind: the planner may use another model (or endpoint) than the
coders, and the choice survives the mission's record."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from swarm.brain import OpenAIBrain, make_brain
from swarm.missions._records import _settings_message, _settings_of
from tests._model_server import ModelServer, completion


@pytest.fixture
def server() -> Iterator[ModelServer]:
    scripted = ModelServer()
    yield scripted
    scripted.close()


def test_the_planner_talks_to_its_own_model_and_the_coder_to_the_default(
    server: ModelServer,
) -> None:
    brain = make_brain(
        "openai", base_url=server.url, model="coder-1.5b", planner_model="planner-7b", max_tokens=99
    )
    assert isinstance(brain, OpenAIBrain)
    server.script(completion("plan"), completion("code"))
    assert brain.for_kind("planner").chat([{"role": "user", "content": "p"}])[0] == "plan"
    assert brain.for_kind("coder").chat([{"role": "user", "content": "c"}])[0] == "code"
    models = [r.body["model"] for r in server.requests]
    assert models == ["planner-7b", "coder-1.5b"]
    assert [r.body["max_tokens"] for r in server.requests] == [99, 99]  # on every request


def test_per_kind_settings_and_the_budgets_of_a_call_are_recorded_and_read_back() -> None:
    settings = {
        "base_url": "http://127.0.0.1:8080",
        "model": "coder",
        "timeout_s": 240.0,
        "max_tokens": 512,
        "context_tokens": 4096,
        "planner_model": "planner",
        "planner_base_url": "http://127.0.0.1:8081",
    }
    assert _settings_of(_settings_message(settings)) == settings
    brain = make_brain("openai", **_settings_of(_settings_message(settings)))
    assert isinstance(brain, OpenAIBrain)
    planner = brain.for_kind("planner")
    assert planner.settings.endpoint == "http://127.0.0.1:8081" and planner.model == "planner"
    assert planner.settings.context_tokens == 4096 and brain.settings.timeouts.read == 240.0
