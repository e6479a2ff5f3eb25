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

# Environment variables the app reads.
ENV_CIFAR10_DIR = "CIFAR10_DIR"
ENV_RUNS_DIR = "CIFAR_RUNS_DIR"
ENV_MAX_TRAININGS = "CIFAR_MAX_TRAININGS"
ENV_PRESET = "CIFAR_PRESET"  # the teacher's default Train settings (JSON or a JSON file)
DEFAULT_RUNS_DIR = "runs"

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

# Training speed on a 2-core CPU (images/s, measured here) until this server has measured its
# own; used only for queue-time estimates.
EXPECTED_IMAGES_PER_SECOND = {"deep": 450.0, "shallow": 900.0}

# How often (seconds) the live view polls a running job.
POLL_SECONDS = 1.0

# How many test images the result grid shows.
RESULT_GRID_SIZE = 24
