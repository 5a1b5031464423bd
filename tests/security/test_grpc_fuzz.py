"""Fuzz every method of ``swarm.v1.Swarm`` against one real daemon: never INTERNAL, never outside.

Requests are built from the proto descriptors, so a method or field added
later is fuzzed without a line here. Each field gets values shaped like what
attackers send at that kind of field (paths that climb out, names with NUL or
thousands of characters, cursors that are almost versionstamps, diffs that
write outside, sizes at the integer limits, NaN), mixed with random ones, on
every token role and on none. The daemon must answer each with a status that
names the problem, never INTERNAL or UNKNOWN, and a canary folder beside its
workspaces root must stay byte-identical.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor as d
from google.protobuf import message_factory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger
from proto.swarm.v1 import service_pb2 as api
from tests.daemon.conftest import SAMPLE, DaemonProc, make_token, start_daemon
from tests.security._outside import Outside

SERVICE = api.DESCRIPTOR.services_by_name["Swarm"]
METHODS = [m.name for m in SERVICE.methods]
TENANT, OTHER, PROJECT, WORKSPACE = "acme", "bolt", "app", "ws"
NEVER = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)

# Values shaped like attacks, by what a field holds.
CLIMBS = ["../outside/canary.txt", "../../outside", "/etc/passwd", "a/../../outside/x", ".."]
META = [".git/config", ".git/hooks/pre-commit", ".swarm/cache", ".swarm"]
ODD = ["", ".", "\x00", "a\x00b", "ü" * 70, "x" * 256, "x" * 5000, " ", "a\nb", "CON", "*"]
SAMPLE_NAMES = ["calculate_total", "compute_order_total", "apply_discount"]
NAMES = [PROJECT, WORKSPACE, TENANT, OTHER, "swarm-system", "app2", *SAMPLE_NAMES, *CLIMBS, *ODD]
PATHS = ["src/app.py", "README.md", "a/b/c.py", "p" * 300 + ".py", *CLIMBS, *META, *ODD]
HOLDERS = ["human:alice", "human:", "agent:coder-1", "human:" + "a" * 300, *ODD]
KINDS = ["rename", "add_param", "patch", "ask", "", "RENAME", "x" * 300]
CURSORS = ["0" * 24, "f" * 24, "0" * 23, "g" * 24, "00000000000000000000000z", *ODD]
DIFF = "--- a/{p}\n+++ b/{p}\n@@ -0,0 +1 @@\n+pwned = True\n"  # a new file at {p}
DIFFS = [DIFF.format(p=p) for p in ["../outside/canary.txt", ".git/config", "ok.py", "\x00"]]
PARAM_KEYS = ["diff", "old", "new", "name", "default", "question", "path", "function", ""]

_INT_RANGE = {
    d.FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    d.FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _hinted(name: str) -> list[str]:
    """Attack-shaped strings for a field, by its name; a generic mix for any other name."""
    if name in ("path", "prefix", "agent"):
        return PATHS
    if name in ("after", "before", "versionstamp", "cursor"):
        return CURSORS
    if name == "holder":
        return HOLDERS
    if name == "kind":
        return KINDS
    return NAMES


# Mostly the right tenant and project, so most calls get past the tenant check.
_MOSTLY = {
    "tenant": ["", "", "", "", TENANT, TENANT, OTHER, "swarm-system", *ODD[:4]],
    "project": [PROJECT] * 6 + ["app2", "nope", *CLIMBS[:2], *ODD[:4]],
    "workspace": [WORKSPACE] * 4 + [*CLIMBS, *META, *ODD],
}


def string_values(name: str) -> st.SearchStrategy[str]:
    if name in _MOSTLY:
        return st.one_of(
            st.sampled_from(_MOSTLY[name]), st.sampled_from(_MOSTLY[name]), st.text(max_size=8)
        )
    return st.one_of(
        st.sampled_from(_hinted(name)),
        st.sampled_from(DIFFS),
        st.text(max_size=40),
        st.integers(0, 70_000).map(lambda n: "y" * n),
    )


def scalar_values(field: d.FieldDescriptor) -> st.SearchStrategy[Any]:
    t = field.type
    if t == d.FieldDescriptor.TYPE_STRING:
        return string_values(field.name)
    if t == d.FieldDescriptor.TYPE_BYTES:
        return st.one_of(st.binary(max_size=32), st.just(b"\x00" * 10), st.just(b"\xff" * 5000))
    if t == d.FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT):
        return st.floats(width=64 if t == d.FieldDescriptor.TYPE_DOUBLE else 32)
    if t == d.FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        return st.one_of(
            st.sampled_from([v.number for v in field.enum_type.values]), st.integers(-3, 99)
        )
    lo, hi = _INT_RANGE[t]
    return st.one_of(st.sampled_from([lo, hi, 0, 1, -1 if lo < 0 else 2]), st.integers(lo, hi))


def field_values(field: d.FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    """Values for one field: a message, a map, a list or a scalar, as the descriptor says."""
    if field.type == d.FieldDescriptor.TYPE_MESSAGE:
        message_type = field.message_type
        assert message_type is not None
        if message_type.GetOptions().map_entry:
            key, value = message_type.fields_by_name["key"], message_type.fields_by_name["value"]
            keys = st.one_of(st.sampled_from(PARAM_KEYS), scalar_values(key))
            return st.dictionaries(keys, field_values(value, depth + 1), max_size=4)
        inner = messages(message_type, depth + 1)
        return st.lists(inner, max_size=3) if _repeated(field) else inner
    one = scalar_values(field)
    return st.lists(one, max_size=4) if _repeated(field) else one


def _repeated(field: d.FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def messages(desc: d.Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    """Any message of type ``desc``: each plain field maybe set, at most one field per oneof."""
    cls = message_factory.GetMessageClass(desc)
    if depth > 3:
        return st.just(cls())
    plain = {
        f.name: st.one_of(st.none(), field_values(f, depth))
        for f in desc.fields
        if f.containing_oneof is None
    }
    choices = [
        st.one_of(
            st.none(),
            st.sampled_from(list(oneof.fields)).flatmap(
                lambda f: field_values(f, depth).map(partial(_named, f.name))
            ),
        )
        for oneof in desc.oneofs
    ]

    def build(parts: tuple[dict[str, Any], list[tuple[str, Any] | None]]) -> Any:
        values, picked = parts
        msg = cls()
        for name, value in [*values.items(), *(p for p in picked if p is not None)]:
            if value is not None:
                _set(msg, name, value)
        return msg

    return st.tuples(st.fixed_dictionaries(plain), st.tuples(*choices).map(list)).map(build)


def _named(name: str, value: Any) -> tuple[str, Any]:
    return name, value


def _set(msg: Any, name: str, value: Any) -> None:
    field = msg.DESCRIPTOR.fields_by_name[name]
    target: Any = (
        getattr(msg, name) if _repeated(field) or field.type == field.TYPE_MESSAGE else None
    )
    if field.type == field.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        for k, v in value.items():
            _set_map(target, k, v)
    elif _repeated(field):
        target.extend(value)
    elif field.type == field.TYPE_MESSAGE:
        target.CopyFrom(value)
    else:
        setattr(msg, name, value)


def _set_map(target: Any, key: Any, value: Any) -> None:
    if isinstance(value, str | bytes | int | float | bool):
        target[key] = value
    else:
        target[key].CopyFrom(value)


@dataclass
class Target:
    daemon: DaemonProc
    tokens: dict[str, str]
    outside: Outside
    workspaces: Path


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    base = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite://{base / 'ledger.sqlite'}"
    tokens = {
        "admin": make_token(url, TENANT, "admin"),
        "ide": make_token(url, TENANT, "ide"),
        "ops": make_token(url, TENANT, "ops"),
        "other-admin": make_token(url, OTHER, "admin"),
    }
    with ledger.open_ledger(url) as led:
        led.create_project(TENANT, PROJECT)
        led.create_project(OTHER, PROJECT)
    workspaces = base / "workspaces"
    shutil.copytree(SAMPLE, workspaces / WORKSPACE, ignore=shutil.ignore_patterns("__pycache__"))
    outside = Outside(base / "outside")  # a sibling of the workspaces root
    daemon = start_daemon(url, base, "--workspaces", str(workspaces))
    try:
        yield Target(daemon, tokens, outside, workspaces)
    finally:
        daemon.stop()
    outside.assert_untouched()


WHO = st.sampled_from(["admin", "admin", "ide", "ide", "ops", "other-admin", None, "garbage"])


def _metadata(t: Target, who: str | None) -> tuple[tuple[str, str], ...]:
    if who is None:
        return ()
    token = t.tokens.get(who, "swt_000000000000_" + "x" * 43)
    return (("authorization", f"Bearer {token}"),)


def _call(
    t: Target, method: d.MethodDescriptor, request: Any, md: tuple[tuple[str, str], ...]
) -> None:
    """Make the call; a stream is read for a moment, then left (its deadline is short)."""
    channel = grpc.insecure_channel(t.daemon.target)
    try:
        fn: Any = (channel.unary_stream if method.server_streaming else channel.unary_unary)(
            f"/{SERVICE.full_name}/{method.name}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=lambda b: b,
        )
        if method.server_streaming:
            for n, _ in enumerate(fn(request, metadata=md, timeout=0.5)):
                if n >= 20:
                    break
        else:
            fn(request, metadata=md, timeout=20)
    except grpc.RpcError as exc:
        code = exc.code()
        assert code not in NEVER, f"{method.name}: {code.name} {exc.details()!r} for {request!r}"[
            :2000
        ]
        assert len(exc.details() or "") <= 1200
    finally:
        channel.close()


@pytest.mark.parametrize("name", METHODS)
def test_no_request_gets_internal_or_writes_outside(target: Target, name: str) -> None:
    method = SERVICE.methods_by_name[name]

    @settings(
        max_examples=int(os.environ.get("SWARM_FUZZ_EXAMPLES", "40")),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=messages(method.input_type), who=WHO)
    def fuzz(request: Any, who: str | None) -> None:
        _call(target, method, request, _metadata(target, who))

    fuzz()
    target.outside.assert_untouched()


def test_undecodable_bytes_are_invalid_argument(target: Target) -> None:
    with grpc.insecure_channel(target.daemon.target) as channel:
        for method in SERVICE.methods:
            call: Any = (channel.unary_stream if method.server_streaming else channel.unary_unary)(
                f"/{SERVICE.full_name}/{method.name}"
            )
            with pytest.raises(grpc.RpcError) as err:
                got = call(
                    b"\xff\xff\xff\xff garbage", metadata=_metadata(target, "admin"), timeout=10
                )
                if method.server_streaming:
                    list(got)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, method.name
    target.outside.assert_untouched()
