"""Mutation score of the core modules: how many small deliberate bugs the tests catch.

For each group of modules, a throwaway copy of this working tree (tracked files and
untracked ones git does not ignore, so new tests count before they are committed) gets a
`[tool.mutmut]` section (mutmut 3: the modules to mutate, the tests that cover them) and
`mutmut run` plants one small bug at a time (a flipped comparison, a changed constant, a
dropped argument…) and runs those tests against it; a mutant is killed when a test fails.
Slow (minutes to hours per group: tests that train a network run once per mutant), so it runs
outside CI: `python -m bench.mutation [--only "upload decoding"]`.

Prints per group: caught / total (killed, or hung past mutmut's time limit — 15× the tests'
normal time + 5 minutes), survived, mutants no test reaches, and the score
(caught / (total − skipped)); the surviving mutants' names are written to
`<clone>/mutants/survivors.txt` for review (see `mutmut show <name>` in that clone). The last
line is `mutation_score=<caught / all, over the groups run>` (target ≥ 0.90).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.sample import sample_dir

REPO = Path(__file__).resolve().parents[1]


def cifar_dir() -> Path:
    """The real CIFAR-10 sample the tests read (harness.sample), as an absolute path."""
    return sample_dir().resolve()


# group → (modules to mutate, tests that cover them)
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "upload decoding": (
        ["cifar_core/images.py"],
        ["tests/test_images.py", "tests/test_images_edges.py"],
    ),
    "data": (["cifar_core/data.py"], ["tests/test_data.py", "tests/test_data_edges.py"]),
    "run store": (
        [
            "cifar_core/runs/__init__.py",
            "cifar_core/runs/files.py",
            "cifar_core/runs/disk.py",
            "cifar_core/runs/checks.py",
            "cifar_core/runs/binary.py",
        ],
        ["tests/test_runs.py", "tests/test_runs_untrusted.py", "tests/test_runs_edges.py"],
    ),
    "jobs": (
        ["cifar_core/jobs.py", "cifar_core/presence.py", "cifar_core/limits.py"],
        [
            "tests/test_jobs.py",
            "tests/test_jobs_real_scale.py",
            "tests/test_queue_cancel.py",
            "tests/test_jobs_edges.py",
        ],
    ),
    "training": (
        ["cifar_core/training.py"],
        [
            "tests/test_training.py",
            "tests/test_training_wiring.py",
            "tests/test_training_edges.py",
        ],
    ),
    "augmentation": (
        ["cifar_core/augmentation.py", "cifar_core/augment_params.py"],
        [
            "tests/test_augmentation.py",
            "tests/test_oracle_augmentation.py",
            "tests/test_augmentation_edges.py",
        ],
    ),
}


def mutmut_config(modules: list[str], tests: list[str]) -> str:
    existing = [t for t in tests if (REPO / t).exists()]
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["cifar_core"]\n'
        f"only_mutate = {json.dumps(modules)}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(existing)}\n"
        'also_copy = ["pages", "app.py", "bench", "harness", "ui", ".streamlit"]\n'
        # Some mutants' tests train a real network in a fixture, which mutmut's baseline
        # timing leaves out: without room for it, slow-but-correct runs would count as hangs.
        "timeout_constant = 300\n"
        # mutmut forks each mutant's worker from a process that has already run TensorFlow,
        # and TensorFlow's thread pools hang in a forked child: start workers from a fork
        # server that has only imported numpy and TensorFlow (PRELOAD, written next to it).
        'process_isolation = "forkserver"\n'
        'forkserver_warmup = "import"\n'
        f'preload_modules_file = "{PRELOAD}"\n'
    )


PRELOAD = "mutmut_preload.txt"  # modules the fork server imports before forking workers


def copy_tree(workdir: Path) -> None:
    """This working tree's files (tracked, and untracked but not ignored) copied to workdir."""
    listed = subprocess.run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout  # fmt: skip
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            target = workdir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def run_group(name: str, workdir: Path, max_children: int | None) -> dict:
    """Copy the tree into workdir, configure mutmut for one group, run it; its stats."""
    modules, tests = GROUPS[name]
    copy_tree(workdir)
    with open(workdir / "pyproject.toml", "a", encoding="utf-8") as config:
        config.write(mutmut_config(modules, tests))
    (workdir / PRELOAD).write_text("numpy\ntensorflow\n")
    # The copy has no ../shared next to it: point the tests at the real sample explicitly.
    env = {**os.environ, "CIFAR_WARMUP": "0", "CIFAR10_DIR": str(cifar_dir())}
    command = ["mutmut", "run"] + ([f"--max-children={max_children}"] if max_children else [])
    log = workdir / "mutmut-run.log"
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.run(command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        sys.exit(f"mutmut failed for {name!r}; its output is in {log}")
    subprocess.run(["mutmut", "export-cicd-stats"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    stats = json.loads((workdir / "mutants" / "mutmut-cicd-stats.json").read_text())
    survivors = subprocess.run(["mutmut", "results"], cwd=workdir, capture_output=True,
                               text=True, check=True).stdout  # fmt: skip
    (workdir / "mutants" / "survivors.txt").write_text(survivors)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(GROUPS), help="groups to run")
    parser.add_argument("--keep", help="folder for the copies (default: a temporary one)")
    parser.add_argument("--max-children", type=int, help="parallel mutants (default: CPU count)")
    args = parser.parse_args()
    groups = args.only or list(GROUPS)
    killed = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        for name in groups:
            workdir = root / name.replace(" ", "_")
            stats = run_group(name, workdir, args.max_children)
            counted = stats["total"] - stats.get("skipped", 0)
            # A mutant whose tests still run after 15× their normal time + 5 minutes hangs:
            # caught, as mutmut itself counts it.
            caught = stats["killed"] + stats["timeout"]
            score = caught / counted if counted else float("nan")
            killed, total = killed + caught, total + counted
            print(
                f"{name}: caught {caught}/{counted} (killed {stats['killed']}, hung past the "
                f"time limit {stats['timeout']}), survived {stats['survived']}, no test "
                f"reaches {stats['no_tests']}; score {score:.2f}  "
                f"(survivors: {workdir}/mutants/survivors.txt)",
                flush=True,
            )
    print(f"mutation_score={killed / total if total else float('nan'):.2f}")


if __name__ == "__main__":
    sys.exit(main())
