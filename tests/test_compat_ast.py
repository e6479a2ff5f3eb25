"""ui/compat.serialize_ast_parsing: the CPython race of ast.parse between threads, and its lock.

On Python 3.11.0–3.11.7 and 3.12.0–3.12.1 (CPython gh-106905) two threads parsing at once can
fail with "SystemError: AST constructor recursion depth mismatch": seen in CI when an AppTest
rerun parsed the Train page while the training thread's autograph parsed the augmentation code.
"""

from __future__ import annotations

import ast
import difflib
import gc
import logging
import random
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import open_app
from ui import compat

RACY = compat.ast_parse_is_racy()
SOURCE = Path(ast.__file__).read_text(encoding="utf-8")  # a long real module: a long parse


@pytest.mark.parametrize(
    ("version", "racy"),
    [
        ((3, 11, 0), True),
        ((3, 11, 7), True),
        ((3, 11, 8), False),
        ((3, 12, 1), True),
        ((3, 12, 2), False),
        ((3, 13, 0), False),
        ((3, 14, 1), False),
    ],
)
def test_the_race_is_known_by_python_version(version, racy):
    assert compat.ast_parse_is_racy(version) is racy


def _parse_in_threads(parse: Callable, rounds: int, threads: int = 8, parses: int = 2) -> list:
    """SystemErrors from `threads` threads each parsing SOURCE, while collections run Python.

    A garbage collection during a parse is what lets another thread in (gh-106905's own
    reproducer): a gc callback with some Python work makes that happen often.
    """
    errors: list[SystemError] = []

    def work() -> None:
        try:
            for _ in range(parses):
                parse(SOURCE)
        except SystemError as exc:
            errors.append(exc)

    def busy_collection(phase: str, info: dict) -> None:
        a = [f"{random.randint(0, 9)}\n" for _ in range(100)]
        b = [f"{random.randint(0, 9)}\n" for _ in range(100)]
        list(difflib.unified_diff(a, b))

    gc.callbacks.append(busy_collection)
    try:
        for _ in range(rounds):
            started = [threading.Thread(target=work) for _ in range(threads)]
            for t in started:
                t.start()
            for t in started:
                t.join()
            if errors:
                break
    finally:
        gc.callbacks.remove(busy_collection)
    return errors


@pytest.mark.skipif(not RACY, reason=f"Python {sys.version.split()[0]} has no such race")
def test_with_the_lock_threads_parse_without_the_systemerror(monkeypatch):
    # Without it, this Python fails within a few rounds (so the check below can fail)…
    errors = _parse_in_threads(compat._ORIGINAL_AST_PARSE, rounds=30)
    assert errors and "recursion depth mismatch" in str(errors[0])
    # …with it, every caller that goes through ast.parse waits its turn.
    monkeypatch.setattr(ast, "parse", compat._ORIGINAL_AST_PARSE)
    assert compat.serialize_ast_parsing() is True
    assert ast.parse is compat._serialized_ast_parse
    assert _parse_in_threads(lambda source: ast.parse(source), rounds=3) == []
    assert ast.literal_eval("{'descr': '<f2'}") == {"descr": "<f2"}  # numpy's header path
    assert compat.serialize_ast_parsing() is False  # once


def test_the_app_puts_the_lock_in_place_only_where_python_needs_it(app_env, monkeypatch):
    monkeypatch.setattr(ast, "parse", compat._ORIGINAL_AST_PARSE)
    at = open_app()
    assert not at.exception, at.exception
    expected = compat._serialized_ast_parse if RACY else compat._ORIGINAL_AST_PARSE
    assert ast.parse is expected


def test_a_replaced_ast_parse_is_a_loud_warning(monkeypatch, caplog):
    monkeypatch.setattr(compat, "ast_parse_is_racy", lambda: True)
    monkeypatch.setattr(ast, "parse", lambda *a, **k: compat._ORIGINAL_AST_PARSE(*a, **k))
    monkeypatch.setattr(compat, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="ui.compat"):
        assert compat.serialize_ast_parsing() is False
    assert "cannot apply" in caplog.text and "3.11.8" in caplog.text
