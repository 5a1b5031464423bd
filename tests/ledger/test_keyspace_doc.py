"""docs/keyspace.md's byte examples are what the code produces."""

from __future__ import annotations

from pathlib import Path

from ledger._keys import TenantKeys, WorkspaceKeys, pack
from ledger._types import Versionstamp

DOC = (Path(__file__).resolve().parents[2] / "docs" / "keyspace.md").read_text()


def _hex(key: bytes) -> str:
    return f"`{key.hex(' ')}`"


def test_every_documented_key_matches_the_code() -> None:
    tk = TenantKeys(pack((1,)))
    pk = tk.project("web")
    vs = Versionstamp.parse("000000000000000300000001")
    keys = [
        b"\xfe" + pack(("dir", "swarm", "tenants", "acme")),
        b"\xfe" + pack(("counter",)),
        tk.prefix,
        tk.project_meta("web"),
        tk.event_id("e-1"),
        tk.blob_meta(b"\xab\xab"),
        tk.blob_chunk(b"\xab\xab", 0),
        pk.clock,
        pk.head,
        pk.event(vs),
        pk.at_prefix(1700000000000000) + b"\x33" + vs.raw,
        pk.index_prefix("path", "src/a.py") + b"\x33" + vs.raw,
        pk.recent + b"\x33" + Versionstamp.parse("000000000000000300000000").raw + pack((0,)),
        pk.file("src/a.py"),
        pk.lock("src/a.py"),
        pk.cursor("sync-hub"),
        pk.snapshot_prefix() + b"\x33" + vs.raw,
        b"\xfe" + pack(("dir", "swarm", "workspaces")),
        WorkspaceKeys(pack((2,))).by_name("/srv/ws", "shop"),
        WorkspaceKeys(pack((2,))).by_project("acme", "web"),
    ]
    for key in keys:
        assert _hex(key) in DOC, f"docs/keyspace.md lacks {key!r}"


def test_incomplete_keys_carry_the_offset_of_their_placeholder() -> None:
    pk = TenantKeys(pack((1,))).project("web")
    key = pk.event_incomplete(1)
    offset = int.from_bytes(key[-4:], "little")
    assert key[offset : offset + 10] == b"\xff" * 10
    assert key[offset - 1 : offset] == b"\x33"
