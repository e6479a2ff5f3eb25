"""Callbacks: live progress into a TrainingMonitor, and the best validation epoch's weights."""

from __future__ import annotations

import time

import keras

from cifar_core.training.monitor import TrainingMonitor


class LiveMonitorCallback(keras.callbacks.Callback):
    """Writes every batch and epoch into a monitor and honours its Stop button.

    The monitor is injected, so this callback knows nothing about who reads it.

    Args:
        monitor: where to write.
        batch_size: images per full batch.
        n_train: training images per epoch (the last batch may be smaller).
        time_limit_s: wall-clock seconds of training after which the run stops as if Stop
            had been pressed (None: no limit); `time_limited` tells afterwards.
    """

    def __init__(
        self,
        monitor: TrainingMonitor,
        batch_size: int,
        n_train: int,
        time_limit_s: float | None = None,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.batch_size = batch_size
        self.n_train = n_train
        self.time_limit_s = time_limit_s
        self.time_limited = False
        self._epoch = 0
        self._start = time.monotonic()
        # For the run's phases (perf_counter seconds): when the first batch ended, and the
        # time spent in validation passes (Keras calls on_test_* for them inside fit).
        self.first_batch_end: float | None = None
        self.validation_seconds = 0.0
        self._test_start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.monotonic()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._test_start = time.perf_counter()

    def on_test_end(self, logs: dict | None = None) -> None:
        self.validation_seconds += time.perf_counter() - self._test_start

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.first_batch_end is None:
            self.first_batch_end = time.perf_counter()
        # Keras gives running means since the start of the epoch, not the batch's own values.
        size = min(self.batch_size, self.n_train - batch * self.batch_size)
        self.monitor.add_batch(self._epoch, batch, logs or {}, size)
        over = self.time_limit_s is not None and time.monotonic() - self._start > self.time_limit_s
        if over and not self.monitor.stop_requested:
            self.time_limited = True
            self.monitor.request_stop()  # also: nobody joins a run that is stopping
        if self.monitor.stop_requested:
            # Keras checks this flag after each batch: the current batch finishes, then
            # validation runs once and fit() returns with everything learned so far.
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.monitor.add_epoch(epoch, logs or {})


class BestWeights(keras.callbacks.Callback):
    """Keeps, in memory, the weights of the epoch with the best validation accuracy.

    What the lesson's `ModelCheckpoint(save_best_only=True)` keeps, without writing a file at
    every better epoch on the training clock (~70-100 ms for the deep net's 6.7 MB each time):
    the job writes the file once, when it saves the run. "Better" is ModelCheckpoint's rule for
    an accuracy: strictly greater; an epoch with no validation accuracy (or NaN) keeps the old.

    Attributes:
        weights: the best epoch's `model.get_weights()` (numpy copies), None before one.
        epoch: that epoch, 1-based (None before one).
        accuracy: its validation accuracy.
    """

    def __init__(self, monitor: str = "val_accuracy") -> None:
        super().__init__()
        self.monitor = monitor
        self.weights: list | None = None
        self.epoch: int | None = None
        self.accuracy = float("-inf")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        value = float(value)
        if value > self.accuracy:  # False for NaN, as ModelCheckpoint's np.greater
            self.accuracy, self.epoch = value, epoch + 1
            self.weights = self.model.get_weights()
