"""Tamper evidence: re-walk a project's hash chain and name the first bad record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256

from ledger import Ledger, Versionstamp

GENESIS = b"\x00" * 32
ALTERED = "altered"
REMOVED = "removed"
REORDERED = "reordered"
INSERTED = "inserted"


@dataclass(frozen=True, slots=True)
class Problem:
    """The first record that does not fit the chain, and what most likely happened."""

    kind: str  # altered | removed | reordered | inserted
    position: int  # 0-based index of the record in log order
    versionstamp: Versionstamp | None  # None when the problem is past the last record
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    records: int
    expected: int  # events the project's clock says were appended
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, object]:
        p = self.problem
        return {
            "ok": self.ok,
            "records": self.records,
            "expected": self.expected,
            "problem": None
            if p is None
            else {
                "kind": p.kind,
                "position": p.position,
                "versionstamp": str(p.versionstamp) if p.versionstamp else None,
                "detail": p.detail,
            },
        }


def verify(
    led: Ledger,
    tenant: str,
    project: str,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Recompute chain_i = sha256(chain_{i-1} + bytes_i) from 32 zero bytes over every record.

    At the first record whose stored chain does not follow, the neighbours
    tell the cases apart: if it and the next fit the chain once exchanged, the
    pair was swapped; if the project's event count is higher than the records
    found, an event was removed just before it; otherwise its bytes (or its
    stored hash) were altered. A count with no mismatch means records were
    removed from the end (or inserted, when there are more than counted).
    """
    expected = led.project_info(tenant, project).events
    records: list[tuple[Versionstamp, bytes, bytes]] = []
    after: Versionstamp | None = None
    while True:
        page = led.raw_records(tenant, project, after=after, limit=1000)
        records.extend(page)
        if progress is not None:
            progress(len(records), expected)
        if len(page) < 1000:
            break
        after = page[-1][0]
    prev = GENESIS
    for i, (vs, chain, data) in enumerate(records):
        if sha256(prev + data).digest() == chain:
            prev = chain
            continue
        if i + 1 < len(records):
            nvs, nchain, ndata = records[i + 1]
            if sha256(prev + ndata).digest() == nchain and sha256(nchain + data).digest() == chain:
                problem = Problem(
                    REORDERED,
                    i,
                    vs,
                    f"events at {vs} and {nvs} are in each other's places",
                )
                return VerifyReport(len(records), expected, problem)
        if expected > len(records):
            missing = expected - len(records)
            problem = Problem(
                REMOVED,
                i,
                vs,
                f"{missing} event(s) missing just before {vs}: the chain does not continue "
                f"from the previous record and the project counts {expected} events, "
                f"{len(records)} found",
            )
        elif expected < len(records):
            problem = Problem(INSERTED, i, vs, f"event {vs} does not belong to the chain")
        else:
            problem = Problem(
                ALTERED, i, vs, f"event {vs}'s stored bytes do not hash to its chain entry"
            )
        return VerifyReport(len(records), expected, problem)
    if expected > len(records):
        problem = Problem(
            REMOVED,
            len(records),
            None,
            f"{expected - len(records)} event(s) missing after the last record",
        )
        return VerifyReport(len(records), expected, problem)
    if expected < len(records):
        problem = Problem(
            INSERTED, expected, records[expected][0], "more records than the project counts"
        )
        return VerifyReport(len(records), expected, problem)
    return VerifyReport(len(records), expected, None)
