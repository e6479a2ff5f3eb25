"""One settings home: only cifar_core/settings.py reads the environment, and the README's table
lists exactly its settings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cifar_core import settings

REPO = Path(__file__).resolve().parents[1]
APP_CODE = [
    REPO / "app.py",
    *REPO.glob("cifar_core/**/*.py"),
    *REPO.glob("ui/*.py"),
    *REPO.glob("pages/*.py"),
]


def reads_environment(tree: ast.AST) -> list[str]:
    """os.environ / os.getenv / os.putenv / st.secrets uses in a module's syntax tree."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "secrets"):
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("os", "st", "streamlit"):
                found.append(f"{base.id}.{node.attr} (line {node.lineno})")
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [
                f"from os import {a.name}" for a in node.names if a.name in ("environ", "getenv")
            ]
    return found


@pytest.mark.parametrize("path", APP_CODE, ids=lambda p: str(p.relative_to(REPO)))
def test_only_the_settings_module_reads_the_environment(path: Path):
    found = reads_environment(ast.parse(path.read_text(), str(path)))
    if path == REPO / "cifar_core" / "settings.py":
        assert found, "settings.py is where the environment is read"
    else:
        assert not found, (
            f"{path.relative_to(REPO)} reads the environment: {found}; use cifar_core.settings"
        )


def test_the_check_finds_an_environment_read():
    assert reads_environment(ast.parse("import os\nx = os.environ.get('A')"))
    assert reads_environment(ast.parse("from os import getenv"))
    assert not reads_environment(ast.parse("environ = {}\nx = environ.get('A')"))


def test_the_readme_table_lists_exactly_the_settings():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Server settings", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([A-Z0-9_]+)` \|", section, flags=re.M)
    assert sorted(listed) == sorted(s.name for s in settings.ALL)


def test_values_fall_back_to_defaults_and_are_stripped():
    env = {"CIFAR_WARMUP": "  0 ", "CIFAR_RUNS_DIR": "   "}
    assert settings.raw(settings.WARMUP, env) == "0"
    assert settings.value(settings.RUNS_DIR, env) == "runs"  # blank: the default
    assert settings.raw(settings.PRESET, env) == ""


# --- the count limits from the environment: whole numbers of at least 1 ---


@pytest.fixture()
def limit_env(monkeypatch):
    for setting in (settings.MAX_IMAGE_EPOCHS, settings.MAX_RUN_MINUTES, settings.MAX_QUEUE):
        monkeypatch.delenv(setting.name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("setting", [settings.MAX_IMAGE_EPOCHS, settings.MAX_QUEUE])
@pytest.mark.parametrize(("raw", "fix"), [("0.5", "1"), ("1.5", "2"), ("0.9", "1")])
def test_a_fractional_count_limit_is_refused_not_cut_to_0(limit_env, setting, raw, fix):
    from cifar_core.training.limits import Limits

    limit_env.setenv(setting.name, raw)
    with pytest.raises(ValueError) as exc:
        Limits.from_env()  # int(0.5) was a limit of 0: every run refused, silently
    assert str(exc.value) == (
        f"{setting.name} must be a whole number of 1 or more, got {raw!r}; set it to e.g. {fix}."
    )


def test_whole_count_limits_and_fractional_minutes_from_the_environment(limit_env):
    from cifar_core.training.limits import Limits

    limit_env.setenv(settings.MAX_IMAGE_EPOCHS.name, "6000.0")
    limit_env.setenv(settings.MAX_QUEUE.name, "1")
    limit_env.setenv(settings.MAX_RUN_MINUTES.name, "0.5")
    limits = Limits.from_env()
    assert limits == Limits(max_image_epochs=6000, max_run_minutes=0.5, max_queue=1)
    assert type(limits.max_image_epochs) is int and type(limits.max_queue) is int
