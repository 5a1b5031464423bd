"""Ledger URLs: which engine, where.

``memory:``                                the reference engine, in this process only
``sqlite:///abs/path.db``, ``sqlite:rel.db`` one SQLite file (``?sync=normal`` to relax fsync)
``sqlite:/x.db`` (one slash) is refused: it reads as a file at the filesystem
root, which is rarely what was meant; write ``sqlite:///x.db`` for that.
``fdb:``, ``fdb:///etc/foundationdb/fdb.cluster``  a FoundationDB cluster
(``?timeout_s=10&retry_limit=100``: each transaction's bound, retries included)
``sim+memory:``, ``sim+sqlite:///abs/path.db``  the inner engine with FoundationDB's
semantics enforced strictly (``ledger._sim``); ``?seed=N`` fixes its faults (default:
``SWARM_SIM_SEED``, else random). A sqlite file is written by one kind of engine: the
sim's versionstamps are sparser than sqlite's own, so mixing the two on one file breaks
the order.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ledger._errors import InvalidLedgerUrl
from ledger._ledger import Clock, Ledger, wall_clock_us
from ledger._port import Engine

SCHEMES = ("memory", "sqlite", "fdb", "sim+memory", "sim+sqlite")


def open_engine(url: str, *, create: bool = True) -> Engine:
    """The engine a ledger URL names, opened.

    ``create=False`` (read-only commands) raises ``NoLedger`` naming the file
    when a sqlite ledger does not exist yet, and creates nothing.
    """
    if not isinstance(url, str) or ":" not in url:
        raise InvalidLedgerUrl(
            str(url), f"expected SCHEME:..., with a scheme among {', '.join(SCHEMES)}"
        )
    parts = urlsplit(url)
    scheme = parts.scheme
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    if scheme.startswith("sim+"):
        return _open_sim(url, create)
    if scheme == "memory":
        _no_options(url, query, set())
        from ledger._memory import MemoryEngine

        return MemoryEngine()
    if scheme == "sqlite":
        if parts.netloc:
            raise InvalidLedgerUrl(
                url, "use sqlite:///absolute/path or sqlite:relative/path (no host)"
            )
        path = parts.path
        if not path or path == "/":
            raise InvalidLedgerUrl(url, "names no file")
        if path.startswith("/") and not url.split("?")[0].startswith("sqlite:///"):
            raise InvalidLedgerUrl(
                url,
                "one slash is ambiguous: write sqlite:///abs/path for an absolute path "
                "or sqlite:rel/path for one relative to the working directory",
            )
        _no_options(url, query, {"sync"})
        from ledger._sqlite import SqliteEngine

        sync = query.get("sync", "full")
        if sync not in ("off", "normal", "full", "extra"):
            raise InvalidLedgerUrl(url, f"sync must be off, normal, full or extra, not {sync!r}")
        return SqliteEngine(path, synchronous=sync, create=create)
    if scheme == "fdb":
        _no_options(url, query, {"timeout_s", "retry_limit"})
        from ledger._fdb import RETRY_LIMIT, TIMEOUT_S, FdbEngine

        timeout_s = _number(url, query, "timeout_s", TIMEOUT_S)
        retry_limit = int(_number(url, query, "retry_limit", RETRY_LIMIT))
        return FdbEngine(parts.path or None, timeout_s=timeout_s, retry_limit=retry_limit)
    raise InvalidLedgerUrl(url, f"unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}")


def _open_sim(url: str, create: bool) -> Engine:
    """``sim+INNER``: the inner engine's URL without the sim's own ``seed`` option."""
    inner_url = url[len("sim+") :]
    head, _, query = inner_url.partition("?")
    kept, seed = [], None
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        if name != "seed":
            kept.append(part)
        elif not value.isdigit():
            raise InvalidLedgerUrl(url, f"seed must be a non-negative integer, not {value!r}")
        else:
            seed = int(value)
    if head.split(":", 1)[0] not in ("memory", "sqlite"):
        raise InvalidLedgerUrl(url, "sim+ wraps memory or sqlite (a real cluster needs no sim)")
    from ledger._sim import SimEngine

    inner = open_engine(head + ("?" + "&".join(kept) if kept else ""), create=create)
    return SimEngine(inner, seed=seed)


def _number(url: str, query: dict[str, str], name: str, default: float) -> float:
    """A positive number option (``timeout_s``, ``retry_limit``), refused by name."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or (name == "retry_limit" and value != int(value)):
        raise InvalidLedgerUrl(url, f"{name} must be a positive number, not {raw!r}")
    return value


def _no_options(url: str, query: dict[str, str], allowed: set[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise InvalidLedgerUrl(url, f"unknown option {', '.join(unknown)}")


def open_ledger(url: str, *, clock: Clock = wall_clock_us, create: bool = True) -> Ledger:
    """A Ledger on the engine ``url`` names; ``create=False``: see ``open_engine``."""
    return Ledger(open_engine(url, create=create), clock=clock)
