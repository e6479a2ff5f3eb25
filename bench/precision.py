"""Bench: float32 vs mixed bfloat16 training speed of both networks, and what the app picks.

First the app's own calibration (cifar_core.precision: a few batches of each network in each
precision, random data) and its decision per network. Then real training through the app's
TrainingJob on the real CIFAR-10 sample (default: 5,085 images, 2 epochs, batch 128), each
precision forced in turn with $CIFAR_PRECISION, alternating so that drift on a shared machine
hits both; images/s over each run's own fit time, medians of the repeats. With --accuracy,
one longer run per network and precision (same seed) also prints their test accuracies.

Last line: `deep_bf16_speedup=<bfloat16 images/s / float32 images/s>` (target ≥ 1.7 on a CPU
with bfloat16 arithmetic).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

from _common import job_images_per_s, sample_dir

from cifar_core import constants as C
from cifar_core import precision
from cifar_core.data import load_local
from cifar_core.runs import RunStore
from cifar_core.training import TrainConfig


def forced(value: str) -> None:
    os.environ[C.ENV_PRECISION] = value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=5085)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=C.DEFAULT_BATCH_SIZE)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accuracy", action="store_true", help="also compare test accuracy")
    args = parser.parse_args()

    os.environ.pop(C.ENV_PRECISION, None)
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
            for i in range(args.repeats):
                for p in precision.PRECISIONS:
                    forced(p)
                    speeds[p].append(job_images_per_s(data, config, store))
                print(
                    f"{name} repeat {i + 1}: "
                    + ", ".join(f"{p} {s[-1]:,.0f} img/s" for p, s in speeds.items()),
                    flush=True,
                )
            fp32 = statistics.median(speeds[precision.FLOAT32])
            bf16 = statistics.median(speeds[precision.BFLOAT16])
            speedups[name] = bf16 / fp32
            print(f"{name}_float32_images_per_s={fp32:.0f}")
            print(f"{name}_bfloat16_images_per_s={bf16:.0f}")
            print(f"{name}_bf16_speedup={bf16 / fp32:.2f}", flush=True)
        if args.accuracy:
            accuracy(data, store)
    print(f"deep_bf16_speedup={speedups['deep']:.2f}")


def accuracy(data, store) -> None:
    """Test accuracy of both precisions, same seed: the real sample, 10 epochs (as the issue)."""
    from cifar_core.jobs import JobManager, wait_for
    from cifar_core.training import TrainingJob

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
