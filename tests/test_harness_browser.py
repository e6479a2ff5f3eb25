"""Browser tests without Chromium: skipped with the install hint, but a failure under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import browser
from harness.browser import CHROMIUM_HINT, on_ci, require_chromium
from tests.conftest import REPO


@pytest.fixture()
def fake_chromium(tmp_path: Path) -> Path:
    path = tmp_path / "chromium"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("", False), ("false", False),
     ("0", False)],
)  # fmt: skip
def test_on_ci_reads_the_ci_variable(value, expected):
    assert on_ci({"CI": value}) is expected
    assert on_ci({}) is False


def test_a_present_chromium_lets_the_test_run(fake_chromium):
    assert require_chromium(fake_chromium, {"CI": "true"}) is None
    assert require_chromium(fake_chromium, {}) is None


def test_a_missing_chromium_skips_with_the_install_hint(tmp_path):
    missing = tmp_path / "no-chromium"
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_chromium(missing, {"CI": "false"})
    assert str(missing) in str(skipped.value) and CHROMIUM_HINT in str(skipped.value)


def test_a_missing_chromium_fails_under_ci(tmp_path):
    missing = tmp_path / "no-chromium"
    with pytest.raises(pytest.fail.Exception) as failed:
        require_chromium(missing, {"CI": "true"})
    assert str(missing) in str(failed.value) and "CI=true" in str(failed.value)


def test_a_file_that_cannot_run_counts_as_missing(fake_chromium):
    fake_chromium.chmod(0o644)
    with pytest.raises(pytest.skip.Exception):
        require_chromium(fake_chromium, {})


def test_the_defaults_are_read_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setattr(browser, "CHROMIUM", str(tmp_path / "gone"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="gone"):
        require_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="gone"):
        require_chromium()


def run_a_browser_test(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    # A real browser test, through the real conftest, with Chromium pointed at nothing.
    env = {**os.environ, "CHROMIUM_PATH": str(tmp_path / "no-chromium")}
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "tests/test_browser_bias_privacy.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_the_browser_tests_skip_without_chromium(tmp_path):
    out = run_a_browser_test(tmp_path, ci=None)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 skipped" in out.stdout and CHROMIUM_HINT in out.stdout, out.stdout


@pytest.mark.slow
def test_the_browser_tests_fail_without_chromium_under_ci(tmp_path):
    out = run_a_browser_test(tmp_path, ci="true")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 error" in out.stdout and "CI=true" in out.stdout, out.stdout
