"""What defines a training run: TrainConfig (checked when made) and its seeded split."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from cifar_core import constants as C
from cifar_core.augmentation.params import AugmentParams
from cifar_core.models import get_architecture


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; equal configs train the same way.

    Attributes:
        model: "shallow" or "deep".
        train_size: images taken from the training split (a seeded random subset);
            `val_split` of them are held out for validation, as Keras' validation_split does.
        epochs, batch_size, optimizer, learning_rate: as in model.compile / model.fit.
        val_split: fraction of `train_size` used for validation.
        seed: seeds the subset, the shuffling, the weights and dropout.
        augment: the Augmentation lab's AugmentParams, or None for no augmentation. A dict
            (a saved config, a teacher's preset, the lab's hand-over) is checked and turned
            into AugmentParams here, so a bad setting fails where the config is made — on the
            form — never inside the training thread; settings that change nothing are None.
    """

    model: str = C.DEFAULT_MODEL
    train_size: int = C.DEFAULT_TRAIN_SIZE
    epochs: int = C.DEFAULT_EPOCHS
    batch_size: int = C.DEFAULT_BATCH_SIZE
    optimizer: str = C.DEFAULT_OPTIMIZER
    learning_rate: float = C.DEFAULT_LEARNING_RATE
    val_split: float = C.DEFAULT_VAL_SPLIT
    seed: int = C.DEFAULT_SEED
    augment: AugmentParams | None = None

    def __post_init__(self) -> None:
        get_architecture(self.model)  # raises a clear ValueError for an unknown model
        if self.optimizer not in C.OPTIMIZERS:
            raise ValueError(
                f"Unknown optimizer {self.optimizer!r}: choose one of {', '.join(C.OPTIMIZERS)}."
            )
        if self.train_size < C.TRAIN_SIZE_MIN:
            raise ValueError(f"Use at least {C.TRAIN_SIZE_MIN} training images.")
        if not C.EPOCHS_MIN <= self.epochs <= C.EPOCHS_MAX:
            raise ValueError(f"Epochs must be {C.EPOCHS_MIN}–{C.EPOCHS_MAX}, got {self.epochs}.")
        if not 1 <= self.batch_size <= 4096:
            raise ValueError(f"Batch size must be 1–4096, got {self.batch_size}.")
        if not 0 < self.learning_rate <= 1:
            raise ValueError(
                f"Learning rate must be above 0 and at most 1, got {self.learning_rate}."
            )
        if not 0 < self.val_split < 0.9:
            raise ValueError(f"Validation split must be between 0 and 0.9, got {self.val_split}.")
        augment = self.augment
        if augment is not None and not isinstance(augment, AugmentParams):
            if not isinstance(augment, Mapping):
                raise ValueError(
                    "Augmentation settings must be a mapping of setting → value, got "
                    f"{type(augment).__name__}."
                )
            augment = AugmentParams.from_dict(augment)  # a ValueError names the bad setting
        if augment is not None and augment.is_identity:
            augment = None  # trains exactly like no augmentation, so it is the same run
        object.__setattr__(self, "augment", augment)

    def to_dict(self) -> dict:
        """JSON-ready dict (what the run store saves); augmentation as its settings dict."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["augment"] = self.augment.to_dict() if self.augment is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Rebuild a config from a saved dict, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def key(self) -> str:
        """A canonical string: two configs with the same key train identically."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def split_sizes(self) -> tuple[int, int]:
        """(training images, validation images) per epoch."""
        n_val = max(1, int(round(self.train_size * self.val_split)))
        return self.train_size - n_val, n_val

    def steps_per_epoch(self) -> int:
        """Batches in one epoch: the training images in batches, the last one partial."""
        return -(-self.split_sizes()[0] // self.batch_size)


def split_indices(n_available: int, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random subset of the training split, then the last `val_split` of it held out.

    Raises:
        ValueError: when the data set has fewer images than `train_size`.
    """
    if config.train_size > n_available:
        raise ValueError(
            f"Asked for {config.train_size:,} training images but the data set has only "
            f"{n_available:,}. Choose a smaller training-set size."
        )
    order = np.random.default_rng(config.seed).permutation(n_available)[: config.train_size]
    n_train, _ = config.split_sizes()
    return np.sort(order[:n_train]), np.sort(order[n_train:])
