"""Notebook cells: the text of each lesson stage of the take-home notebook, as templates.

`notebook` puts these in order and writes them as a Jupyter notebook or a plain script. The
generated code imports only numpy and Keras 3: nothing from this app.
"""

from __future__ import annotations

from dataclasses import dataclass

from cifar_core.augmentation.code import to_code
from cifar_core.constants import CLASS_NAMES, FULL_TEST_SIZE, FULL_TRAIN_SIZE
from cifar_core.constants import NOTEBOOK_PREDICT_BATCH as PREDICT_BATCH
from cifar_core.models import count_params, get_architecture
from cifar_core.training.config import TrainConfig

# The Keras call that makes each optimizer of the app (as training.job.make_optimizer does).
OPTIMIZER_CODE = {
    "rmsprop": "keras.optimizers.RMSprop(learning_rate=LEARNING_RATE)",
    "adam": "keras.optimizers.Adam(learning_rate=LEARNING_RATE)",
    "sgd": "keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=0.9)",
}


@dataclass(frozen=True)
class Cell:
    """One notebook cell.

    Attributes:
        kind: "markdown" or "code".
        source: the cell's text.
        tag: the lesson stage (intro, setup, data, split, augment, model, train, evaluate,
            save), kept in the cell's metadata so a reader or a test can find a stage.
    """

    kind: str
    source: str
    tag: str


def _md(tag: str, *paragraphs: str) -> Cell:
    return Cell("markdown", "\n\n".join(paragraphs), tag)


def _code(tag: str, source: str) -> Cell:
    return Cell("code", source.strip("\n") + "\n", tag)


def intro(cfg: TrainConfig) -> list[Cell]:
    """The title, the run's settings and what "reproduce" means here."""
    augment = "on (see *Augmentation*)" if cfg.augment is not None else "off"
    return [
        _md(
            "intro",
            f"# CIFAR-10 with Keras 3: the {cfg.model} CNN, as trained in the app",
            "This notebook trains the network of one run of the CIFAR-10 lesson app again, with "
            "plain Keras 3 and numpy, outside the app. Settings of the run: "
            f"model **{cfg.model}**, **{cfg.train_size:,}** training images "
            f"({cfg.val_split:g} of them held out for validation), **{cfg.epochs}** "
            f"epoch{'' if cfg.epochs == 1 else 's'}, "
            f"batch size **{cfg.batch_size}**, optimizer **{cfg.optimizer}** with learning rate "
            f"**{cfg.learning_rate:g}**, seed **{cfg.seed}**, augmentation {augment}.",
            "**It reproduces the settings, not bit-for-bit the same numbers.** The same: the "
            "images picked for training and validation (the same seeded indices as the app), "
            "the architecture and its initial weights (the same per-layer seeds), the "
            "optimizer, learning rate, batch size, epochs and loss. Different: the order in "
            "which batches are shuffled and the random augmentation draws (Keras' random "
            "generator here, the app's own seeded pipeline there), the augmentation code "
            "(Keras preprocessing layers here, the app's warp there), the number format "
            "(float32 here; the app may train in mixed bfloat16 on hardware that supports it) "
            "and the order of floating-point sums in parallel threads. Expect a test accuracy "
            "close to the app's, not equal to it.",
            "Run it in Jupyter, or as a script: `python` on the `.py` file downloaded with it "
            "(the same cells). Needs `keras` (3.x) with TensorFlow as its backend, and numpy.",
        )
    ]


def setup(cfg: TrainConfig) -> list[Cell]:
    """Imports, the run's settings as constants, and the seed."""
    names = ", ".join(f'"{name}"' for name in CLASS_NAMES)
    return [
        _md(
            "setup",
            "## Setup",
            "The run's settings as constants, so that you can change one and train again. "
            "`keras.utils.set_random_seed` seeds Python, numpy and Keras in one call: the "
            "shuffling and the augmentation draws repeat when you rerun this notebook.",
        ),
        _code(
            "setup",
            f"""
import os
import pickle
from pathlib import Path

import keras
import numpy as np
from keras import layers

MODEL = "{cfg.model}"
SEED = {cfg.seed}
TRAIN_SIZE = {cfg.train_size}  # images drawn from the training split
VAL_SPLIT = {cfg.val_split!r}  # the share of them held out for validation
EPOCHS = {cfg.epochs}
BATCH_SIZE = {cfg.batch_size}
LEARNING_RATE = {cfg.learning_rate!r}
CLASS_NAMES = [{names}]
NUM_CLASSES = len(CLASS_NAMES)

keras.utils.set_random_seed(SEED)
""",
        ),
    ]


def data() -> list[Cell]:
    """Load CIFAR-10: the user's own batches folder if CIFAR10_DIR is set, else Keras' download."""
    return [
        _md(
            "data",
            "## Data",
            "`keras.datasets.cifar10.load_data()` downloads CIFAR-10 once (about 170 MB: "
            f"{FULL_TRAIN_SIZE:,} training and {FULL_TEST_SIZE:,} test images of 32×32 pixels, "
            "https://www.cs.toronto.edu/~kriz/cifar.html) and caches it. Offline, point the "
            "environment variable `CIFAR10_DIR` at your own unpacked copy of the official "
            '"python version" (the folder `cifar-10-batches-py`, or the folder holding it): '
            "the small loader below reads its batches in the same order as Keras, whatever "
            "number of images each holds. It unpickles them, so use it only on files you "
            "trust, such as that download.",
        ),
        _code(
            "data",
            """
def load_cifar10_folder(folder):
    \"\"\"CIFAR-10 from the official python batches: ((x_train, y_train), (x_test, y_test)).\"\"\"
    folder = Path(folder).expanduser()
    if not (folder / "test_batch").is_file() and (folder / "cifar-10-batches-py").is_dir():
        folder = folder / "cifar-10-batches-py"

    def read(name):
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")  # bytes keys: b"data", b"labels"
        rows = np.asarray(batch[b"data"], dtype=np.uint8)  # (N, 3072): 1,024 red, green, blue
        images = rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)
        return images, np.asarray(batch[b"labels"], dtype=np.int64)

    train = [read(f"data_batch_{i}") for i in range(1, 6)]
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    return (x_train, y_train), read("test_batch")


if os.environ.get("CIFAR10_DIR"):
    (x_train, y_train), (x_test, y_test) = load_cifar10_folder(os.environ["CIFAR10_DIR"])
else:
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    y_train, y_test = y_train.reshape(-1), y_test.reshape(-1)  # (N, 1) -> (N,)
print(f"{len(x_train):,} training and {len(x_test):,} test images, shape {x_train.shape[1:]}")
""",
        ),
    ]


def split() -> list[Cell]:
    """The app's seeded subset and validation split, in plain numpy, and the scaling to [0, 1]."""
    return [
        _md(
            "split",
            "### The same images as the app",
            "The app takes `TRAIN_SIZE` images at random from the training split, with "
            "numpy's generator seeded by `SEED`, and holds out the last `VAL_SPLIT` of them "
            "for validation. The same lines here pick the same images (on the same data "
            "set). Pixels go from 0–255 to 0–1, as in the lesson, and labels become one-hot "
            "vectors for the categorical cross-entropy loss.",
        ),
        _code(
            "split",
            """
if TRAIN_SIZE > len(x_train):
    raise ValueError(f"TRAIN_SIZE is {TRAIN_SIZE:,} but the data set has {len(x_train):,} images")
order = np.random.default_rng(SEED).permutation(len(x_train))[:TRAIN_SIZE]
n_val = max(1, int(round(TRAIN_SIZE * VAL_SPLIT)))
train_idx, val_idx = np.sort(order[: TRAIN_SIZE - n_val]), np.sort(order[TRAIN_SIZE - n_val :])

x_fit = x_train[train_idx].astype("float32") / 255.0  # (n_train, 32, 32, 3) in [0, 1]
x_val = x_train[val_idx].astype("float32") / 255.0
y_fit = keras.utils.to_categorical(y_train[train_idx], NUM_CLASSES)  # (n_train, 10) one-hot
y_val = keras.utils.to_categorical(y_train[val_idx], NUM_CLASSES)
print(f"training on {len(train_idx):,} images, validating on {len(val_idx):,}")
""",
        ),
    ]


def augmentation(cfg: TrainConfig, notes: list[str]) -> list[Cell]:
    """Keras preprocessing layers for the run's augmentation, and what differs from the app's."""
    if cfg.augment is None:
        return [
            _md("augment", "## Augmentation", "This run trained without augmentation."),
            _code("augment", "augment = None  # no augmentation in this run"),
        ]
    bullets = "\n".join(f"- {note}" for note in notes)
    return [
        _md(
            "augment",
            "## Augmentation",
            "Random changes to each training picture, so the network sees a slightly "
            "different version every epoch and cannot memorise the pixels. The app warps the "
            "pictures with ImageDataGenerator's formulas; here Keras 3 preprocessing layers do "
            "it. They sit at the front of the model and only act while training (`fit`), "
            "never in `predict` or `evaluate`, as the app augments only training batches.",
            "What matches and what does not (“this lab” is the app's Augmentation lab, whose "
            "warp the training used):",
            bullets,
        ),
        _code("augment", to_code(cfg.augment)["keras3"]),
    ]


def model(cfg: TrainConfig, layer_lines: list[str], seed_count: int) -> list[Cell]:
    """The network as a `make_model` factory, one Keras layer per line of the app's table."""
    notes = [spec.note for spec in get_architecture(cfg.model) if spec.note]
    params = count_params(cfg.model)
    body = "\n".join(f"            {line}" for line in layer_lines)
    return [
        _md(
            "model",
            "## Model",
            f"The app's **{cfg.model}** network: {params:,} parameters. Each layer gets its "
            "initial weights (and each dropout layer its masks) from its own seed, derived "
            "from `SEED` as the app derives them, so training starts from the app's initial "
            "weights. The comments give each output shape, B being the batch size.",
            *notes,
        ),
        _code(
            "model",
            f"""
# One seed per layer of the network, derived from SEED as the app does.
LAYER_SEEDS = [int(s) % 2**31 for s in np.random.SeedSequence(SEED).generate_state({seed_count})]


def glorot(i):
    \"\"\"Keras' default kernel initializer, drawn from layer seed i.\"\"\"
    return keras.initializers.GlorotUniform(seed=LAYER_SEEDS[i])


def make_model(input_shape=(32, 32, 3), num_classes=NUM_CLASSES, augment=None):
    \"\"\"The lesson's {cfg.model} CNN; `augment` (training only) goes in front of it.\"\"\"
    front = [augment] if augment is not None else []
    return keras.Sequential(
        [
            keras.Input(shape=input_shape, name="image"),
            *front,
{body}
        ],
        name=MODEL,
    )


model = make_model(augment=augment)
model.summary()
""",
        ),
    ]


def train(cfg: TrainConfig) -> list[Cell]:
    """Compile with the run's optimizer and fit with validation data."""
    return [
        _md(
            "train",
            "## Train",
            "The run's optimizer and learning rate, categorical cross-entropy as the loss, "
            "accuracy as the metric. `validation_data` scores the held-out images after "
            "every epoch: a validation accuracy that falls while the training accuracy rises "
            "is overfitting.",
        ),
        _code(
            "train",
            f"""
model.compile(
    optimizer={OPTIMIZER_CODE[cfg.optimizer]},
    loss="categorical_crossentropy",
    metrics=["accuracy"],
)
history = model.fit(
    x_fit,
    y_fit,
    batch_size=BATCH_SIZE,
    epochs=EPOCHS,
    validation_data=(x_val, y_val),
    shuffle=True,
)
""",
        ),
    ]


def evaluate() -> list[Cell]:
    """Test accuracy and per-class accuracy on the test split."""
    return [
        _md(
            "evaluate",
            "## Evaluate",
            "Until this cell the notebook has only loaded and counted the test images: it "
            "did not train on them, and did not pick an epoch by them (it keeps the model as "
            "it is after the last epoch). The network's accuracy on them estimates how it does "
            "on new pictures of the same kind. It is no longer an unbiased estimate if these "
            "settings were chosen by comparing runs' test accuracies, as the app's *Shallow vs "
            "deep* page compares them: the best of several runs on the same test images tends "
            "to look better than it is. The accuracy of each class shows which ones it "
            "confuses.",
        ),
        _code(
            "evaluate",
            f"""
probs = model.predict(x_test.astype("float32") / 255.0, batch_size={PREDICT_BATCH}, verbose=0)
predicted = probs.argmax(axis=1)
test_accuracy = float((predicted == y_test).mean())
print(f"Test accuracy: {{test_accuracy:.4f}} on {{len(y_test):,}} test images")
for label, name in enumerate(CLASS_NAMES):
    mine = y_test == label
    if mine.any():
        print(f"  {{name:>10}}: {{(predicted[mine] == label).mean():.3f}} ({{mine.sum()}} images)")
""",
        ),
    ]


def save() -> list[Cell]:
    """Save the trained model as one .keras file."""
    return [
        _md(
            "save",
            "## Save",
            "One `.keras` file holds the architecture, the weights and the optimizer's state: "
            '`keras.models.load_model("model.keras")` brings it back, to predict or to train on.',
        ),
        _code(
            "save",
            """
model.save("model.keras")
print("saved model.keras")
""",
        ),
    ]
