"""A writer that SIGKILLs itself inside ``GuardedTree.write``: its temporary file is
written and locked, the rename not yet done. Run as a script: ``ROOT PATH``.

The kill point is the standard library's ``os.replace`` (the seam), so the
guard itself runs unchanged up to it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import replay


def _die(*_: object, **__: object) -> None:
    print("staged", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    root, path = sys.argv[1:]
    tree = replay.GuardedTree(Path(root))
    tree.write("warm-up.txt", b"first write: sweeps the scratch folder\n")
    os.replace = _die
    tree.write(path, b"never renamed into place\n")
