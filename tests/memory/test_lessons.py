"""A mission's rejection becomes a lesson, and the next mission's context holds it."""

from __future__ import annotations

from pathlib import Path

import ledger
from swarm.brain import EditRequest
from swarm.missions import MissionOptions, run_mission, start_mission
from tests.memory.conftest import BREAKING, Embed, copy_sample, needs_memory_extra

needs_memory_extra()

from swarm import memory  # noqa: E402
from swarm.memory import Lesson, Memory  # noqa: E402

TENANT, PROJECT = "acme", "shop"
NEXT_TASK = "Change calculate_total so that the tax is taken off the prices instead of added"


def test_a_rejection_is_a_lesson_in_the_next_missions_context(tmp_path: Path, embed: Embed) -> None:
    with ledger.open_ledger(f"sqlite://{tmp_path / 'ledger.sqlite'}") as led:
        repo = copy_sample(tmp_path / "repo")
        opts = MissionOptions(coders=1, backoff_s=0.0)
        first = start_mission(
            led, TENANT, PROJECT, repo, EditRequest("patch", {"diff": BREAKING}), options=opts
        )
        assert run_mission(led, TENANT, PROJECT, first).verdict == "rejected"
        # The next mission is recorded; its coder asks memory for context on its task.
        start_mission(led, TENANT, PROJECT, repo, EditRequest("ask", {"prompt": NEXT_TASK}),
                      brain="openai", brain_settings={"base_url": "http://127.0.0.1:9",
                                                      "model": "m"}, options=opts)  # fmt: skip
        with Memory(led, str(tmp_path / "memory"), embed=embed) as mem:
            memory.attach(mem)
            try:
                context = memory.context_for(TENANT, PROJECT, NEXT_TASK, 6)
            finally:
                memory.attach(None)
    lessons = [h for h in context if isinstance(h, Lesson)]
    assert lessons and lessons[0].mission_id == first, [h.title for h in context]
    lesson = lessons[0]
    assert lesson.outcome == "failed" and lesson.verdict == "rejected"
    # The failing tests, their messages and the edit that broke them, in the lesson's words.
    assert "test_total_with_tax" in lesson.text and "AssertionError" in lesson.text
    assert "-    return round(sum(prices) * (1.0 + tax), 2)" in lesson.text
    assert "Reverted the edit of shop/pricing.py" in lesson.text
    assert any(getattr(h, "symbol", "") == "calculate_total" for h in context)
