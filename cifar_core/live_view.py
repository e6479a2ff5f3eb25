"""Live view: ready Vega-Lite charts of training curves, built once per job version for everyone.

A class of 30 watching one job polls it 30 times a second in all. The monitor's curve changes
far less often (`Snapshot.chart_version`), so the charts are built once per version into a
small shared cache (`LIVE_CHARTS`) and every poll re-emits the same ready spec.

A ready spec is a Vega-Lite dict whose data sit in `datasets` as Arrow IPC bytes, exactly what
`st.altair_chart` makes of a DataFrame-backed chart on every call (Altair validation,
`to_dict`, Arrow serialisation); emitted with `st.vega_lite_chart(spec=...)`, Streamlit only
copies the bytes into the message. The chart's structure (a "template", validated by Altair
once per metric and shape) is kept apart from its data, and the data always go under the same
dataset name, so the spec text stays the same while a run trains: the browser then updates
the chart's data in place instead of redrawing it.

No Streamlit here: the pages emit the specs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import lru_cache
from typing import TypeVar

import altair as alt
import pandas as pd
import pyarrow as pa

from cifar_core import constants as C
from cifar_core.charts import curve_frame, training_curve_chart
from cifar_core.comparison.analysis import batch_rows, curve_rows
from cifar_core.comparison.charts import comparison_curves_chart
from cifar_core.comparison.charts import curve_frame as comparison_frame
from cifar_core.curve_points import downsample_batches

METRICS: tuple[str, ...] = ("loss", "accuracy")
# Fixed dataset names: new data under an unchanged spec update the browser's chart in place.
TRAIN_DATASET = "training_curve"
COMPARISON_DATASET = "comparison_curves"

T = TypeVar("T")


class ChartCache:
    """A thread-safe LRU cache that builds each key once, however many sessions ask at once.

    The first caller of a missing key builds it (outside the cache lock, so other keys are not
    held up); callers of the same key meanwhile wait for that build instead of repeating it.

    Args:
        max_entries: entries kept; the least recently used goes first.
    """

    def __init__(self, max_entries: int = C.LIVE_CHART_CACHE_SIZE) -> None:
        self.max_entries = max(1, max_entries)
        self.builds = 0  # how many times a value was built (tests and benches read it)
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Forget every entry (and reset the build count)."""
        with self._lock:
            self._entries.clear()
            self.builds = 0

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value for `key`, built with `build()` if it is not cached yet.

        Raises:
            Whatever `build` raises (nothing is cached then; the next caller tries again).
        """
        while True:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]  # type: ignore[return-value]
                gate = self._building.get(key)
                mine = gate is None
                if mine:
                    gate = self._building[key] = threading.Lock()
                    gate.acquire()
            if not mine:
                with gate:  # wait for the builder; then look again (it may have failed)
                    continue
            try:
                value = build()
                with self._lock:
                    self.builds += 1
                    self._entries[key] = value
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
                return value
            finally:
                with self._lock:
                    del self._building[key]
                gate.release()


# Shared by every session of this server process: one entry per job, version and chart shape.
LIVE_CHARTS = ChartCache(C.LIVE_CHART_CACHE_SIZE)


def arrow_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as Arrow IPC stream bytes, serialised the way Streamlit does for charts."""
    table = pa.Table.from_pandas(frame)
    sink = pa.BufferOutputStream()
    with pa.RecordBatchStreamWriter(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def template_spec(chart: alt.TopLevelMixin) -> dict:
    """An Altair chart over named data as a Vega-Lite dict, without Altair's default theme.

    Streamlit renders Altair charts with the theme "none" (its own theme styles them); the
    default theme only adds a 300 px view size, dropped here the same way. The chart's own
    config (charts.readable: fonts for the projector) is kept in the spec. The chart's data
    must be alt.NamedData: no global data transformer is involved, so this is thread-safe.
    Not validated against the Vega-Lite schema (that costs more than the rest of a build);
    tests/test_live_view.py checks each template against Altair's validated output.
    """
    spec = chart.to_dict(validate=False)
    if chart.config is alt.Undefined:
        spec.pop("config", None)
    else:  # the chart's own config (charts.readable's fonts) stays; the theme's view size goes
        config = {k: v for k, v in spec["config"].items() if k != "view" or "view" in _own(chart)}
        spec["config"] = config
    return spec


def _own(chart: alt.TopLevelMixin) -> dict:
    return chart.config.to_dict(validate=False)


def ready_spec(template: Mapping, dataset: str, frame: pd.DataFrame) -> dict:
    """`template` with `frame` attached as the Arrow dataset it names; for st.vega_lite_chart.

    Streamlit copies a bytes dataset into its message as it is (no conversion), and reads
    the spec without changing it, so one ready spec can be emitted by many sessions.
    """
    return {**template, "datasets": {dataset: arrow_bytes(frame)}}


@lru_cache(maxsize=8)
def _training_base(metric: str) -> dict:
    chart = training_curve_chart(alt.NamedData(name=TRAIN_DATASET), metric, None)
    return template_spec(chart)


@lru_cache(maxsize=128)
def _training_template(metric: str, total_epochs: int | None) -> dict:
    """The Train page's curve template; the x axis of a run of `total_epochs` is patched in,
    so Altair builds one template per metric, not one per run length."""
    base = _training_base(metric)
    if not total_epochs:
        return base
    layers = []
    for layer in base["layer"]:
        x = {**layer["encoding"]["x"], "scale": {"domain": [0, total_epochs]}}
        layers.append({**layer, "encoding": {**layer["encoding"], "x": x}})
    return {**base, "layer": layers}


@lru_cache(maxsize=32)
def _comparison_template(metric: str, labels: tuple[str, ...], x_field: str) -> dict:
    chart = comparison_curves_chart(
        alt.NamedData(name=COMPARISON_DATASET), metric, labels, x_field, batches=True
    )
    return template_spec(chart)


def warm_templates(labels: Sequence[str] = C.MODEL_NAMES) -> None:
    """Build the live charts' templates now (the first poll of a server then finds them).

    Args:
        labels: the run labels of the live comparison (the Shallow vs deep page's).
    """
    for metric in METRICS:
        _training_base(metric)
        _comparison_template(metric, tuple(labels), "epoch")


# Built in the background as the server imports this module (about 0.1 s of Altair on 2 cores),
# so that not even the first poll of the first job waits for them.
WARMING = threading.Thread(target=warm_templates, name="live-view-templates", daemon=True)
WARMING.start()


def bounded(batches: Sequence[dict], max_points: int = C.MAX_CURVE_POINTS) -> Sequence[dict]:
    """Batch points within the cap: a monitor's series as it is, an old full list downsampled."""
    return batches if len(batches) <= max_points else downsample_batches(batches, max_points)


def curve_specs(
    batches: Sequence[dict],
    epochs: Sequence[dict],
    steps_per_epoch: int,
    total_epochs: int | None = None,
    *,
    cache_key: Hashable | None = None,
) -> dict[str, dict]:
    """Ready specs of the Train page's loss and accuracy curves (charts.training_curve).

    Args:
        batches: bounded batch points (Snapshot.batches) or a saved run's full per-batch list
            (downsampled here, so any run length costs the same to chart).
        epochs: per-epoch logs.
        steps_per_epoch: batches per epoch (places batch points on the epoch axis).
        total_epochs: fixes the x axis to the whole run; None: fit the data.
        cache_key: e.g. Snapshot.chart_key; given, the specs are built once per key and
            shared through LIVE_CHARTS (so pass a key only for data that it fully identifies).

    Returns:
        {"loss": spec, "accuracy": spec}, for st.vega_lite_chart(spec=...). Read-only.
    """
    if cache_key is not None:
        key = ("training", cache_key, steps_per_epoch, total_epochs)
        return LIVE_CHARTS.get(
            key, lambda: curve_specs(batches, epochs, steps_per_epoch, total_epochs)
        )
    points = bounded(batches)
    return {
        metric: ready_spec(
            _training_template(metric, total_epochs),
            TRAIN_DATASET,
            curve_frame(points, epochs, metric, steps_per_epoch),
        )
        for metric in METRICS
    }


def comparison_specs(
    runs: Mapping[str, tuple[Sequence[dict], Sequence[dict], int]],
    *,
    x_field: str = "epoch",
    cache_key: Hashable | None = None,
) -> dict[str, dict]:
    """Ready specs of the live comparison curves (comparison.charts.comparison_curves).

    Args:
        runs: run label → (batch points, epoch logs, steps per epoch), in legend order.
        x_field: "epoch" or "seconds".
        cache_key: e.g. the runs' Snapshot.chart_key values as a tuple; given, the specs are
            built once per key and shared through LIVE_CHARTS.

    Returns:
        {"loss": spec, "accuracy": spec}, for st.vega_lite_chart(spec=...). Read-only.
    """
    labels = tuple(runs)
    if cache_key is not None:
        key = ("comparison", cache_key, labels, tuple(r[2] for r in runs.values()), x_field)
        return LIVE_CHARTS.get(key, lambda: comparison_specs(runs, x_field=x_field))
    rows = curve_rows({label: epochs for label, (_, epochs, _) in runs.items()})
    for label, (batches, _, steps) in runs.items():
        rows += batch_rows(label, bounded(batches), steps)
    frame = comparison_frame(rows)
    return {
        metric: ready_spec(_comparison_template(metric, labels, x_field), COMPARISON_DATASET, frame)
        for metric in METRICS
    }


def saved_run_specs(
    run_key: Hashable, result: Mapping, class_names: Sequence[str]
) -> dict[str, dict]:
    """The per-class bars of a saved run, built once for every session.

    When a shared run ends, every session watching it reruns its whole page in the same
    second; building an Altair chart per session (about 30–60 ms, mostly Altair's validation)
    was most of that surge. A saved run's results do not change, so the spec is built once per
    `run_key` (the run id and its last status update) and emitted as it is. (The run's
    clickable confusion matrix is cached the same way by ui.explain.confusion_chart.)

    Returns:
        {"per_class": spec}: a Vega-Lite dict with its data inline.
    """
    from cifar_core.charts import per_class_bars

    def build() -> dict[str, dict]:
        return {"per_class": per_class_bars(result["per_class_accuracy"], class_names).to_dict()}

    return LIVE_CHARTS.get(("saved-run", run_key), build)
