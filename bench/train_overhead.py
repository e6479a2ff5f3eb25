"""Bench: does the app's training job cost speed compared with the notebook's plain model.fit?

Same model, same real CIFAR-10 sample images, same epochs and batch size, in one process,
alternating (a) plain `model.fit` on float32 arrays with validation_split, as the notebook
does, and (b) the app's TrainingJob (uint8 gathered per batch, live callback, monitor).
Prints images/s of each and the peak RSS; the last line is `ratio=<b/a>` (target ≥ 0.95).

Run from the repo root: `python -m bench.train_overhead [--model shallow] [--repeats N]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from cifar_core.data import load_local
from cifar_core.runs import RunStore
from cifar_core.training import TrainConfig, build_compiled
from cifar_core.training.precision import precision_for
from harness.measure import alternating, job_images_per_s, peak_rss_mb, spread
from harness.sample import sample_dir


def plain_fit(data, config: TrainConfig) -> float:
    """The notebook's way: the whole subset as float32, one-hot labels, validation_split."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(config.seed)
    order = np.random.default_rng(config.seed).permutation(len(data.x_train))[: config.train_size]
    x = data.x_train[order].astype("float32") / 255.0
    y = keras.utils.to_categorical(data.y_train[order], 10)
    # In the precision the app trains this network in, so that only the job's wiring differs.
    model = build_compiled(config, precision_for(config.model).precision)
    start = time.perf_counter()
    model.fit(
        x,
        y,
        batch_size=config.batch_size,
        epochs=config.epochs,
        validation_split=config.val_split,
        shuffle=True,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    return config.split_sizes()[0] * config.epochs / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="deep")
    parser.add_argument("--train-size", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    data = load_local(sample_dir()).make_read_only()
    config = TrainConfig(
        model=args.model, train_size=args.train_size, epochs=args.epochs, batch_size=args.batch_size
    )
    print(
        f"config: {config.model}, {config.split_sizes()[0]} train images, {config.epochs} epochs, batch {config.batch_size}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        # Alternating order (plain, job / job, plain, …): drift hits both alike.
        values = alternating(
            {
                "plain fit": lambda: plain_fit(data, config),
                "app job": lambda: job_images_per_s(data, config, store),
            },
            args.repeats,
        )
        # Precondition: the job trained what the plain fit trained, in the same precision.
        (run,) = [r for r in store.list_runs()][:1]
        precision = store.load(run.run_id).result["precision"]
        assert precision == precision_for(config.model).precision, precision
    plain, job = values["plain fit"], values["app job"]
    for name, got in values.items():
        print(f"{name}: {spread(got, 'img/s')}  (in order: {', '.join(f'{v:.0f}' for v in got)})")
    a, b = statistics.median(plain), statistics.median(job)
    print(f"plain_fit_images_per_s={a:.0f}")
    print(f"app_job_images_per_s={b:.0f}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    print(f"ratio={b / a:.3f}")


if __name__ == "__main__":
    main()
