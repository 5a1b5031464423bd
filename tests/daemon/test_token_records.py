"""Token records: typed (records.proto), legacy JSON still read, written atomically.

The crash tests run a real token-store process on a real sqlite file and have
it SIGKILL itself at each named point of its writes (inside or right after
each write transaction; see ``_token_child.py``). Whatever the point, the audit
log and the token map agree: a revocation on record means the token is
refused, and a creation on record means the token exists.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import ledger
from proto.swarm.v1 import records_pb2 as rpb
from swarm.daemon._errors import Unauthenticated
from swarm.daemon._tokens import (
    SYSTEM_TENANT,
    TOKENS_PROJECT,
    CorruptToken,
    Role,
    TokenInfo,
    TokenStore,
    token_hash,
)

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("_token_child.py")
POINTS = [f"{where}-{n}" for n in (1, 2, 3) for where in ("in-tx", "after-tx")]


def _map(led: ledger.Ledger, name: str) -> bytes | None:
    return led.get_cursor(SYSTEM_TENANT, TOKENS_PROJECT, name)


def test_a_token_is_stored_as_a_token_record_message() -> None:
    led = ledger.open_ledger("memory:")
    store = TokenStore(led)
    secret, info = store.create("acme", Role.OPS, "ci", expires_us=ledger.wall_clock_us() + 10**9)
    raw = _map(led, f"h.{token_hash(secret)}")
    assert raw is not None
    msg = rpb.TokenRecord.FromString(raw)
    assert (msg.token_id, msg.tenant, msg.role, msg.label) == (
        info.token_id,
        "acme",
        rpb.STORED_TOKEN_ROLE_OPS,
        "ci",
    )
    assert (msg.created_us, msg.expires_us, msg.revoked_us) == (
        info.created_us,
        info.expires_us,
        0,
    )
    assert store.check(secret) == info
    assert TokenInfo.decode(raw) == info


def test_a_legacy_json_token_record_still_checks_and_revokes() -> None:
    led = ledger.open_ledger("memory:")
    store = TokenStore(led)
    secret = "swt_abc123_" + "x" * 43
    legacy = {  # as written before records.proto, and before expiries
        "token_id": "abc123",
        "tenant": "acme",
        "role": "ide",
        "label": "old",
        "created_us": 5,
        "revoked_us": 0,
    }
    led.create_tenant("acme")
    digest = token_hash(secret)
    led.set_cursor(SYSTEM_TENANT, TOKENS_PROJECT, f"h.{digest}", json.dumps(legacy).encode())
    led.set_cursor(SYSTEM_TENANT, TOKENS_PROJECT, "i.abc123", digest.encode())
    info = store.check(secret)
    assert (info.token_id, info.role, info.created_us, info.expires_us) == (
        "abc123",
        Role.IDE,
        5,
        0,
    )
    revoked = store.revoke("acme", "abc123")
    assert revoked.revoked_us > 0
    assert rpb.TokenRecord.FromString(_map(led, f"h.{digest}") or b"").revoked_us > 0
    with pytest.raises(Unauthenticated, match="revoked"):
        store.check(secret)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (rpb.TokenRecord(token_id="t1", tenant="acme").SerializeToString(), "role"),
        (rpb.TokenRecord(tenant="acme", role=rpb.STORED_TOKEN_ROLE_OPS).SerializeToString(), "id"),
        (b"\xff\xff", "not a TokenRecord"),
        (b'{"token_id": "t1"}', "legacy JSON"),
    ],
)
def test_an_unreadable_record_is_refused_not_defaulted(raw: bytes, why: str) -> None:
    # A record without a role is not read as the lowest role (SYNC is 0 in Role).
    with pytest.raises(CorruptToken, match=why):
        TokenInfo.decode(raw)


def _child(db: Path, point: str, *args: str) -> tuple[int, list[str]]:
    env = {**os.environ, "SWARM_TEST_KILL_AT": point}
    proc = subprocess.run(
        [sys.executable, str(CHILD), str(db), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"child at {point} failed: {proc.stderr}")
    return proc.returncode, proc.stdout.splitlines()


def _events(led: ledger.Ledger, kind: str) -> list[str]:
    return [
        r.event.decision.attributes["token_id"]
        for r in led.iter_events(SYSTEM_TENANT, TOKENS_PROJECT)
        if r.event.decision.kind == kind
    ]


@pytest.mark.parametrize("point", POINTS)
def test_a_revocation_killed_at_any_point_is_all_or_nothing(tmp_path: Path, point: str) -> None:
    db = tmp_path / "tokens.sqlite"
    with ledger.open_ledger(f"sqlite://{db}") as led:
        secret, info = TokenStore(led).create("acme", Role.IDE)
    code, _ = _child(db, point, "revoke", "acme", info.token_id)
    with ledger.open_ledger(f"sqlite://{db}") as led:
        store = TokenStore(led)
        recorded = info.token_id in _events(led, "token.revoke")
        assert recorded == (code == 0 or point.startswith("after-tx")), point
        if recorded:
            with pytest.raises(Unauthenticated, match="revoked"):
                store.check(secret)
            assert [t.live for t in store.tokens("acme")] == [False]
        else:
            assert store.check(secret) == info  # nothing of the revocation landed
            store.revoke("acme", info.token_id)  # and it can simply be retried
            with pytest.raises(Unauthenticated, match="revoked"):
                store.check(secret)


@pytest.mark.parametrize("point", POINTS)
def test_a_creation_killed_at_any_point_is_all_or_nothing(tmp_path: Path, point: str) -> None:
    db = tmp_path / "tokens.sqlite"
    with ledger.open_ledger(f"sqlite://{db}") as led:
        TokenStore(led)
    code, lines = _child(db, point, "create", "acme")
    with ledger.open_ledger(f"sqlite://{db}") as led:
        store = TokenStore(led)
        created = _events(led, "token.create")
        listed = [t.token_id for t in store.tokens()]
        assert listed == created, f"{point}: the log and the token map disagree"
        if code == 0:
            secret, token_id = lines[0].split()
            assert created == [token_id] and store.check(secret).token_id == token_id
