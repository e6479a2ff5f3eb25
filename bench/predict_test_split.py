"""Bench: how long do predictions for the whole test split of one run take?

The Shallow vs deep page never recomputes them: a run's test predictions are saved with it
(predictions.npz) and read once per run id. This measures both paths on the real CIFAR-10
sample: (a) computing them with the app's own `predict_probs` for each lesson network, cold
(the first call, which traces the model) and warm; (b) loading a saved run's predictions
from the run store, as the page does. Untrained weights: the arithmetic is the same.

The last line is `predict_test_s=<slowest cold computation>` (target ≤ 3 on 2 cores).

Run from the repo root: `python -m bench.predict_test_split [--repeats N]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from harness.measure import peak_rss_mb
from harness.sample import sample_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm repeats per model")
    args = parser.parse_args()

    import keras

    from cifar_core.data import load_local
    from cifar_core.models import build_model
    from cifar_core.runs import RunStore
    from cifar_core.training import TrainConfig, predict_probs

    data = load_local(sample_dir())
    indices = np.arange(len(data.x_test))
    print(f"test split: {len(indices):,} images of {data.source}")
    cold_times = []
    for name in ("shallow", "deep"):
        keras.utils.set_random_seed(0)
        model = build_model(name)
        start = time.perf_counter()
        probs = predict_probs(model, data.x_test, indices)
        cold = time.perf_counter() - start
        warm = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            predict_probs(model, data.x_test, indices)
            warm.append(time.perf_counter() - start)
        cold_times.append(cold)
        print(
            f"{name}: cold {cold:.2f} s, warm median {np.median(warm):.2f} s "
            f"({len(indices) / np.median(warm):,.0f} img/s)"
        )

    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        run_id = store.new_run_id()
        store.create(run_id, TrainConfig(model="deep").to_dict())
        store.write_predictions(run_id, test_probs=probs, test_labels=data.y_test)
        start = time.perf_counter()
        loaded = store.load(run_id).predictions()
        load_s = time.perf_counter() - start
        assert loaded["test_probs"].shape == probs.shape
    print(f"saved predictions: loaded in {load_s * 1000:.1f} ms")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    print(f"predict_test_s={max(cold_times):.2f}")


if __name__ == "__main__":
    main()
