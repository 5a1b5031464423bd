"""What memory returns: frozen value objects, importable without the ``memory`` extra."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The kinds of point memory holds, each in its own collection.
KINDS = ("code", "lesson")


@dataclass(frozen=True, slots=True)
class CodeChunk:
    """One function, class or module docstring of a file, as the ledger held it."""

    project: str
    path: str
    symbol: str  # qualified name ("Cart.total"); "" for a module's docstring
    chunk_kind: str  # function | class | module
    start_line: int  # 1-based, inclusive
    end_line: int
    versionstamp: str  # 24 hex digits: the StateChange the content was read at
    text: str
    score: float = 0.0
    kind: str = "code"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "project": self.project,
            "path": self.path,
            "symbol": self.symbol,
            "chunk_kind": self.chunk_kind,
            "lines": [self.start_line, self.end_line],
            "versionstamp": self.versionstamp,
            "score": round(self.score, 6),
            "text": self.text,
        }

    @property
    def title(self) -> str:
        """How a person reads the hit's place: ``path:line symbol``."""
        return f"{self.path}:{self.start_line} {self.symbol or '(module)'}"


@dataclass(frozen=True, slots=True)
class Lesson:
    """What one mission tried and how it ended: request, edits, rejections, verdict."""

    project: str
    mission_id: str
    outcome: str  # succeeded | failed | unfinished
    verdict: str  # the critic's last word ("" before it spoke)
    versionstamp: str  # the mission's newest event when the lesson was written
    text: str
    score: float = 0.0
    kind: str = "lesson"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "project": self.project,
            "mission_id": self.mission_id,
            "outcome": self.outcome,
            "verdict": self.verdict,
            "versionstamp": self.versionstamp,
            "score": round(self.score, 6),
            "text": self.text,
        }

    @property
    def title(self) -> str:
        verdict = f", {self.verdict}" if self.verdict else ""
        return f"mission {self.mission_id} ({self.outcome}{verdict})"


#: A search result.
Hit = CodeChunk | Lesson
