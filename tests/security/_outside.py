"""What every attack test asserts beside its refusal: a folder outside the allowed root is untouched.

``Outside`` hashes a whole tree (names, modes, symlink targets and bytes), so
a test takes a digest before the attack and asserts the same digest after.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def tree_digest(root: Path) -> str:
    """A sha256 over every entry below ``root``: relative path, kind, mode, link target, bytes."""
    h = hashlib.sha256()
    if not root.exists():
        return "absent"
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted([*dirnames, *filenames]):
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            st = full.lstat()
            h.update(f"{rel}\0{st.st_mode:o}\0".encode())
            if full.is_symlink():
                h.update(os.readlink(full).encode())
            elif full.is_file():
                h.update(full.read_bytes())
            h.update(b"\1")
    return h.hexdigest()


class Outside:
    """A folder outside every root the system may write, with a canary file, and its digest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        (path / "canary.txt").write_text("must never change\n")
        self.before = tree_digest(path)

    def assert_untouched(self) -> None:
        """Fails if anything below the folder was created, changed or removed."""
        after = tree_digest(self.path)
        assert after == self.before, f"{self.path} changed during the attack"
