"""Constants of the lesson: class names, defaults and slider ranges (no side effects)."""

from __future__ import annotations

# The ten CIFAR-10 classes, in label order (batches.meta lists them the same way).
CLASS_NAMES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
NUM_CLASSES = 10
IMAGE_SHAPE = (32, 32, 3)
FULL_TRAIN_SIZE = 50_000
FULL_TEST_SIZE = 10_000
DOWNLOAD_MB = 170

# The environment variables the app reads, and their defaults: cifar_core/settings.py.

# Model names and their labels in the UI.
MODEL_NAMES: tuple[str, ...] = ("shallow", "deep")
MODEL_LABELS = {"shallow": "Shallow (1 conv layer)", "deep": "Deep (4 conv layers)"}

# Training defaults, as in the lesson (RMSprop, lr 0.001, batch 128, validation 0.2),
# but on a subset and few epochs so that a first run finishes in about a minute on 2 CPU cores.
DEFAULT_MODEL = "deep"
DEFAULT_TRAIN_SIZE = 5_000
DEFAULT_EPOCHS = 5
DEFAULT_BATCH_SIZE = 128
DEFAULT_OPTIMIZER = "rmsprop"
DEFAULT_LEARNING_RATE = 0.001
DEFAULT_VAL_SPLIT = 0.2
DEFAULT_SEED = 42

OPTIMIZERS: tuple[str, ...] = ("rmsprop", "adam", "sgd")
OPTIMIZER_LABELS = {
    "rmsprop": "RMSprop (the lesson's)",
    "adam": "Adam",
    "sgd": "SGD (momentum 0.9)",
}

# Ranges for the Train page widgets.
TRAIN_SIZE_MIN = 100
TRAIN_SIZE_STEP = 100
EPOCHS_MIN, EPOCHS_MAX = 1, 50
BATCH_SIZES: tuple[int, ...] = (32, 64, 128, 256, 512)
LEARNING_RATES: tuple[float, ...] = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)

# How many trainings may run at the same time in one server process (2-core host → 1).
DEFAULT_MAX_TRAININGS = 1

# Limits a teacher can change (see limits.Limits). On a 2-core host the deep net trains about
# 500–800 images/s, so 200,000 image-passes (e.g. 20,000 images × 10 epochs, or the full
# 40,000 × 5) is about 5–7 minutes; a class of 30 with distinct settings then waits at most
# MAX_QUEUE runs. The wall-clock limit bounds what a budget cannot: a slow machine or a
# batch size of 32.
DEFAULT_MAX_IMAGE_EPOCHS = 200_000
DEFAULT_MAX_RUN_MINUTES = 15.0
DEFAULT_MAX_QUEUE = 8

# Training speed in float32 on a 2-core CPU (images/s, measured here) until this server has measured its
# own; used only for queue-time estimates.
EXPECTED_IMAGES_PER_SECOND = {"deep": 450.0, "shallow": 900.0}

# How often (seconds) the live view polls a running job: once a second, and less often for a
# session that joins a job many already watch — every ceil(watchers / POLL_BUDGET_PER_SECOND)
# seconds, at most MAX_POLL_SECONDS — so a class of 30 joining one run polls it about 12
# times a second in all instead of 30, and a class of 50 about 16 instead of 50.
POLL_SECONDS = 1.0
POLL_BUDGET_PER_SECOND = 5
MAX_POLL_SECONDS = 5.0

# How many test images the result grid shows.
RESULT_GRID_SIZE = 24

# Run-store budget (see runs.RunStore.prune): the oldest runs are removed beyond these. A
# finished run is about 30 MB (deep) to 70 MB (shallow: more weights) — model, weights, best
# weights, predictions — so 2,000 MB holds 30–60 of them. A run still "running" whose folder
# changed this recently is never removed, even if no live job claims it.
DEFAULT_RUNS_MAX_MB = 2000
DEFAULT_RUNS_MAX_COUNT = 100
RUNS_RUNNING_GRACE_SECONDS = 30 * 60

# Live curves at constant cost (see curve_points.BatchSeries): a run keeps at most this many
# per-batch points, merging neighbours (mean, min and max) as it grows, so a chart of a
# 62,500-batch run costs what one of 500 batches does. Even, so that pairs merge evenly.
MAX_CURVE_POINTS = 500
# Ready live charts kept for all sessions (live_view.LIVE_CHARTS): one per job and version.
LIVE_CHART_CACHE_SIZE = 32
