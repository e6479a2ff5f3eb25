"""Lesson experiments: every training claim a page makes has a preset that shows it here."""

from __future__ import annotations

import pytest

from cifar_core import lessons as L


def epochs(gaps: list[float], val: float = 0.4) -> list[dict]:
    return [{"epoch": i + 1, "accuracy": val + g, "val_accuracy": val} for i, g in enumerate(gaps)]


def test_the_gap_is_averaged_over_the_last_epochs():
    outcome = L.Outcome("x", 0.4, epochs([0.5, 0.0, 0.10, 0.20, 0.30]))
    assert outcome.gap == pytest.approx(0.20)
    assert L.Outcome("x", 0.4, []).gap is None


def test_checks_say_shown_or_not_with_the_numbers():
    shown, text = L.evaluate("above_chance", [L.Outcome("shallow", 0.41, [])])
    assert shown and "41.0%" in text and "far above chance" in text
    assert not L.evaluate("above_chance", [L.Outcome("shallow", 0.12, [])])[0]
    wide, narrow = (
        L.Outcome("shallow", 0.5, epochs([0.2] * 3)),
        L.Outcome("deep", 0.5, epochs([0.05] * 3)),
    )
    shown, text = L.evaluate("shallow_overfits_more", [wide, narrow])
    assert shown and "+20.0 points" in text and "+5.0 points" in text and "last 3 epochs" in text
    assert not L.evaluate("shallow_overfits_more", [narrow, wide])[0]
    with pytest.raises(ValueError, match="needs 2 runs"):
        L.evaluate("augmentation_narrows_gap", [wide])


def test_every_experiment_fits_the_sample_and_a_couple_of_minutes():
    for experiment in L.EXPERIMENTS.values():
        assert len(experiment.labels) == len(experiment.configs)
        assert all(c.train_size <= 5085 for c in experiment.configs)  # the sample's size
        assert 0 < experiment.seconds <= 120
    aug = L.EXPERIMENTS["augmentation_narrows_gap"].configs
    assert aug[0].augment is None and aug[1].augment  # the same run but for augmentation
    assert {k: v for k, v in aug[0].to_dict().items() if k != "augment"} == {
        k: v for k, v in aug[1].to_dict().items() if k != "augment"
    }


@pytest.mark.slow
@pytest.mark.parametrize("key", list(L.EXPERIMENTS))
def test_each_preset_shows_its_claim_on_the_real_sample(key, sample_data, tmp_store, monkeypatch):
    """Trains the preset exactly as the app does; fails when it stops showing its point."""
    from cifar_core.training import TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    experiment = L.EXPERIMENTS[key]
    manager = JobManager(1)
    jobs = [
        job for job, _ in manager.start_request(list(experiment.configs), sample_data, tmp_store)
    ]
    outcomes = []
    for label, job in zip(experiment.labels, jobs, strict=True):
        assert wait_for(job, timeout=900)
        snap = job.monitor.snapshot()
        assert snap.status == "finished", snap.message
        run = tmp_store.load(snap.run_id)
        outcomes.append(L.Outcome(label, run.result["test_accuracy"], run.history["epochs"]))
    shown, text = L.evaluate(key, outcomes)
    assert shown, text
    assert isinstance(jobs[0], TrainingJob)
