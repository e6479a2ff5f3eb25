"""Bench: float32 vs mixed bfloat16 training speed of both networks, and what the app picks.

First the app's own calibration (cifar_core.training.precision: a few batches of each network in each
precision, random data) and its decision per network. Then real training through the app's
TrainingJob on the real CIFAR-10 sample (default: 5,085 images, 2 epochs, batch 128), each
precision forced in turn with $CIFAR_PRECISION, alternating so that drift on a shared machine
hits both; medians of the repeats of two speeds per run:
- training: images/s of the training batches after the first (the run's "training" phase:
  no compiling of the step, no validation) — how much faster the network trains;
- whole fit: images/s over the run's whole `fit` (first batch with its compile, and the
  validation passes, included) — what a short run of this size sees. With --accuracy,
one longer run per network and precision (same seed) also prints their test accuracies.

Last line: `deep_bf16_speedup=<bfloat16 / float32 training images/s>` (target ≥ 1.7 on a CPU
with bfloat16 arithmetic).

Run from the repo root: `python -m bench.precision [--repeats N] [--accuracy]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

from cifar_core import constants as C
from cifar_core import settings
from cifar_core.data import load_local
from cifar_core.runs import RunStore
from cifar_core.training import TrainConfig, precision
from harness.measure import alternating, spread
from harness.sample import sample_dir


def forced(value: str) -> None:
    os.environ[settings.PRECISION.name] = value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=5085)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=C.DEFAULT_BATCH_SIZE)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--accuracy", action="store_true", help="also compare test accuracy")
    args = parser.parse_args()

    os.environ.pop(settings.PRECISION.name, None)
    print(f"cpu advertises bfloat16: {precision.cpu_has_bf16()}")
    for name in C.MODEL_NAMES:
        d = precision.precision_for(name)
        shown = ", ".join(f"{p} {ips:,.0f} img/s" for p, ips in d.speeds.items())
        print(f"app picks for {name}: {d.precision} ({d.reason}; calibration: {shown})")

    data = load_local(sample_dir()).make_read_only()
    speedups = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        for name in C.MODEL_NAMES:
            config = TrainConfig(
                model=name,
                train_size=min(args.train_size, len(data.x_train)),
                epochs=args.epochs,
                batch_size=args.batch_size,
            )
            speeds = {p: [] for p in precision.PRECISIONS}
            whole = {p: [] for p in precision.PRECISIONS}

            def measure(p: str, config=config, speeds=speeds, whole=whole) -> float:
                forced(p)
                steady, fit = run_speeds(data, config, store, expect=p)
                speeds[p].append(steady)
                whole[p].append(fit)
                return steady

            # Alternating order (float32 first, then bfloat16 first, …): drift hits both.
            alternating({p: lambda p=p: measure(p) for p in precision.PRECISIONS}, args.repeats)
            for p in precision.PRECISIONS:
                print(f"{name} {p} training: {spread(speeds[p], 'img/s')}")
                print(f"{name} {p} whole fit: {spread(whole[p], 'img/s')}", flush=True)
            med = {p: statistics.median(v) for p, v in speeds.items()}
            med_whole = {p: statistics.median(v) for p, v in whole.items()}
            speedups[name] = med[precision.BFLOAT16] / med[precision.FLOAT32]
            for p in precision.PRECISIONS:
                print(f"{name}_{p}_training_images_per_s={med[p]:.0f}")
                print(f"{name}_{p}_whole_fit_images_per_s={med_whole[p]:.0f}")
            ratio = med_whole[precision.BFLOAT16] / med_whole[precision.FLOAT32]
            print(f"{name}: bfloat16/float32 training {speedups[name]:.2f}, whole fit {ratio:.2f}")
        if args.accuracy:
            accuracy(data, store)
    print(f"deep_bf16_speedup={speedups['deep']:.2f}")


def run_speeds(data, config: TrainConfig, store, expect: str) -> tuple[float, float]:
    """(training-phase images/s, whole-fit images/s) of one app TrainingJob.

    Precondition checked: the run trained in the precision that was forced (`expect`).
    """
    from cifar_core.training import TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    job = JobManager(1).submit(TrainingJob(config, data, store))
    assert wait_for(job, 3600), "job did not finish"
    snap = job.monitor.snapshot()
    assert snap.status == "finished", snap.message
    result = store.load(snap.run_id).result
    assert result["precision"] == expect, (result["precision"], expect)
    images = config.split_sizes()[0] * config.epochs
    phases = result["phases"]
    steady = (images - config.batch_size) / phases["training"]
    fit = images / (phases["first_batch"] + phases["training"] + phases["validation"])
    return steady, fit


def accuracy(data, store) -> None:
    """Test accuracy of both precisions, same seed: the real sample, 10 epochs (as the issue)."""
    from cifar_core.training import TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    for name in C.MODEL_NAMES:
        config = TrainConfig(model=name, train_size=len(data.x_train), epochs=10)
        for p in precision.PRECISIONS:
            forced(p)
            job = JobManager(1).submit(TrainingJob(config, data, store))
            assert wait_for(job, 3600)
            result = store.load(job.monitor.snapshot().run_id).result
            print(
                f"{name} {p}: test accuracy {result['test_accuracy']:.1%}, "
                f"training {result['train_seconds']:.1f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
