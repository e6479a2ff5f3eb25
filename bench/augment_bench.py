"""Bench: is the Augmentation lab's preview fast, and what does augmentation cost in training?

On the real CIFAR-10 sample, in one process:
(a) the preview: `preview_grid` for 8 images × 5 variants with the lesson preset, warm, median
    over many repeats; also the page's whole picture (preview + labelled mosaic + PNG);
(b) training: the app's TrainingJob with and without augmentation (the lesson preset), same
    config otherwise, alternating plain / augmented so drift on a shared machine hits both;
    images/s = training images × epochs / the job's own fit time.
The last line is `ratio=<augmented time per image / plain time per image>` (target ≤ 1.25);
the preview target is ≤ 50 ms.

Run from the repo root: `python -m bench.augment_bench [--train-size N] [--repeats N]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

from cifar_core import constants as C
from cifar_core.augmentation import preview as V
from cifar_core.augmentation import preview_grid
from cifar_core.augmentation.params import LESSON_PRESET
from cifar_core.data import Cifar10, load_local
from cifar_core.runs import RunStore
from cifar_core.training import TrainConfig
from harness.measure import alternating, job_images_per_s, peak_rss_mb, spread
from harness.sample import sample_dir


def median_ms(work: Callable[[], object], repeats: int) -> float:
    """Median wall time of `work` in milliseconds, after one warm-up call."""
    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def preview_figures(data: Cifar10, repeats: int) -> tuple[float, float]:
    """(preview_grid ms, whole grid picture ms) for 8 images × NUM_TO_AUGMENT variants."""
    images = data.x_train[: C.DEFAULT_NUM_IMAGES]  # (8, 32, 32, 3) uint8
    labels = [data.class_names[i] for i in data.y_train[: C.DEFAULT_NUM_IMAGES]]
    columns = V.column_labels(C.NUM_TO_AUGMENT)

    def preview() -> object:
        return preview_grid(images, LESSON_PRESET, 0, C.NUM_TO_AUGMENT)

    def picture() -> object:
        cells = V.grid_cells(images, preview())
        return V.png_bytes(V.labelled_mosaic(cells, labels, columns))

    return median_ms(preview, repeats), median_ms(picture, repeats)


def check_augmentation_applies(data: Cifar10, plain: TrainConfig, augmented: TrainConfig) -> None:
    """Precondition: the augmented config really augments — the job's own training pipeline
    (make_augment_fn + make_dataset, as TrainingJob builds it) yields other pixels than the
    plain one for the same images; and the plain one does not augment."""
    import numpy as np

    from cifar_core.training import make_augment_fn, make_dataset, split_indices

    assert make_augment_fn(plain) is None, "the plain config augments"
    rows = split_indices(len(data.x_train), plain)[0][: plain.batch_size]
    batches = [
        next(iter(make_dataset(data.x_train, data.y_train, rows, len(rows), None, fn)))[0]
        for fn in (None, make_augment_fn(augmented))
    ]
    changed = float(np.mean(np.abs(batches[0].numpy() - batches[1].numpy())))
    assert changed > 0.01, f"augmentation changed pixels by only {changed:.4f} on average"
    print(f"precondition: augmentation changes the training pixels (mean |Δ| = {changed:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="deep")
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--preview-repeats", type=int, default=50)
    args = parser.parse_args()

    data = load_local(sample_dir()).make_read_only()
    preview_ms, picture_ms = preview_figures(data, args.preview_repeats)
    print(f"preview: {C.DEFAULT_NUM_IMAGES} images x {C.NUM_TO_AUGMENT} variants, lesson preset")
    print(f"preview_grid_ms={preview_ms:.1f}")
    print(f"grid_picture_ms={picture_ms:.1f}  (preview + labelled mosaic + PNG, as the page)")

    plain = TrainConfig(
        model=args.model,
        train_size=args.train_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
    )
    augmented = TrainConfig(**{**plain.to_dict(), "augment": LESSON_PRESET.to_dict()})
    print(
        f"training: {plain.model}, {plain.split_sizes()[0]} train images, {plain.epochs} epochs, "
        f"batch {plain.batch_size}; augmented = lesson preset"
    )
    check_augmentation_applies(data, plain, augmented)
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        # Alternating order (plain, augmented / augmented, plain, …): drift hits both alike.
        values = alternating(
            {
                "plain": lambda: job_images_per_s(data, plain, store),
                "augmented": lambda: job_images_per_s(data, augmented, store),
            },
            args.repeats,
        )
    plain_ips, augmented_ips = values["plain"], values["augmented"]
    for name, got in values.items():
        print(f"{name}: {spread(got, 'img/s')}  (in order: {', '.join(f'{v:.0f}' for v in got)})")
    a, b = statistics.median(plain_ips), statistics.median(augmented_ips)
    print(f"plain_images_per_s={a:.0f}")
    print(f"augmented_images_per_s={b:.0f}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    print(f"ratio={a / b:.3f}")  # time per image: (1 / b) / (1 / a)


if __name__ == "__main__":
    main()
