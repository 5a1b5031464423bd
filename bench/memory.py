"""Semantic memory: indexing throughput, its load on a concurrent mission, query latency,
and retrieval quality beside ripgrep and plain BM25, in one run.

Quality: the labelled questions of ``bench/memory_questions.json`` (natural language,
never the function's name) over real packages downloaded as sdists from PyPI (pinned,
cached under ``bench/.cache/memory``), imported into a ledger and indexed by the real
indexer. For each question, recall@1 and recall@5 of:

- ours: ``Memory.search`` (hybrid: dense all-MiniLM-L6-v2 + BM25 sparse, fused by DBSF),
  the same fused by RRF, and its dense and sparse halves alone;
- ripgrep: ``rg -i -w`` over the query's words (stop words dropped), each matching line
  credited to the innermost chunk holding it, chunks ranked by distinct words matched,
  then by matches;
- BM25: ``rank_bm25.BM25Okapi`` over the same chunks' text, words split on ``\\w+``.

Throughput: a generated 1,000-file repository (bench/_genrepo.py) imported and indexed;
code points per second beside the model alone embedding a sample of the same texts.
Load: a rename mission on a 100-file repository alone, then again while the indexer runs
in a thread of the same process (as in ``swarm serve --memory``). Latency: p50/p99 of
the quality questions (each run 3 times).

    python bench/memory.py [--files 1000] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# bench/ holds replay.py and sync.py benches, which would shadow the packages of those
# names: this folder leaves the path, the repository comes first, _genrepo loads by path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_spec = importlib.util.spec_from_file_location("_genrepo", Path(__file__).with_name("_genrepo.py"))
assert _spec is not None and _spec.loader is not None
_genrepo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_genrepo)
generate_repo = _genrepo.generate_repo

import ledger  # noqa: E402
from swarm.brain import EditRequest  # noqa: E402
from swarm.memory import CodeChunk, Memory  # noqa: E402
from swarm.memory._chunks import Chunk, code_chunks  # noqa: E402
from swarm.memory._sparse import STOPWORDS  # noqa: E402
from swarm.missions import MissionOptions, run_mission, start_mission  # noqa: E402

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "memory_questions.json"
CACHE = HERE / ".cache" / "memory"
TENANT = "bench"
IMPORT_ONLY = EditRequest("ask", {"prompt": "index the repository"})
IMPORT_BRAIN = {"base_url": "http://127.0.0.1:9", "model": "none"}


def fetch_sdists(packages: dict[str, str]) -> dict[str, Path]:
    """Each pinned sdist's unpacked folder (downloaded once with pip, then cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, version in packages.items():
        stem = f"{name.replace('-', '_')}-{version}"
        found = sorted(CACHE.glob(f"{stem}.tar.gz")) or sorted(
            CACHE.glob(f"{name}-{version}.tar.gz")
        )
        if not found:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 "-d", str(CACHE), f"{name}=={version}"],
                check=True, capture_output=True,
            )  # fmt: skip
            found = sorted(CACHE.glob(f"{stem}.tar.gz")) or sorted(
                CACHE.glob(f"{name}-{version}.tar.gz")
            )
        with tarfile.open(found[0]) as tar:
            top = tar.getnames()[0].split("/")[0]
            if not (CACHE / top).is_dir():
                tar.extractall(CACHE, filter="data")
        out[name] = CACHE / top
    return out


def build_corpus(doc: dict[str, Any], dest: Path) -> Path:
    """The questions' files, at their package paths, in one folder."""
    roots = fetch_sdists(doc["packages"])
    dest.mkdir(parents=True)
    for rel in doc["files"]:
        src = next(root / rel for root in roots.values() if (root / rel).is_file())
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(src.read_bytes())
    return dest


def import_repo(led: ledger.Ledger, project: str, repo: Path) -> None:
    start_mission(led, TENANT, project, repo, IMPORT_ONLY, brain="openai",
                  brain_settings=dict(IMPORT_BRAIN), options=MissionOptions(run_tests=False))  # fmt: skip


def chunks_of(repo: Path, files: list[str]) -> list[tuple[str, Chunk]]:
    return [(rel, c) for rel in files for c in code_chunks((repo / rel).read_bytes())]


def rank_of(found: list[str], answers: list[str]) -> int | None:
    for i, key in enumerate(found):
        if key in answers:
            return i + 1
    return None


def words(question: str) -> list[str]:
    return [
        w for w in re.findall(r"[a-z0-9]+", question.lower()) if len(w) > 1 and w not in STOPWORDS
    ]


def ripgrep(repo: Path, question: str, chunks: list[tuple[str, Chunk]]) -> list[str]:
    """rg's matches of the query's words, credited to the innermost chunk holding each line."""
    args = ["rg", "--json", "-i", "-w"]
    for w in words(question):
        args += ["-e", w]
    proc = subprocess.run([*args, str(repo)], capture_output=True, text=True)
    by_file: dict[str, list[tuple[str, Chunk]]] = {}
    for rel, c in chunks:
        by_file.setdefault(rel, []).append((rel, c))
    score: dict[str, tuple[set[str], int]] = {}
    for line in proc.stdout.splitlines():
        msg = json.loads(line)
        if msg["type"] != "match":
            continue
        rel = str(Path(msg["data"]["path"]["text"]).relative_to(repo))
        no = msg["data"]["line_number"]
        holders = [c for _, c in by_file.get(rel, []) if c.start_line <= no <= c.end_line]
        if not holders:
            continue
        inner = min(holders, key=lambda c: c.end_line - c.start_line)
        key = f"{rel}:{inner.symbol}"
        seen, n = score.get(key, (set(), 0))
        for sub in msg["data"]["submatches"]:
            seen.add(sub["match"]["text"].lower())
        score[key] = (seen, n + len(msg["data"]["submatches"]))
    return sorted(score, key=lambda k: (-len(score[k][0]), -score[k][1], k))[:5]


def quality(tmp: Path) -> dict[str, Any]:
    from rank_bm25 import BM25Okapi

    doc = json.loads(QUESTIONS.read_text())
    for item in doc["questions"]:  # the set's one rule: no question names its answer
        for answer in item["answers"]:
            name = answer.rsplit(":", 1)[1]
            for form in (name, name.replace("_", " ")):
                assert not re.search(rf"\b{re.escape(form)}\b", item["question"], re.I), item
    repo = build_corpus(doc, tmp / "corpus")
    chunks = chunks_of(repo, doc["files"])
    keys = [f"{rel}:{c.symbol}" for rel, c in chunks]
    bm25 = BM25Okapi([re.findall(r"\w+", c.embed_text(rel).lower()) for rel, c in chunks])
    results: dict[str, list[int | None]] = {
        k: [] for k in ("hybrid", "rrf", "dense", "sparse", "ripgrep", "bm25")
    }
    latency: dict[str, list[float]] = {"ours": [], "ripgrep": [], "bm25": []}
    with ledger.open_ledger(f"sqlite://{tmp / 'q.sqlite'}") as led:
        import_repo(led, "corpus", repo)
        with Memory(led, str(tmp / "q-memory")) as mem:
            t = time.perf_counter()
            stats = mem.index(TENANT)
            index_s = time.perf_counter() - t
            mem.search(TENANT, "warm up", kind="code", limit=5)
            for item in doc["questions"]:
                q, answers = item["question"], item["answers"]
                for mode in ("hybrid", "rrf", "dense", "sparse"):
                    hits = mem.search(TENANT, q, kind="code", limit=5, mode=mode)
                    found = [f"{h.path}:{h.symbol}" for h in hits if isinstance(h, CodeChunk)]
                    results[mode].append(rank_of(found, answers))
                for _ in range(3):
                    t = time.perf_counter()
                    mem.search(TENANT, q, kind="code", limit=5)
                    latency["ours"].append(time.perf_counter() - t)
                t = time.perf_counter()
                results["ripgrep"].append(rank_of(ripgrep(repo, q, chunks), answers))
                latency["ripgrep"].append(time.perf_counter() - t)
                t = time.perf_counter()
                scores = bm25.get_scores(re.findall(r"\w+", q.lower()))
                top = sorted(range(len(keys)), key=lambda i: -scores[i])[:5]
                latency["bm25"].append(time.perf_counter() - t)
                results["bm25"].append(rank_of([keys[i] for i in top], answers))
    return {"n": len(doc["questions"]), "chunks": len(chunks), "results": results,
            "latency": latency, "index_s": index_s, "points": stats.code_points}  # fmt: skip


def recall(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rename_seconds(led: ledger.Ledger, project: str, repo: Path) -> float:
    request = EditRequest("rename", {"old": "calculate_total", "new": "compute_order_total"})
    t = time.perf_counter()
    mid = start_mission(led, TENANT, project, repo, request,
                        options=MissionOptions(coders=2, run_tests=False, backoff_s=0.0))  # fmt: skip
    report = run_mission(led, TENANT, project, mid)
    assert report.ok, report.reason
    return time.perf_counter() - t


def throughput(tmp: Path, files: int) -> dict[str, Any]:
    from swarm.memory._embed import embedder

    big, small_a, small_b = tmp / "gen", tmp / "mission-a", tmp / "mission-b"
    generate_repo(big, files, 7)
    generate_repo(small_a, 100, 11)
    generate_repo(small_b, 100, 11)
    texts = [c.embed_text(rel) for rel, c in chunks_of(big, sorted(
        str(p.relative_to(big)) for p in big.rglob("*.py")))]  # fmt: skip
    with ledger.open_ledger(f"sqlite://{tmp / 't.sqlite'}") as led:
        import_repo(led, "gen", big)
        alone = rename_seconds(led, "alone", small_a)
        with Memory(led, str(tmp / "t-memory")) as mem:
            mem.search(TENANT, "warm up", kind="code", limit=1)  # the model, loaded
            done: dict[str, Any] = {}

            def index() -> None:
                t = time.perf_counter()
                done["stats"] = mem.index(TENANT, "gen")
                done["seconds"] = time.perf_counter() - t

            worker = threading.Thread(target=index)
            worker.start()
            beside = rename_seconds(led, "beside", small_b)
            worker.join()
        sample = texts[:200]
        t = time.perf_counter()
        embedder().embed(sample)
        model_rate = len(sample) / (time.perf_counter() - t)
    stats = done["stats"]
    return {"points": stats.code_points, "seconds": done["seconds"], "files": stats.files,
            "model_rate": model_rate, "alone": alone, "beside": beside}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarm-bench-memory-") as name:
        tmp = Path(name)
        q = quality(tmp)
        r = q["results"]
        print(f"retrieval quality: {q['n']} questions over {q['chunks']} chunks of "
              "more-itertools 10.8.0, boltons 25.0.0, toolz 1.0.0 (indexed "
              f"{q['points']} points in {q['index_s']:.1f}s)")  # fmt: skip
        print(f"  {'':34} recall@1  recall@5")
        labels = {"hybrid": "ours (dense + BM25 sparse, DBSF)", "rrf": "ours, RRF fusion instead of DBSF",
                  "dense": "ours, dense half only",
                  "sparse": "ours, sparse half only", "ripgrep": "ripgrep over the query's words",
                  "bm25": "plain BM25 (rank-bm25)"}  # fmt: skip
        for key, label in labels.items():
            print(f"  {label:34} {recall(r[key], 1):8.3f}  {recall(r[key], 5):8.3f}")
        ours5 = recall(r["hybrid"], 5)
        for peer in ("ripgrep", "bm25"):
            theirs = recall(r[peer], 5)
            ratio = f"{ours5 / theirs:.2f}x" if theirs else "inf"
            print(f"  recall@5 ours / {peer}: {ratio}")
        lat = q["latency"]
        for key in ("ours", "ripgrep", "bm25"):
            ms = [x * 1000 for x in lat[key]]
            print(
                f"query latency {key:8}: p50 {pct(ms, 50):7.1f} ms  p99 {pct(ms, 99):7.1f} ms  (n={len(ms)})"
            )
        print(f"  p50 ours / ripgrep: {pct(lat['ours'], 50) / pct(lat['ripgrep'], 50):.2f}x")
        if not args.skip_throughput:
            t = throughput(tmp, args.files)
            rate = t["points"] / t["seconds"]
            print(
                f"indexing: {t['points']} code points from {t['files']} files in {t['seconds']:.1f}s "
                f"= {rate:.1f} chunks/s; the model alone embeds {t['model_rate']:.1f} texts/s "
                f"(ours / model alone: {rate / t['model_rate']:.2f}x)"
            )
            print(
                f"a 100-file rename mission: {t['alone']:.1f}s alone, {t['beside']:.1f}s beside the "
                f"indexer ({t['beside'] / t['alone']:.2f}x)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
