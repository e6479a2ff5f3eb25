"""Bench: the live panel's work per poll at any run length (target ≤ 30 ms).

For runs of 160, 2,000, 15,600 and 62,500 batches, a TrainingMonitor is fed synthetically but
as Keras reports it (per-batch running means since the start of each epoch, end-of-epoch and
validation values, a smaller last batch, ~0.07 s per batch of 32 on its clock), then:

  feed       add_batch: median µs per batch, the 99th percentile, and the worst single batch
             (a merge of points, ~1–2 ms, or a pause of this shared machine or its GC)
  snapshot   monitor.snapshot(), ms (median)
  build      the Train page's two charts for a new chart_version: cold = with no chart
             template built yet (Altair; the server builds them in the background at import,
             live_view.warm_templates), new = templates ready (the steady state)
  same       a poll that finds nothing new: snapshot + shared-cache hit
  marshal    Streamlit turning the two emitted chart elements into protos
             (st.vega_lite_chart of the ready specs, bare mode): cold = first call, warm
  altair     for comparison: st.altair_chart of a DataFrame-backed chart of the same bounded
             points on every poll (Altair validation + Arrow each time), both charts
  panel      the Train page's live panel chart work in a real script run (AppTest): snapshot,
             progress line, the two charts and captions via ui.run_views, timed inside
             the script. no-warm = the first poll with no template built (not what a server
             does, for reference); first = the first poll after the import-time warm-up; new =
             a new chart_version every poll; same = nothing new; max = worst of first, new, same

Run: `python -m bench.live_view` (add `--repeats N` for more polls). The last line is
`ms_at_62500=<n>`: the worst per-poll ms of that panel at 62,500 batches, over the first poll
(after the templates' warm-up, as on a server) and all new-version and nothing-new polls.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

from cifar_core import live_view as LV
from cifar_core.charts import training_curve
from cifar_core.training import TrainConfig
from cifar_core.training.monitor import TrainingMonitor

# (batches, config): 160 = 5 × 32 (4,000 images, batch 128); 2,000 = 5 × 400 (12,800, batch
# 32); 15,600 = 50 × 312 (39,936, batch 128); 62,500 = 50 × 1,250 (40,000, batch 32).
RUNS = [
    (160, dict(train_size=5_000, epochs=5, batch_size=128)),
    (2_000, dict(train_size=16_000, epochs=5, batch_size=32)),
    (15_600, dict(train_size=49_920, epochs=50, batch_size=128)),
    (62_500, dict(train_size=50_000, epochs=50, batch_size=32)),
]
SECONDS_PER_IMAGE = 1 / 450  # the deep net on 2 cores


class SimClock:
    """Training seconds as the monitor reads them: moved forward by the feeder, not by reads."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def feed(monitor: TrainingMonitor, config: TrainConfig, seed: int = 0) -> list[float]:
    """Feed a whole run as Keras would; returns the seconds each add_batch call took."""
    rng = random.Random(seed)
    n_train = config.split_sizes()[0]
    spe = -(-n_train // config.batch_size)
    total = spe * config.epochs
    monitor.begin(total, config.batch_size)
    costs = []
    step = 0
    for epoch in range(config.epochs):
        loss_sum = acc_sum = 0.0
        for batch in range(spe):
            step += 1
            size = min(config.batch_size, n_train - batch * config.batch_size)
            progress = step / total
            loss_sum += 2.3 * math.exp(-2.5 * progress) + 0.35 + rng.gauss(0, 0.2)
            acc_sum += min(1.0, max(0.0, 0.1 + 0.65 * (1 - math.exp(-3 * progress)))) + rng.gauss(
                0, 0.06
            )
            logs = {"loss": loss_sum / (batch + 1), "accuracy": acc_sum / (batch + 1)}
            monitor.clock.now += size * SECONDS_PER_IMAGE
            start = time.perf_counter()
            monitor.add_batch(epoch, batch, logs, size)
            costs.append(time.perf_counter() - start)
        train_loss, train_acc = loss_sum / spe, acc_sum / spe
        monitor.clock.now += 0.1 * n_train * SECONDS_PER_IMAGE  # the validation pass
        monitor.add_epoch(
            epoch,
            {
                "loss": train_loss,
                "accuracy": train_acc,
                "val_loss": train_loss * (1 + 0.3 * progress),
                "val_accuracy": train_acc * (1 - 0.15 * progress),
            },
        )
    return costs


def clear_templates() -> None:
    """Forget every chart template and ready chart, as in a process that has built none."""
    LV.LIVE_CHARTS.clear()
    for cached in (LV._training_base, LV._training_template, LV._comparison_template):
        cached.cache_clear()


def timed(fn, repeats: int) -> list[float]:
    """Milliseconds of `repeats` calls of fn()."""
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


PANEL_SCRIPT = """
import sys
import time

import streamlit as st

from ui import run_views

state = sys.modules["live_view_bench_state"]
start = time.perf_counter()
# What pages/train.py live_panel does with the charts, every poll.
snap = state.monitor.snapshot()
run_views.live_status(snap, state.config)
run_views.curves(snap.batches, snap.epochs, state.config, key="live", cache_key=snap.chart_key)
state.times.append((time.perf_counter() - start) * 1000)
"""


def panel_polls(monitor: TrainingMonitor, config: dict, repeats: int) -> dict[str, list[float]]:
    """The live panel's chart work timed inside real script runs: cold, new and same polls."""
    from streamlit.testing.v1 import AppTest

    state = types.ModuleType("live_view_bench_state")
    state.monitor, state.config, state.times = monitor, config, []
    sys.modules[state.__name__] = state
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "panel.py"
        script.write_text(PANEL_SCRIPT)
        at = AppTest.from_file(str(script), default_timeout=120)
        clear_templates()  # no template built: the poll builds them (for reference)
        at.run()
        assert not at.exception, at.exception
        no_warm = state.times[-1]
        clear_templates()
        LV.warm_templates()  # what the server does in the background at import
        at.run()
        first = state.times[-1]
        new, same = [], []
        for _ in range(repeats):
            LV.LIVE_CHARTS.clear()  # as if the job had moved to a new chart_version
            at.run()
            new.append(state.times[-1])
            at.run()  # nothing new since
            same.append(state.times[-1])
        assert not at.exception, at.exception
        assert len(at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")) == 2
    return {"no_warm": [no_warm], "first": [first], "new": new, "same": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20, help="polls per measure")
    args = parser.parse_args()
    import streamlit as st

    LV.WARMING.join()  # the import-time warm-up: let it finish before timing anything
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # quiet bare-mode warnings

    header = (
        f"{'batches':>8} {'points':>6} | {'feed µs':>7} {'p99':>6} {'max µs':>7} | {'snap':>5} | "
        f"{'build cold':>10} {'new':>5} | {'same':>5} | {'marshal cold':>12} {'warm':>5} | "
        f"{'altair':>6} | {'panel no-warm':>13} {'first':>5} {'new':>5} {'same':>5} {'max':>5}"
    )
    print("Live view, ms per poll unless noted (medians; max = worst poll).")
    print(header)
    print("-" * len(header))
    worst_at_62500 = None
    for n_batches, settings in RUNS:
        config = TrainConfig(model="deep", **settings)
        spe = -(-config.split_sizes()[0] // config.batch_size)
        assert spe * config.epochs == n_batches, (spe, n_batches)
        monitor = TrainingMonitor(clock=SimClock())
        gc.collect()  # start each feed with no garbage left by the previous run's measures
        costs = feed(monitor, config)
        snap = monitor.snapshot()
        snap_ms = timed(monitor.snapshot, args.repeats)

        clear_templates()
        cold_build = timed(
            lambda snap=snap, spe=spe, config=config: LV.curve_specs(
                snap.batches, snap.epochs, spe, config.epochs, cache_key=snap.chart_key
            ),
            1,
        )[0]
        versions = iter(range(10**9))
        new_build = timed(
            lambda snap=snap, spe=spe, config=config, versions=versions: LV.curve_specs(
                snap.batches, snap.epochs, spe, config.epochs, cache_key=("v", next(versions))
            ),
            args.repeats,
        )

        def same_poll(monitor=monitor, spe=spe, config=config):
            s = monitor.snapshot()
            return LV.curve_specs(s.batches, s.epochs, spe, config.epochs, cache_key=s.chart_key)

        same_ms = timed(same_poll, args.repeats)
        specs = same_poll()

        def marshal(specs=specs):
            for metric in LV.METRICS:
                st.vega_lite_chart(spec=specs[metric], width="stretch", key=f"live_{metric}")

        marshal_cold = timed(marshal, 1)[0]
        marshal_warm = timed(marshal, args.repeats)

        def altair_poll(snap=snap, spe=spe, config=config):
            for metric in LV.METRICS:
                chart = training_curve(snap.batches, snap.epochs, metric, spe, config.epochs)
                st.altair_chart(chart, width="stretch")

        altair_ms = timed(altair_poll, max(3, args.repeats // 4))

        p99 = sorted(costs)[int(0.99 * (len(costs) - 1))]
        panel = panel_polls(monitor, config.to_dict(), args.repeats)
        worst = max(panel["first"] + panel["new"] + panel["same"])
        med = statistics.median
        print(
            f"{n_batches:>8,} {len(snap.batches):>6} | {med(costs) * 1e6:>7.1f} "
            f"{p99 * 1e6:>6.1f} {max(costs) * 1e6:>7.0f} | {med(snap_ms):>5.2f} | {cold_build:>10.1f} "
            f"{med(new_build):>5.1f} | {med(same_ms):>5.2f} | {marshal_cold:>12.2f} "
            f"{med(marshal_warm):>5.2f} | {med(altair_ms):>6.1f} | {panel['no_warm'][0]:>13.1f} "
            f"{panel['first'][0]:>5.1f} {med(panel['new']):>5.1f} {med(panel['same']):>5.1f} "
            f"{worst:>5.1f}"
        )
        if n_batches == 62_500:
            worst_at_62500 = worst
    print(f"ms_at_62500={worst_at_62500:.1f}")


if __name__ == "__main__":
    main()
