from __future__ import annotations

from pathlib import Path

import pytest

from swarm.brain import (
    AmbiguousSymbol,
    BrainError,
    EditRequest,
    InvalidRequest,
    PatchDoesNotApply,
    RulesBrain,
    UnknownSymbol,
    make_brain,
)
from swarm.scout import RepoIndex, check_syntax
from tests.swarm.brain.conftest import reader

# The sample defines both a function and a method Cart.calculate_total: the target says which.
RENAME = EditRequest("rename", {"old": "shop.orders:calculate_total", "new": "compute_order_total"})


def test_rename_targets_every_file_that_defines_imports_or_uses_the_symbol(
    index: RepoIndex,
) -> None:
    assert RulesBrain().targets(RENAME, index) == [
        "shop/__init__.py",
        "shop/orders.py",
        "shop/report.py",
        "tests/test_orders.py",
    ]


def test_rename_changes_definitions_imports_uses_attributes_and_all_but_not_strings_or_comments(
    index: RepoIndex, repo: Path
) -> None:
    proposal = RulesBrain().propose(RENAME, index, reader(repo))
    new = {e.path: e.new_source for e in proposal.edits}
    assert (
        new["shop/__init__.py"]
        == 'from shop.orders import compute_order_total\n\n__all__ = ["compute_order_total"]\n'
    )
    report = new["shop/report.py"]
    assert report is not None
    assert "from .orders import compute_order_total as ct" in report
    assert "orders.compute_order_total(items), ct(items)" in report
    assert "# calculate_total in a comment" in report and 'label = "calculate_total"' in report
    orders = new["shop/orders.py"]
    assert orders is not None and "calculate_total sums items" in orders  # docstring untouched
    assert (
        "def compute_order_total(items" in orders
        and "return compute_order_total(self.items)" in orders
    )
    for text in new.values():
        assert text is not None and check_syntax("x.py", text.encode()) == ()


def test_rename_leaves_attributes_of_unrelated_objects_and_keyword_names(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def total(x):\n    return x\n")
    (tmp_path / "u.py").write_text(
        "import m\nimport other\n\nm.total(1)\nother.total(2)\nf(total=3)\n"
    )
    index = RepoIndex(tmp_path)
    index.refresh()
    edit = RulesBrain().edit(
        EditRequest("rename", {"old": "total", "new": "sum_all"}),
        "u.py",
        (tmp_path / "u.py").read_text(),
        index,
    )
    assert edit.new_source == "import m\nimport other\n\nm.sum_all(1)\nother.total(2)\nf(total=3)\n"


def test_a_file_importing_the_name_from_outside_the_repo_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def dumps(x):\n    return x\n")
    (tmp_path / "u.py").write_text("from json import dumps\n\ndumps(1)\n")
    index = RepoIndex(tmp_path)
    index.refresh()
    assert RulesBrain().targets(
        EditRequest("rename", {"old": "dumps", "new": "dump_it"}), index
    ) == ["m.py"]


def test_rename_refusals(index: RepoIndex) -> None:
    brain = RulesBrain()
    with pytest.raises(UnknownSymbol) as err:
        brain.targets(EditRequest("rename", {"old": "no_such", "new": "x"}), index)
    assert err.value.symbol == "no_such"
    with pytest.raises(UnknownSymbol, match="did you mean calculate_total") as err:
        brain.targets(EditRequest("rename", {"old": "calculate_totl", "new": "x"}), index)
    with pytest.raises(AmbiguousSymbol) as amb:
        brain.targets(EditRequest("rename", {"old": "calculate_total", "new": "x"}), index)
    assert amb.value.candidates == (
        "shop.orders:Cart.calculate_total",
        "shop.orders:calculate_total",
    )
    for params in (
        {"old": "calculate_total"},
        {"old": "calculate_total", "new": "not valid"},
        {"old": "calculate_total", "new": "class"},
        {"old": "a", "new": "a"},
    ):
        with pytest.raises(InvalidRequest):
            brain.targets(EditRequest("rename", params), index)
    with pytest.raises(InvalidRequest, match="already defined"):
        brain.targets(
            EditRequest("rename", {"old": "shop.orders.calculate_total", "new": "Cart"}), index
        )
    with pytest.raises(InvalidRequest, match="unknown request kind"):
        brain.targets(EditRequest("explode", {}), index)
    with pytest.raises(InvalidRequest, match="openai"):
        brain.targets(EditRequest("ask", {"prompt": "make it faster"}), index)


def test_add_param_updates_definition_and_call_sites(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(a, *args, **kw):\n    return a\n\n\ndef g():\n    pass\n")
    (tmp_path / "u.py").write_text(
        "import m\nfrom m import f\n\nf(1)\nm.f(2, 3)\nf(4, tax=9)\nf()\n"
    )
    index = RepoIndex(tmp_path)
    index.refresh()
    request = EditRequest(
        "add_param", {"function": "f", "param": "tax", "default": "0.0", "value": "0.2"}
    )
    brain = RulesBrain()
    assert brain.targets(request, index) == ["m.py", "u.py"]
    m = brain.edit(request, "m.py", (tmp_path / "m.py").read_text(), index)
    assert m.new_source == "def f(a, *args, tax=0.0, **kw):\n    return a\n\n\ndef g():\n    pass\n"
    u = brain.edit(request, "u.py", (tmp_path / "u.py").read_text(), index)
    assert (
        u.new_source
        == "import m\nfrom m import f\n\nf(1, tax=0.2)\nm.f(2, 3, tax=0.2)\nf(4, tax=9)\nf(tax=0.2)\n"
    )
    without_value = EditRequest("add_param", {"function": "f", "param": "tax", "default": "0.0"})
    assert brain.targets(without_value, index) == ["m.py"]


def test_add_param_refusals(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(a, tax=1):\n    return a\n")
    index = RepoIndex(tmp_path)
    index.refresh()
    brain = RulesBrain()
    with pytest.raises(InvalidRequest, match="already has"):
        brain.edit(
            EditRequest("add_param", {"function": "f", "param": "tax", "default": "0"}),
            "m.py",
            (tmp_path / "m.py").read_text(),
            index,
        )
    with pytest.raises(UnknownSymbol):
        brain.targets(
            EditRequest("add_param", {"function": "nope", "param": "x", "default": "0"}), index
        )
    with pytest.raises(InvalidRequest, match="not a Python expression"):
        brain.targets(
            EditRequest("add_param", {"function": "f", "param": "x", "default": "1 +"}), index
        )


DIFF = """--- a/shop/util.py
+++ b/shop/util.py
@@ -1,2 +1,2 @@
 def helper():
-    return 1
+    return 2
--- /dev/null
+++ b/shop/new.py
@@ -0,0 +1 @@
+X = 1
"""


def test_patch_applies_strictly_and_creates_files(index: RepoIndex, repo: Path) -> None:
    proposal = RulesBrain().propose(EditRequest("patch", {"diff": DIFF}), index, reader(repo))
    assert {e.path: e.new_source for e in proposal.edits} == {
        "shop/util.py": "def helper():\n    return 2\n",
        "shop/new.py": "X = 1\n",
    }


def test_a_hunk_that_does_not_apply_names_file_and_hunk(index: RepoIndex, repo: Path) -> None:
    bad = DIFF.replace("-    return 1", "-    return 7")
    with pytest.raises(PatchDoesNotApply) as err:
        RulesBrain().edit(
            EditRequest("patch", {"diff": bad}),
            "shop/util.py",
            (repo / "shop/util.py").read_text(),
            index,
        )
    assert err.value.path == "shop/util.py" and err.value.hunk == 1 and "return 7" in str(err.value)


def test_patch_refusals(index: RepoIndex) -> None:
    brain = RulesBrain()
    outside = DIFF.replace("shop/util.py", "../evil.py")
    with pytest.raises(InvalidRequest, match="outside the repository"):
        brain.targets(EditRequest("patch", {"diff": outside}), index)
    with pytest.raises(InvalidRequest, match="no unified diff"):
        brain.targets(EditRequest("patch", {"diff": "hello"}), index)
    with pytest.raises(InvalidRequest, match="promises"):
        brain.targets(
            EditRequest("patch", {"diff": "--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n"}), index
        )


def test_make_brain() -> None:
    assert make_brain("rules").name == "rules"
    assert make_brain("openai", base_url="http://127.0.0.1:1", model="m").name == "openai"
    for name, settings in (
        ("gpt", {}),
        ("openai", {"model": "m"}),
        ("rules", {"x": 1}),
        ("openai", {"base_url": "ftp://x", "model": "m"}),
    ):
        with pytest.raises(BrainError):
            make_brain(name, **settings)
