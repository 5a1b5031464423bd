"""check_syntax: CPython's own verdict on a file, safe to call from many agents' threads."""

from __future__ import annotations

import gc
import sys
import threading

from swarm.scout import check_syntax

NESTED = b"x = " + b"[" * 40 + b"1" + b"]" * 40 + b"\n"
BODY = b"".join(
    b"def f%d(a, b=(1, [2, {3: 4}])):\n    return [a for a in b if a]\n" % i for i in range(300)
)


def test_a_clean_file_has_no_errors_and_a_broken_one_names_line_and_column() -> None:
    assert check_syntax("m.py", BODY + NESTED) == ()
    (error,) = check_syntax("m.py", b"def f(:\n    pass\n")
    assert error.startswith("1:")


def test_what_only_the_compiler_refuses_is_an_error_too() -> None:
    (error,) = check_syntax("m.py", b"return 1\n")
    assert "outside function" in error


def test_other_languages_are_not_checked() -> None:
    assert check_syntax("notes.txt", b"def f(:") == ()


class _Finalised:
    """Cyclic garbage whose finaliser runs Python code, so a GC pass can switch threads."""

    def __del__(self) -> None:
        for _ in range(50):
            pass


def test_many_threads_at_once_never_raise() -> None:
    # Building AST objects in several threads once raised SystemError ("AST constructor
    # recursion depth mismatch") inside coders: a GC pass during the build ran a
    # finaliser, another thread took the GIL and moved the shared counter. Frequent
    # switches and cyclic garbage reproduce that with ast.parse; check_syntax must hold.
    source = BODY + NESTED
    failures: list[BaseException] = []

    def check() -> None:
        try:
            for _ in range(30):
                garbage = _Finalised()
                garbage.cycle = garbage  # type: ignore[attr-defined]
                del garbage
                assert check_syntax("m.py", source) == ()
        except BaseException as exc:
            failures.append(exc)

    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(50, 1, 1)
    try:
        threads = [threading.Thread(target=check) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
    assert failures == []
