"""One home for the lesson's numbers: no public numeric constant in cifar_core outside
constants.py (and settings.py, the environment's defaults), and constants.py has no side
effects."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HOMES = ("cifar_core/constants.py", "cifar_core/settings.py")
CORE = sorted(p for p in REPO.glob("cifar_core/**/*.py") if str(p.relative_to(REPO)) not in HOMES)

# The few public numbers that stay in their module, each with why. A new entry needs a reason
# as good as these; a tuned number of the lesson goes to constants.py instead.
ALLOWED = {
    # glibc's mallopt parameter number for the arena limit: a value of the C library's API
    # (an enum), not something to tune.
    ("cifar_core/training/memory.py", "M_ARENA_MAX"),
    # The networks' 3×3 kernel is part of their description, like the SHALLOW and DEEP layer
    # tables next to it (changing it changes the lesson's networks, not a setting).
    ("cifar_core/models.py", "KERNEL"),
    # The notebook file format's version (nbformat 4.5), a value of that format.
    ("cifar_core/export/notebook.py", "NBFORMAT"),
    ("cifar_core/export/notebook.py", "NBFORMAT_MINOR"),
    # The heat map's colour stops ("inferno", sampled): a description of the colour map, like
    # a table of data, not a number to tune.
    ("cifar_core/explain/heatmap.py", "HEAT_COLOURS"),
}

# Nodes a plain constant is written with. Anything else (a call, an attribute, a subscript, an
# f-string) makes a value that is derived or built at import time: not a number to move.
_PLAIN = (
    ast.Constant,
    ast.UnaryOp,
    ast.BinOp,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
    ast.Name,
    ast.expr_context,
    ast.operator,
    ast.unaryop,
)


def is_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float | complex)
        and not isinstance(node.value, bool)
    )


def is_plain_number(value: ast.AST) -> bool:
    """A literal made of numbers: 0.05, 2**31 - 1, (0, 150, 60), {"sgd": 0.01}, A * 1024, …"""
    nodes = list(ast.walk(value))
    return all(isinstance(n, _PLAIN) for n in nodes) and any(is_number(n) for n in nodes)


def public_upper(name: str) -> bool:
    return name.isupper() and not name.startswith("_")


def assignments(tree: ast.Module) -> list[tuple[str, ast.AST, int]]:
    """(name, value, line) of every module-level assignment; `A, B = 1, 2` gives two."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                found.append((target.id, value, node.lineno))
            elif isinstance(target, ast.Tuple):
                values = value.elts if isinstance(value, ast.Tuple) else [value] * len(target.elts)
                for element, part in zip(target.elts, values, strict=True):
                    if isinstance(element, ast.Name):
                        found.append((element.id, part, node.lineno))
    return found


def numeric_constants(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        (name, line)
        for name, value, line in assignments(tree)
        if public_upper(name) and is_plain_number(value)
    ]


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(REPO)))
def test_numbers_live_in_constants(path: Path):
    module = str(path.relative_to(REPO))
    found = [
        f"{module}:{line} {name}"
        for name, line in numeric_constants(path)
        if (module, name) not in ALLOWED
    ]
    assert not found, (
        "Public numeric constants outside cifar_core/constants.py: "
        + ", ".join(found)
        + ". Move each into constants.py (a short comment saying why that value) and import it "
        "by name here, so module.NAME keeps working; or, if it must stay, add it to ALLOWED in "
        "tests/test_constants.py with the reason."
    )


def test_the_allow_list_names_only_constants_that_still_exist():
    # An entry whose constant moved or vanished is stale: take it out.
    present = {(str(p.relative_to(REPO)), name) for p in CORE for name, _ in numeric_constants(p)}
    stale = sorted(ALLOWED - present)
    assert not stale, stale


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("A = 3", ["A"]),
        ("A: float = -0.5", ["A"]),
        ("A = 2**31 - 1", ["A"]),
        ("A, B = 1, 16", ["A", "B"]),
        ("A = (0, 150, 60)", ["A"]),
        ('A = {"sgd": 0.01}', ["A"]),
        ("A = B * 1024", ["A"]),
        ('A = ("label", 0.42)', ["A"]),
        ("_A = 3", []),  # private: an internal of its module
        ("a = 3", []),
        ("A = True", []),
        ('A = "3"', []),
        ("A = B", []),
        ("A = f(3)", []),  # built at import time
        ("A = B[0]", []),
        ("A = np.float32(1)", []),
        ('A = {"x": B}', []),
    ],
)
def test_what_counts_as_a_numeric_constant(tmp_path: Path, source: str, expected: list[str]):
    module = tmp_path / "m.py"
    module.write_text(source + "\n")
    assert [name for name, _ in numeric_constants(module)] == expected


def test_constants_import_nothing_of_the_app():
    # Side-effect free: importing it loads no other module of the app (nor TensorFlow).
    code = (
        "import sys; import cifar_core.constants; "
        "print(sorted(m for m in sys.modules if m.startswith(('cifar_core.', 'tensorflow', "
        "'keras', 'streamlit')) and m != 'cifar_core.constants'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
