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
import math
import os
import random
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
            "cifar_core/runs/run.py",
            "cifar_core/runs/files.py",
            "cifar_core/runs/disk.py",
            "cifar_core/runs/checks.py",
            "cifar_core/runs/binary.py",
        ],
        ["tests/test_runs.py", "tests/test_runs_untrusted.py", "tests/test_runs_edges.py"],
    ),
    "jobs": (
        [
            "cifar_core/training/queue.py",
            "cifar_core/training/sharing.py",
            "cifar_core/training/estimates.py",
            "cifar_core/training/presence.py",
            "cifar_core/training/limits.py",
        ],
        [
            "tests/test_jobs.py",
            "tests/test_jobs_real_scale.py",
            "tests/test_queue_cancel.py",
            "tests/test_jobs_edges.py",
        ],
    ),
    "training": (
        ["cifar_core/training/config.py", "cifar_core/training/job.py"],
        [
            "tests/test_training.py",
            "tests/test_training_wiring.py",
            "tests/test_training_edges.py",
        ],
    ),
    "augmentation": (
        [
            "cifar_core/augmentation/__init__.py",
            "cifar_core/augmentation/pipeline.py",
            "cifar_core/augmentation/params.py",
            "cifar_core/augmentation/controls.py",
        ],
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


SAMPLE_SEED = 2026  # the same draw every time, so a sampled score can be rerun
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


# Run inside a copy: mutmut's own code reads the copy's pyproject.toml.
_GENERATE = "from mutmut.__main__ import create_mutants; create_mutants(1)"
_STATUSES = (
    "import json, sys; from pathlib import Path; from mutmut.stats import status_by_exit_code\n"
    "codes = {}\n"
    "for meta in Path('mutants').rglob('*.meta'):\n"
    "    codes.update(json.loads(meta.read_text())['exit_code_by_key'])\n"
    "print(json.dumps({n: status_by_exit_code[codes[n]] for n in json.load(sys.stdin)}))"
)


def sampled_stats(workdir: Path, env: dict, names: list[str]) -> dict:
    """mutmut's statuses of these mutants, counted like export-cicd-stats counts them all."""
    done = subprocess.run([sys.executable, "-c", _STATUSES], cwd=workdir, env=env, check=True,
                          input=json.dumps(names), capture_output=True, text=True)  # fmt: skip
    statuses = json.loads(done.stdout)
    count = {s: list(statuses.values()).count(s) for s in set(statuses.values())}
    survivors = sorted(n for n, s in statuses.items() if s != "killed")
    return {
        "total": len(names),
        "killed": count.get("killed", 0),
        "survived": count.get("survived", 0),
        "timeout": count.get("timeout", 0),
        "no_tests": count.get("no tests", 0),
        "skipped": count.get("skipped", 0),
        "not_killed": [f"{n}: {statuses[n]}" for n in survivors],
    }


def run_group(name: str, workdir: Path, max_children: int | None, sample: int = 0) -> dict:
    """Copy the tree into workdir, configure mutmut for one group, run it; its stats.

    With `sample`, only that many mutants drawn at random (seeded) run, and the stats are
    theirs: an unbiased estimate of the group's score at a fraction of the time.
    """
    modules, tests = GROUPS[name]
    copy_tree(workdir)
    with open(workdir / "pyproject.toml", "a", encoding="utf-8") as config:
        config.write(mutmut_config(modules, tests))
    (workdir / PRELOAD).write_text("numpy\ntensorflow\n")
    # The copy has no ../shared next to it: point the tests at the real sample explicitly.
    # Temporary files inside the copy: every mutant's pytest session leaves a basetemp folder
    # (its workers end without pytest's clean-up), tens of GB over a large group.
    (workdir / "tmp").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "CIFAR_WARMUP": "0",
        "CIFAR10_DIR": str(cifar_dir()),
        "TMPDIR": str(workdir / "tmp"),
    }
    command = ["mutmut", "run"] + ([f"--max-children={max_children}"] if max_children else [])
    chosen: list[str] = []
    if sample:
        subprocess.run([sys.executable, "-c", _GENERATE], cwd=workdir, env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        names = sorted(
            name
            for meta in (workdir / "mutants").rglob("*.meta")
            for name in json.loads(meta.read_text())["exit_code_by_key"]
        )
        chosen = random.Random(SAMPLE_SEED).sample(names, min(sample, len(names)))
        command += chosen
    log = workdir / "mutmut-run.log"
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.run(command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        sys.exit(f"mutmut failed for {name!r}; its output is in {log}")
    if chosen:
        stats = sampled_stats(workdir, env, chosen) | {"population": len(names)}
        (workdir / "mutants" / "survivors.txt").write_text("\n".join(stats.pop("not_killed")))
        return stats
    subprocess.run(["mutmut", "export-cicd-stats"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    stats = json.loads((workdir / "mutants" / "mutmut-cicd-stats.json").read_text())
    survivors = subprocess.run(["mutmut", "results"], cwd=workdir, capture_output=True,
                               text=True, check=True).stdout  # fmt: skip
    (workdir / "mutants" / "survivors.txt").write_text(survivors)
    return stats


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson 95% interval of a proportion (a sampled score's uncertainty)."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(GROUPS), help="groups to run")
    parser.add_argument("--keep", help="folder for the copies (default: a temporary one)")
    parser.add_argument("--max-children", type=int, help="parallel mutants (default: CPU count)")
    parser.add_argument(
        "--sample", type=int, default=0, help="run only N mutants drawn at random per group"
    )
    args = parser.parse_args()
    groups = args.only or list(GROUPS)
    killed = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        for name in groups:
            workdir = root / name.replace(" ", "_")
            stats = run_group(name, workdir, args.max_children, args.sample)
            counted = stats["total"] - stats.get("skipped", 0)
            # A mutant whose tests still run after 15× their normal time + 5 minutes hangs:
            # caught, as mutmut itself counts it.
            caught = stats["killed"] + stats["timeout"]
            score = caught / counted if counted else float("nan")
            killed, total = killed + caught, total + counted
            if "population" in stats:  # a random sample: say so, with its uncertainty
                low, high = wilson(caught, counted)
                print(f"{name}: a random sample of {counted} of its {stats['population']} "
                      f"mutants; 95% interval of the score {low:.2f}–{high:.2f}")  # fmt: skip
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
