"""Phases: where a run's time goes, measured by the job and kept with its result."""

from __future__ import annotations

import pytest

from cifar_core.training.phases import PHASES, PhaseClock, around_training_share, phase_rows


def test_the_clock_adds_up_blocks_and_figures_in_lesson_order():
    ticks = iter([10.0, 12.5, 20.0, 21.0])
    clock = PhaseClock(clock=lambda: next(ticks))
    with clock.time("saving"):
        pass
    clock.add("import", 3.0)
    with clock.time("import"):
        pass
    assert clock.as_dict() == {"import": 4.0, "saving": 2.5}  # PHASES order, not call order
    with pytest.raises(ValueError, match="phase"):
        clock.add("lunch", 1.0)


def test_rows_and_the_share_around_training_ignore_what_they_do_not_know():
    phases = {"import": 3.0, "first_batch": 1.0, "training": 4.0, "saving": 2.0, "x": "?"}
    rows = phase_rows(phases)
    assert [r["phase"] for r in rows] == ["import", "first batch", "training", "saving"]
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    assert around_training_share(phases) == pytest.approx(0.5)
    assert around_training_share({}) is None


@pytest.mark.slow
def test_a_finished_run_keeps_its_phases(trained_store):
    (run,) = trained_store.list_runs()
    result = trained_store.load(run.run_id).result
    phases = result["phases"]
    for phase in ("queue", "import", "precision", "data", "build", "first_batch", "training",
                  "validation", "test_scoring", "saving"):  # fmt: skip
        assert phase in phases and phases[phase] >= 0, (phase, phases)
    assert list(phases) == [p for p in PHASES if p in phases]
    assert phases["first_batch"] > 0 and phases["validation"] > 0 and phases["saving"] > 0
    # The training phases add up to the fit the monitor timed (within its bookkeeping).
    fit = phases["first_batch"] + phases["training"] + phases["validation"]
    assert fit == pytest.approx(result["train_seconds"], rel=0.2, abs=0.5)
    assert result["precision"] in ("float32", "bfloat16")
