"""Bench: "Why did it get that wrong?" at full size: mistakes, the explorer page, maps, exports.

The real CIFAR-10 sample tiled to the full 50,000 + 10,000 images (harness/fullsize.py) is
the server's data set; a real tiny run (deep net, 2,000 images, 1 epoch, the app's own
TrainingJob) is scored on all 10,000 test images. Its accuracy means nothing; what is measured
is the cost of browsing its results, which is what grows with the test split:

  1. runs     three real trainings: deep on the full-size set (10,000 test predictions),
              deep and shallow on the sample (1,017), the same settings otherwise
  2. core     cifar_core.explain.mistakes on the saved predictions: cell_examples (the
              biggest mistake cell, all and the 12 shown), mistakes() all and filtered by
              true / predicted class, most_confused_pairs (with its confusion matrix, as the
              explorer computes them); at 10,000 and at 1,017 test images
  3. page     the Train page showing that run (results, explorer included) in Streamlit's
              AppTest, the server's data already loaded: first view (the run's caches
              cold, as when a run has just ended), warm reruns, a rerun after picking
              another cell (result_mx_true / result_mx_pred), reruns with "any class" ×
              "any class" (every mistake); then, at 10,000, back on the biggest cell,
              "Where did it look?" pressed (first: loads the model; another image) and
              reruns with its maps shown (TensorFlow is already imported by the trainings: a
              fresh server's first click also pays that import). Wall time of
              AppTest.run(), in ms; the two sizes measured in alternation.
  4. maps     per image, each network's model loaded as ui/saliency.py loads it
              (look_inside.load_trained): Grad-CAM and occlusion, first call and warm
              (another image each call), and the random-weights copy
  5. exports  the model card at 10,000 test images (model_card + Markdown + HTML) and the
              notebook and script of the run

Medians with their spread (harness.measure.spread) over --repeats (≥ 5) where cheap; after
repeated figures, "full GCs k (t ms)": the full (generation-2) garbage collections that fell
inside those calls and their total pause (one walks the whole heap of a TensorFlow process,
~0.5 s on this machine, and stops every session of a server). The last
two lines: `explorer_growth=<warm rerun at 10,000 / at 1,017>` and
`explorer_rerun_ms_at_10000=<median warm rerun of the page at 10,000 test images, ms>`.

Run from the repo root: `python -m bench.explain [--repeats N]` (about 1 minute on 2 cores).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from cifar_core.data import Cifar10, load_local, shared_data
from cifar_core.identity import owner_hash
from cifar_core.runs import MODEL_FILE, Run, RunStore
from harness.fullsize import fullsize_dir
from harness.measure import peak_rss_mb, spread
from harness.sample import REPO, sample_dir

STUDENT_KEY = (
    "bench-explain-student-browserk00"  # a made-up valid browser key: the runs are this student's
)
PAGE = "pages/train.py"
KEY = "result_mx"  # the explorer's keys on Train's results (ui/run_views.show_run key="result")


class FullGCs:
    """Full (generation-2) garbage collections of this process, with their pauses in ms.

    A full collection walks every tracked object (~400,000 with TensorFlow loaded) and holds
    the GIL meanwhile: every session of a server and its training thread wait.
    """

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start: float | None = None
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start is not None:
            self.pauses.append((time.perf_counter() - self._start) * 1000)
            self._start = None


WATCH: FullGCs | None = None  # installed by main()


class Times(list):
    """ms of repeated calls, and the full-GC pauses (ms) that fell inside them (`gc`)."""

    def __init__(self, values: list[float] | None = None) -> None:
        super().__init__(values or [])
        self.gc: list[float] = []


def ms(fn: Callable[[], object], into: Times | None = None) -> float:
    """Milliseconds of one call of fn(); added to `into` with the full GCs inside it."""
    before = len(WATCH.pauses) if WATCH else 0
    start = time.perf_counter()
    fn()
    took = (time.perf_counter() - start) * 1000
    if into is not None:
        into.append(took)
        into.gc += WATCH.pauses[before:] if WATCH else []
    return took


def repeat_ms(fn: Callable[[], object], repeats: int) -> Times:
    times = Times()
    for _ in range(repeats):
        ms(fn, times)
    return times


def train(config_kw: dict, data: Cifar10, store: RunStore) -> Run:
    """One real run with the app's TrainingJob; returns it as the run store reads it back."""
    from cifar_core.training import TrainConfig, TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    config = TrainConfig(**config_kw)
    start = time.perf_counter()
    job = TrainingJob(config, data, store)
    job.add_owner(owner_hash(STUDENT_KEY))  # the page's session is this student's
    job = JobManager(1).submit(job)
    assert wait_for(job, 900), "the run did not finish in 15 minutes"
    snap = job.monitor.snapshot()
    assert snap.status == "finished", snap.message
    run = store.load(snap.run_id)
    n_test = len(run.predictions()["test_labels"])
    print(
        f"  {config.model} on {config_kw['train_size']:,} of {len(data.x_train):,} images, "
        f"{config.epochs} epoch: {time.perf_counter() - start:.1f} s; scored on {n_test:,} "
        f"test images, accuracy {run.result['test_accuracy']:.1%} ({data.source})"
    )
    return run


def predictions(run: Run) -> tuple[np.ndarray, np.ndarray]:
    preds = run.predictions()
    return preds["test_probs"], preds["test_labels"]


# --- 2. The mistakes core ------------------------------------------------------------------------


def core_figures(run: Run, repeats: int) -> dict[str, list[float]]:
    """ms per call of each mistakes function on this run's saved predictions."""
    from cifar_core.evaluation import confusion_matrix
    from cifar_core.explain.mistakes import (
        cell_examples,
        largest_mistake_cell,
        mistakes,
        most_confused_pairs,
        predicted_classes,
    )

    probs, labels = predictions(run)  # as saved: float16 and int16
    matrix = confusion_matrix(labels.astype(np.int64), probs.argmax(axis=1), probs.shape[1])
    true_class, pred_class = largest_mistake_cell(matrix)
    cls = int(np.bincount(labels[probs.argmax(axis=1) != labels], minlength=10).argmax())
    n = max(repeats, 30)  # a few ms each: more repeats for a steadier median and GC count
    calls = {
        "cell_examples (biggest cell, all)": lambda: cell_examples(
            probs, labels, true_class, pred_class
        ),
        "cell_examples (biggest cell, 12)": lambda: cell_examples(
            probs, labels, true_class, pred_class, limit=12
        ),
        "mistakes() all": lambda: mistakes(probs, labels),
        "mistakes() true class filter": lambda: mistakes(probs, labels, class_filter=cls),
        "mistakes() predicted filter": lambda: mistakes(
            probs, labels, class_filter=cls, by="predicted"
        ),
        "most_confused_pairs (with its matrix)": lambda: most_confused_pairs(
            confusion_matrix(labels, predicted_classes(probs), probs.shape[1])
        ),
    }
    counts = {
        "cell": len(cell_examples(probs, labels, true_class, pred_class)),
        "all": len(mistakes(probs, labels)),
    }
    out = {name: repeat_ms(fn, n) for name, fn in calls.items()}
    out["_counts"] = [counts["cell"], counts["all"]]
    return out


# --- 3. The page ------------------------------------------------------------------------------


def _text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _shown_images(at) -> int:
    return sum(
        "— true: " in img.caption for element in at.get("image") for img in element.proto.imgs
    )


def _check(at, what: str) -> None:
    assert not at.exception, f"{what}: {at.exception}"


@contextmanager
def _bare() -> Iterator[None]:
    """Streamlit called outside a page run ("missing ScriptRunContext …"): no warnings."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def _open_train_page(timeout: float = 300):
    from streamlit.testing.v1 import AppTest

    with _bare():
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    at.session_state["session_owner"] = STUDENT_KEY  # whose runs the page lists
    at.run()
    _check(at, "home page")
    at.switch_page(PAGE)
    return at


def _clear_run_caches() -> None:
    """Forget every run's cached predictions, charts and maps: the next view is a first one."""
    import streamlit as st

    from cifar_core import live_view

    with _bare():
        st.cache_data.clear()
    live_view.LIVE_CHARTS.clear()


class PageView:
    """One student's Train page showing one saved run, on a server serving one data set.

    Both sizes are measured in alternation (`alternate`), so that drift of this shared
    machine, and whatever the first measurement leaves warm, hit both alike.
    Switching between them sets CIFAR10_DIR / CIFAR_RUNS_DIR and puts the already loaded data
    set where `shared_data()` keeps the server's one copy, keyed by CIFAR10_DIR (as the tests
    do): no reload between page runs.
    """

    def __init__(self, data: Cifar10, data_dir: Path, store: RunStore, run: Run) -> None:
        from cifar_core.evaluation import confusion_matrix

        probs, labels = predictions(run)
        assert np.array_equal(data.y_test, labels), "the run was not scored on this test split"
        self.data, self.data_dir, self.store, self.n = data, data_dir, store, len(labels)
        self.matrix = confusion_matrix(labels.astype(np.int64), probs.argmax(axis=1), 10)
        off = [(int(self.matrix[i, j]), i, j) for i in range(10) for j in range(10) if i != j]
        # The next-biggest mistake cells after the one the explorer opens at.
        self.cells = [(i, j) for count, i, j in sorted(off, reverse=True) if count > 0][1:]
        assert len(self.cells) >= 2, "too few mistake cells to pick another one each time"
        self.at = None

    def serve(self) -> None:
        """Make this the server's data set and run store."""
        from cifar_core import data as data_module

        os.environ["CIFAR10_DIR"] = str(self.data_dir)
        os.environ["CIFAR_RUNS_DIR"] = str(self.store.root)
        data_module._shared.clear()
        data_module._shared[str(self.data_dir)] = self.data
        assert shared_data() is self.data

    def run(self, into: Times | None = None, timeout: float = 300) -> float:
        """ms of one full script run of the page, as it stands (added to `into`)."""
        self.serve()
        took = ms(lambda: self.at.run(timeout=timeout), into)
        _check(self.at, f"page at {self.n:,}")
        return took

    def first(self, into: Times | None = None) -> float:
        """A new session's first view of the run, its caches cold (a run that just ended)."""
        self.serve()
        _clear_run_caches()
        self.at = _open_train_page()
        took = self.run(into)
        assert "that the network called" in _text(self.at), "no explorer on the page"
        assert _shown_images(self.at) > 0, "the explorer shows no test image"
        return took

    def pick(self, true_class: int, pred_class: int) -> None:
        self.at.selectbox(key=f"{KEY}_true").set_value(true_class)
        self.at.selectbox(key=f"{KEY}_pred").set_value(pred_class)

    def next_cell(self, into: Times) -> float:
        """ms of the rerun after picking another cell in the pickers."""
        i, j = self.cells[0]
        self.cells = self.cells[1:] + self.cells[:1]  # a weak run may have few: round again
        self.pick(i, j)
        took = self.run(into)
        count = int(self.matrix[i, j])
        assert f"**{count:,}** test images of class" in _text(self.at), (i, j)
        assert _shown_images(self.at) == min(count, 12)
        return took


def alternate(
    views: dict[int, PageView], measure: Callable[[PageView, Times], object], repeats: int
) -> dict[int, Times]:
    """`measure` of each view, `repeats` rounds, the order alternating every round (A B, B A,
    …): drift of this shared machine, and whatever the first one leaves warm, hit both alike."""
    out = {n: Times() for n in views}
    order = list(views)
    for round_ in range(repeats):
        for n in order if round_ % 2 == 0 else reversed(order):
            measure(views[n], out[n])
    return out


def page_figures(views: dict[int, PageView], repeats: int) -> dict[int, dict[str, Times]]:
    """ms of full script runs of the Train page at each size (see the module's 3.)."""
    out: dict[int, dict[str, Times]] = {n: {} for n in views}
    for n, view in views.items():
        view.first(out[n].setdefault("first", Times()))
    gc.collect()
    for name, values in alternate(views, PageView.run, repeats).items():
        out[name]["warm"] = values
    for name, values in alternate(views, PageView.next_cell, repeats).items():
        out[name]["cell"] = values
    # Every mistake ("any class" × "any class"): the longest choice the explorer has (every
    # rerun, ui.explain.chosen_examples makes Examples of only the 12 shown, limit=shown, and
    # counts them all with choice_count).
    for n, view in views.items():
        view.pick(-1, -1)
        view.run(out[n].setdefault("all_first", Times()))
        assert "that the network got wrong" in _text(view.at)
    for name, values in alternate(views, PageView.run, repeats).items():
        out[name]["all"] = values

    # "Where did it look?" at the biggest size, back on the cell the explorer opens at.
    from cifar_core.explain.mistakes import largest_mistake_cell

    view = views[max(views)]
    view.pick(*largest_mistake_cell(view.matrix))
    view.run()
    at = view.at
    looks = [b.key for b in at.button if b.key and b.key.startswith(f"{KEY}_look_")]
    at.button(key=looks[0]).click()
    view.run(out[view.n].setdefault("look_first", Times()), timeout=600)
    assert any("Where did it look?" in s.value for s in at.subheader), "no maps"
    assert sum(img.caption.startswith("Grad-CAM") for e in at.get("image") for img in e.proto.imgs)
    at.button(key=looks[1]).click()
    view.run(out[view.n].setdefault("look_other", Times()), timeout=600)
    out[view.n]["look_rerun"] = Times()
    for _ in range(repeats):
        view.run(out[view.n]["look_rerun"])
    return out


# --- 4. Saliency maps -------------------------------------------------------------------------


def saliency_figures(run: Run, images: np.ndarray, repeats: int) -> dict[str, list[float]]:
    """ms per image of each map for the run's saved model, loaded as ui/saliency.py does."""
    from cifar_core.explain.saliency import grad_cam, occlusion_and_largest_drop, randomized_model
    from cifar_core.look_inside import load_trained, predict_image

    out: dict[str, list[float]] = {}
    start = time.perf_counter()
    model = load_trained(run.path / MODEL_FILE)
    out["load"] = [(time.perf_counter() - start) * 1000]
    classes = [int(np.argmax(predict_image(model, image))) for image in images]
    for name, fn in (("grad_cam", grad_cam), ("occlusion", occlusion_and_largest_drop)):
        times = [
            ms(lambda i=i, fn=fn: fn(model, images[i], classes[i])) for i in range(repeats + 1)
        ]
        out[f"{name}_first"], out[name] = times[:1], times[1:]
    start = time.perf_counter()
    random = randomized_model(model, seed=0)
    out["random_build"] = [(time.perf_counter() - start) * 1000]
    for name, fn in (("grad_cam", grad_cam), ("occlusion", occlusion_and_largest_drop)):
        times = [
            ms(lambda i=i, fn=fn: fn(random, images[i], classes[i])) for i in range(repeats + 1)
        ]
        out[f"random_{name}_first"], out[f"random_{name}"] = times[:1], times[1:]
    return out


# --- 5. Exports -------------------------------------------------------------------------------


def export_figures(run: Run, data: Cifar10, repeats: int) -> dict[str, list[float]]:
    from cifar_core.export.model_card import card_html, card_markdown, model_card
    from cifar_core.export.notebook import notebook_json, script

    def card():
        return model_card(run, data_source=data.source, n_available=len(data.x_train))

    first = ms(card)
    made = card()
    assert made.figures.test is not None and made.figures.test.n == len(data.y_test)
    return {
        "model_card_first": [first],
        "model_card": repeat_ms(card, repeats),
        "card_markdown": repeat_ms(lambda: card_markdown(made), repeats),
        "card_html": repeat_ms(lambda: card_html(made), repeats),
        "card_md_click": repeat_ms(lambda: card_markdown(card()), repeats),
        "card_html_click": repeat_ms(lambda: card_html(card()), repeats),
        "notebook_json": repeat_ms(lambda: notebook_json(run.config), repeats),
        "script": repeat_ms(lambda: script(run.config), repeats),
        "_sizes": [len(card_markdown(made)), len(card_html(made))],
    }


def quiet() -> None:
    """Only errors from Streamlit (bare-mode notes) and TensorFlow (retracing notes)."""
    from streamlit import logger as streamlit_logger

    streamlit_logger.set_log_level("error")  # every Streamlit logger, present and future
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


# --- Printing ---------------------------------------------------------------------------------


def line(label: str, values: list[float], unit: str = "ms") -> None:
    """One figure; for repeated calls, the full GCs that fell inside them too."""
    text = f"{values[0]:,.1f} {unit}" if len(values) == 1 else spread(values, unit)
    pauses = getattr(values, "gc", None)
    if pauses is not None and (pauses or len(values) > 1):
        text += f"; full GCs {len(pauses)}" + (f" ({sum(pauses):,.0f} ms)" if pauses else "")
    print(f"  {label:<40} {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="repeats per figure (≥ 5)")
    args = parser.parse_args()
    repeats = max(5, args.repeats)
    os.environ["CIFAR_WARMUP"] = "0"  # no background warm-up timing itself beside the bench
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up notes
    started = time.perf_counter()
    sample = sample_dir()
    global WATCH
    WATCH = FullGCs()

    with fullsize_dir() as full_dir, tempfile.TemporaryDirectory(prefix="bench-explain-") as tmp:
        print(f"full-size folder written in {time.perf_counter() - started:.1f} s")
        # 1. Runs. The full-size set is the server's own copy (shared_data), as on the page.
        os.environ["CIFAR10_DIR"] = str(full_dir)
        full = shared_data()
        assert (len(full.x_train), len(full.x_test)) == (50_000, 10_000)
        small = load_local(sample).make_read_only()
        stores = {name: RunStore(Path(tmp) / name) for name in ("full", "sample", "shallow")}
        settings = dict(train_size=2_000, epochs=1, batch_size=128, seed=1)
        print("1. Runs (real trainings, TrainingJob)")
        run_full = train(dict(model="deep", **settings), full, stores["full"])
        run_small = train(dict(model="deep", **settings), small, stores["sample"])
        run_shallow = train(
            dict(model="shallow", **{**settings, "train_size": 500}), small, stores["shallow"]
        )
        assert len(predictions(run_full)[1]) == 10_000
        assert len(predictions(run_small)[1]) == 1_017

        print("2. Mistakes core on the saved test predictions (ms per call)")
        for run in (run_full, run_small):
            core = core_figures(run, repeats)
            cell_n, all_n = core.pop("_counts")
            n = len(predictions(run)[1])
            print(f" at {n:,} test images ({all_n:,} mistakes; biggest cell {cell_n:,} images):")
            for name, values in core.items():
                line(name, values)

        print("3. Train page with the run's results, explorer included (AppTest.run(), ms)")
        views = {
            10_000: PageView(full, full_dir, stores["full"], run_full),
            1_017: PageView(small, sample, stores["sample"], run_small),
        }
        quiet()
        for view in views.values():  # untimed: imports and one-time set-up of the process
            view.first()
        pages = page_figures(views, repeats)
        labels = {
            "first": "first view of the run",
            "warm": "warm rerun",
            "cell": "rerun after picking another cell",
            "all_first": "any × any (every mistake), first",
            "all": "any × any, warm rerun",
            "look_first": "Where did it look? first (loads model)",
            "look_other": "Where did it look? another image",
            "look_rerun": "rerun with the maps shown",
        }
        for n, page in pages.items():
            print(f" at {n:,} test images:")
            for name, values in page.items():
                line(labels[name], values)

        print("4. Saliency per image (ms), model loaded as ui/saliency.py does")
        images = small.x_test[: repeats + 1]
        for run in (run_full, run_shallow):
            print(f" {run.config['model']} ({run.run_id}):")
            for name, values in saliency_figures(run, images, repeats).items():
                line(name.replace("_", " "), values)

        print("5. Exports of the run at 10,000 test images (ms)")
        exports = export_figures(run_full, full, repeats)
        md_chars, html_chars = exports.pop("_sizes")
        for name, values in exports.items():
            line(name.replace("_", " "), values)
        print(f"  card sizes: Markdown {md_chars:,} chars, HTML {html_chars:,} chars")

    print(
        f"full GCs in the whole bench: {len(WATCH.pauses)}, longest "
        f"{max(WATCH.pauses, default=0):,.0f} ms; objects tracked now {len(gc.get_objects()):,}"
    )
    print(f"peak RSS {peak_rss_mb():.0f} MB; whole bench {time.perf_counter() - started:.0f} s")
    at_full = statistics.median(pages[10_000]["warm"])
    at_small = statistics.median(pages[1_017]["warm"])
    print(f"explorer_growth={at_full / at_small:.2f}")
    print(f"explorer_rerun_ms_at_10000={at_full:.1f}")


if __name__ == "__main__":
    main()
