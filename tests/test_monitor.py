"""The monitor's bounded per-batch series: cap, extremes, means, counters and versions."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from cifar_core import constants as C
from cifar_core.curve_points import BatchSeries, downsample_batches
from cifar_core.training.monitor import TrainingMonitor

SPE, BATCH, N_TRAIN = 1250, 32, 40_000  # 50 epochs of 40,000 images at batch 32: 62,500 batches


class FakeClock:
    """Seconds that advance by `step` on every read, so runs are fast and reproducible."""

    def __init__(self, step: float = 0.01) -> None:
        self.now, self.step = 100.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def keras_like(n_batches: int, spe: int = SPE, seed: int = 0, spike: int | None = None):
    """(epoch, batch, logs, size) as Keras reports them: running means within each epoch."""
    rng = random.Random(seed)
    loss_sum = acc_sum = 0.0
    for step in range(n_batches):
        epoch, batch = divmod(step, spe)
        if batch == 0:
            loss_sum = acc_sum = 0.0
        progress = step / n_batches
        loss_sum += 2.3 * math.exp(-2.5 * progress) + 0.3 + rng.gauss(0, 0.15)
        acc_sum += min(1.0, max(0.0, 0.1 + 0.7 * progress + rng.gauss(0, 0.05)))
        logs = {"loss": loss_sum / (batch + 1), "accuracy": acc_sum / (batch + 1)}
        if step + 1 == spike:
            logs["loss"] = 50.0
        yield epoch, batch, logs, min(BATCH, N_TRAIN - batch * BATCH)


def fed(n_batches: int, **kwargs) -> tuple[TrainingMonitor, list[dict]]:
    """A monitor fed `n_batches`, and the full per-batch list the old monitor kept."""
    monitor = TrainingMonitor(clock=FakeClock(), max_points=kwargs.pop("max_points", 500))
    monitor.begin(n_batches, BATCH)
    start = monitor.clock.now
    raw = []
    for epoch, batch, logs, size in keras_like(n_batches, **kwargs):
        monitor.add_batch(epoch, batch, logs, size)
        raw.append(
            {
                "step": len(raw) + 1,
                "epoch": epoch + 1,
                "batch": batch + 1,
                "loss": logs["loss"],
                "accuracy": logs["accuracy"],
                # add_batch reads the clock once: start + (len + 1) steps of 0.01 s
                "seconds": start + (len(raw) + 1) * monitor.clock.step - start,
                "size": size,
            }
        )
    return monitor, raw


@pytest.fixture(scope="module")
def long_run() -> tuple[TrainingMonitor, list[dict]]:
    return fed(62_500, spike=31_337)


def test_point_cap_holds_at_62500_batches(long_run):
    monitor, raw = long_run
    snap = monitor.snapshot()
    assert C.MAX_CURVE_POINTS // 2 <= len(snap.batches) <= C.MAX_CURVE_POINTS
    assert len(monitor.history()["batches"]) == len(snap.batches)
    # Points cover every batch once, in order, in aligned groups of one power-of-two width.
    counts = [p["count"] for p in snap.batches]
    assert sum(counts) == 62_500 and counts[0] == 128 and set(counts[:-1]) == {128}
    assert [p["first_step"] for p in snap.batches] == list(range(1, 62_501, 128))
    assert snap.batches[-1]["step"] == 62_500
    assert (snap.batches[-1]["epoch"], snap.batches[-1]["batch"]) == (50, 1250)
    for key in ("step", "epoch", "batch", "loss", "accuracy", "seconds", "size"):
        assert key in snap.batches[0]  # the old per-batch keys still read the same way


def test_a_single_spike_survives_as_a_maximum(long_run):
    monitor, _ = long_run
    points = monitor.snapshot().batches
    (spiked,) = [p for p in points if p["first_step"] <= 31_337 <= p["step"]]
    assert spiked["loss_max"] == 50.0
    assert spiked["loss"] < 2.0  # the mean hides it; the max (drawn as the band) does not
    assert max(p["loss_max"] for p in points) == 50.0
    others = [p for p in points if p is not spiked]
    assert max(p["loss_max"] for p in others) < 50.0


def test_merged_means_are_the_means_of_their_batches(long_run):
    monitor, raw = long_run
    loss = np.array([r["loss"] for r in raw])
    accuracy = np.array([r["accuracy"] for r in raw])
    for p in monitor.snapshot().batches:
        group = slice(p["first_step"] - 1, p["step"])
        assert p["loss"] == pytest.approx(loss[group].mean(), rel=1e-12)
        assert p["accuracy"] == pytest.approx(accuracy[group].mean(), rel=1e-12)
        assert p["loss_min"] == loss[group].min() and p["loss_max"] == loss[group].max()
        assert p["accuracy_min"] == accuracy[group].min()
        assert p["accuracy_max"] == accuracy[group].max()
        assert p["size"] == sum(r["size"] for r in raw[group])
        assert p["seconds"] == pytest.approx(raw[p["step"] - 1]["seconds"])


def test_steps_images_speed_and_eta_stay_right():
    monitor = TrainingMonitor(clock=FakeClock(0.5), max_points=8)
    monitor.begin(total_steps=100, batch_size=32)
    for step in range(40):
        monitor.add_batch(step // 25, step % 25, {"loss": 1.0, "accuracy": 0.5}, 32 - step % 2)
    snap = monitor.snapshot()
    assert len(snap.batches) <= 8 and snap.steps_done == 40
    images = sum(32 - s % 2 for s in range(40))
    assert snap.images_done == images == sum(b["size"] for b in snap.batches)
    seconds = 40 * 0.5  # the clock moved half a second per read, one read per batch
    assert snap.images_per_second == pytest.approx(images / seconds)
    assert snap.eta_seconds == pytest.approx(60 * 32 / (images / seconds))
    assert snap.progress == pytest.approx(0.4)
    monitor.set_status("finished")
    assert monitor.snapshot().eta_seconds is None


def test_versions_change_with_what_they_track():
    monitor = TrainingMonitor(clock=FakeClock(), max_points=4)
    first = monitor.snapshot()
    monitor.set_status("preparing")
    after_status = monitor.snapshot()
    assert after_status.version > first.version
    assert after_status.chart_version == first.chart_version  # nothing plotted changed
    monitor.begin(100, 32)
    charts = []
    for step in range(12):
        before = monitor.snapshot()
        monitor.add_batch(0, step, {"loss": 1.0, "accuracy": 0.5}, 32)
        after = monitor.snapshot()
        assert after.version > before.version  # every batch moves the progress line
        charts.append(after.chart_version > before.chart_version)
    # Cap 4: one point per batch up to 4; then pairs merge (width 2) and a new point starts
    # every 2nd batch; at 4 points again they merge to width 4: a new point every 4th batch.
    assert charts == [True] * 4 + [True, False] * 2 + [True, False, False, False]
    quiet = monitor.snapshot()
    assert monitor.snapshot().version == quiet.version  # reading changes nothing
    monitor.add_epoch(0, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4})
    assert monitor.snapshot().chart_version > quiet.chart_version
    before = monitor.snapshot()
    monitor.request_stop()
    stopping = monitor.snapshot()
    assert stopping.stop_requested and stopping.version > before.version
    assert stopping.chart_version == before.chart_version
    monitor.end_training()  # the last, partly filled point is drawn once more
    assert monitor.snapshot().chart_version > stopping.chart_version
    assert monitor.snapshot().chart_key == (monitor.uid, monitor.chart_version)
    assert TrainingMonitor().uid != monitor.uid


def test_snapshots_are_not_changed_by_later_batches():
    monitor = TrainingMonitor(clock=FakeClock(), max_points=4)
    monitor.begin(10, 32)
    for step in range(5):
        monitor.add_batch(0, step, {"loss": float(step), "accuracy": 0.5}, 32)
    snap = monitor.snapshot()
    kept = [dict(p) for p in snap.batches]
    for step in range(5, 10):
        monitor.add_batch(0, step, {"loss": 100.0, "accuracy": 0.5}, 32)
    assert [dict(p) for p in snap.batches] == kept


def test_downsampling_an_old_full_list_gives_the_monitors_points(long_run):
    monitor, raw = long_run
    bounded = list(monitor.snapshot().batches)
    points = downsample_batches(raw, C.MAX_CURVE_POINTS)
    assert len(points) == len(bounded)
    for mine, theirs in zip(points, bounded, strict=True):
        assert mine.keys() == theirs.keys()
        assert mine == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 33, 100])
@pytest.mark.parametrize("cap", [4, 5, 8])
def test_downsampling_matches_the_monitor_for_any_length_and_cap(n, cap):
    monitor, raw = fed(n, spe=10, max_points=cap)
    bounded = list(monitor.snapshot().batches)
    assert len(bounded) <= cap
    points = downsample_batches(raw, cap)
    assert len(points) == len(bounded)
    for mine, theirs in zip(points, bounded, strict=True):
        assert mine == pytest.approx(theirs, rel=1e-12)


def test_downsampling_bounded_points_passes_them_through_or_merges_pairs(long_run):
    monitor, _ = long_run
    bounded = monitor.history()["batches"]
    assert downsample_batches(bounded) == bounded  # a new run's saved history: unchanged
    halved = downsample_batches(bounded, len(bounded) // 2)
    assert len(halved) <= len(bounded) // 2
    assert sum(p["count"] for p in halved) == 62_500
    assert sum(p["size"] for p in halved) == sum(p["size"] for p in bounded)
    assert max(p["loss_max"] for p in halved) == 50.0
    weighted = sum(p["loss"] * p["count"] for p in bounded) / 62_500
    assert sum(p["loss"] * p["count"] for p in halved) / 62_500 == pytest.approx(weighted)


def test_not_finite_values_stay_out_of_means_and_extremes():
    series = BatchSeries(max_points=2)
    for loss in (1.0, float("nan"), 3.0, float("inf"), 9.0):
        series.add(1, 1, loss, 0.5, 0.0, 32)
    point = series.rows()[0]  # the first four batches, merged
    assert point["count"] == 4 and point["loss"] == 2.0
    assert (point["loss_min"], point["loss_max"]) == (1.0, 3.0)
    empty = BatchSeries(max_points=2)
    empty.add(1, 1, float("nan"), 0.5, 0.0, 32)
    assert math.isnan(empty.rows()[0]["loss"]) and math.isnan(empty.rows()[0]["loss_max"])
    with pytest.raises(ValueError):
        BatchSeries(max_points=1)


def test_history_is_a_fresh_copy_with_bounded_batches(long_run):
    monitor, _ = long_run
    history = monitor.history()
    history["batches"][0]["loss"] = -1.0
    assert monitor.snapshot().batches[0]["loss"] != -1.0
    assert set(history) == {"batches", "epochs"}


@pytest.mark.parametrize(
    ("steps_done", "expected"),
    [
        # the case: 1 full epoch of 13 batches and 1 batch of the next
        (14, "Stopped during epoch 2 of 5: 1 full epoch and 1 of 13 batches of the next."),
        (3, "Stopped during epoch 1 of 5: 3 of 13 batches."),
        (26, "Stopped after 2 full epochs of 5."),
        (13, "Stopped after 1 full epoch of 5."),
        (38, "Stopped during epoch 3 of 5: 2 full epochs and 12 of 13 batches of the next."),
        (0, "Stopped before the first batch finished: nothing was trained."),
    ],
)
def test_stop_note_counts_full_epochs_and_batches(steps_done, expected):
    from cifar_core.training.monitor import stop_note

    assert stop_note(steps_done, 13, 13 * 5) == expected


def test_stop_note_of_a_stopped_monitor_matches_its_history():
    # Keras validates a stopped epoch too, so the history has 2 epoch rows for 1 full epoch
    # and 1 batch: the note must not say "after 2 epochs".
    monitor = TrainingMonitor(clock=FakeClock())
    monitor.begin(total_steps=4 * 3, batch_size=BATCH)
    for epoch, batch, logs, size in keras_like(4, spe=3):
        monitor.add_batch(epoch, batch, logs, size)
        if batch == 2:
            monitor.add_epoch(epoch, {"loss": 1.0, "val_accuracy": 0.2})
    monitor.request_stop()
    monitor.add_epoch(1, {"loss": 1.0, "val_accuracy": 0.2})  # the stopped epoch's row
    snap = monitor.snapshot()
    assert len(snap.epochs) == 2 and snap.steps_done == 4
    assert (
        snap.stop_note(3)
        == "Stopped during epoch 2 of 4: 1 full epoch and 1 of 3 batches of the next."
    )
    assert "(s)" not in snap.stop_note(3)
