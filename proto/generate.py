"""Regenerate the Python code for ``proto/swarm/v1/*.proto``.

The one pinned way to produce ``*_pb2.py``: ``python -m proto.generate``.
It runs grpcio-tools' bundled protoc (the version pinned in pyproject's dev
extras) from the repository root, so generated imports read
``proto.swarm.v1.…`` and never collide with the ``swarm`` package.
``tests/test_proto.py`` regenerates into a temporary folder and fails when the
checked-in files differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto" / "swarm" / "v1"


def proto_sources() -> list[Path]:
    """The .proto files, relative to the repository root, in a stable order."""
    return sorted(p.relative_to(ROOT) for p in PROTO_DIR.glob("*.proto"))


def generate(out_dir: Path) -> None:
    """Write ``*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py`` under ``out_dir``."""
    from grpc_tools import protoc  # dev dependency: only needed to regenerate

    out_dir.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{ROOT}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *[str(ROOT / p) for p in proto_sources()],
    ]
    code = protoc.main(args)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
