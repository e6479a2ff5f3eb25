"""Augmentation inside the training pipeline: the TensorFlow twin of the numpy warp.

The transforms are drawn and turned into affine coefficients by the same functions as the
preview's (looked up on the package at call time, so a test that patches the shared formula
reaches both); only the warp itself is TensorFlow's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

import cifar_core.augmentation as A
from cifar_core.augmentation.params import AugmentParams, _check_fill_mode

if TYPE_CHECKING:  # TensorFlow costs ~2.5 s to import: the functions that need it import it.
    import tensorflow as tf


# ---------------------------------------------------------------------------------------------
# TensorFlow: the same math in-graph, for training
# ---------------------------------------------------------------------------------------------


def _apply_tf(images: tf.Tensor, t: A._Transforms, fill_mode: str, fill_value: float) -> tf.Tensor:
    """The TensorFlow twin of _apply_numpy for (B, H, W, C) float32 images in [0, 1]."""
    import tensorflow as tf

    _check_fill_mode(fill_mode)
    height, width = int(images.shape[1]), int(images.shape[2])
    a0, a1, a2, b0, b1, b2 = (
        tf.cast(c, tf.float32) for c in A._affine_coefficients(t, height, width, tf.cos, tf.sin)
    )
    zeros = tf.zeros_like(a0)
    # The 8 projective parameters [a0, a1, a2, b0, b1, b2, c0, c1]; c0 = c1 = 0 for an affine map.
    matrices = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)  # (B, 8)
    # Fill modes are spelt in capitals here; "REFLECT" is scipy's 'reflect' (d c b a | a b c d),
    # the same as IDG's and keras.ops.image.affine_transform's "reflect".
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=matrices,
        # Static, so a batch keeps its known height and width through tf.data (Flatten needs
        # them; Keras before 3.11 failed on augmented batches without).
        output_shape=tf.constant([height, width], tf.int32),
        fill_value=tf.constant(fill_value, tf.float32),
        interpolation="BILINEAR",
        fill_mode=fill_mode.upper(),
    )
    flip_h = tf.reshape(tf.cast(t.flip_horizontal, tf.bool), (-1, 1, 1, 1))
    flip_v = tf.reshape(tf.cast(t.flip_vertical, tf.bool), (-1, 1, 1, 1))
    out = tf.where(flip_h, tf.reverse(out, axis=[2]), out)
    out = tf.where(flip_v, tf.reverse(out, axis=[1]), out)
    brightness = tf.reshape(tf.cast(t.brightness, tf.float32), (-1, 1, 1, 1))
    return tf.clip_by_value(out * brightness, 0.0, 1.0)


def _check_tf_batch(images: tf.Tensor) -> None:
    if images.shape.rank != 4 or images.shape[1] is None or images.shape[2] is None:
        raise ValueError(
            f"Expected a batch of shape (B, H, W, C) with known H and W, got {images.shape}"
        )


def apply_transforms_tf(
    batch: np.ndarray | tf.Tensor,
    transforms: Sequence[A.Transform],
    fill_mode: str = "nearest",
    cval: float = 0.0,
) -> tf.Tensor:
    """Applies given transforms with the training pipeline's TensorFlow code, image by image.

    The deterministic twin of apply_transform: the same transform gives the same pixels.

    Args:
        batch (np.ndarray | tf.Tensor): (B, H, W, C) float images in [0, 1].
        transforms (Sequence[Transform]): One transform per image.
        fill_mode (str): "constant", "nearest", "reflect" or "wrap".
        cval (float): Fill value for "constant", a 0-255 pixel value (divided by 255 here).

    Returns:
        tf.Tensor: (B, H, W, C) float32 in [0, 1].

    Raises:
        ValueError: The number of transforms differs from the batch size, or a bad fill_mode.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(batch, dtype=tf.float32)
    _check_tf_batch(images)
    if len(transforms) != images.shape[0]:
        raise ValueError(f"Got {len(transforms)} transforms for {images.shape[0]} images")
    return _apply_tf(images, A._stack(transforms), fill_mode, float(cval) / 255.0)


def make_tf_augment(params: AugmentParams, seed: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """Builds the training-time augmentation: random transforms drawn and applied in-graph.

    Use it after batching: ``ds.batch(128).map(lambda x, y: (augment(x), y))``. Draws come from
    a tf.random.Generator seeded with seed, so a pipeline mapped in order repeats itself; with
    num_parallel_calls the order in which batches take draws may vary.

    Fill-mode names: IDG, scipy, tf.raw_ops.ImageProjectiveTransformV3 (in capitals) and
    keras.ops.image.affine_transform all mean d c b a | a b c d by "reflect" (scipy's "mirror"
    is d c b | a b c d; Keras on the torch backend turns "reflect" into "mirror"). Defaults
    differ: IDG "nearest", keras.ops.image.affine_transform "constant", the Random* layers
    "reflect" - so this module always passes params.fill_mode explicitly.

    Args:
        params (AugmentParams): The augmentation settings (cval on the 0-255 scale).
        seed (int): Seed of the in-graph random generator.

    Returns:
        Callable[[tf.Tensor], tf.Tensor]: Maps a (B, H, W, C) float32 batch in [0, 1] to its
        augmented version, same shape.
    """
    import tensorflow as tf

    if params.is_identity:
        # Nothing to draw: hand the batch back untouched (no resampling, no cost).
        return lambda batch: tf.convert_to_tensor(batch, dtype=tf.float32)

    generator = tf.random.Generator.from_seed(seed)
    fill_value = params.cval / 255.0  # the pipeline's pixels are in [0, 1]

    def augment(batch: tf.Tensor) -> tf.Tensor:
        images = tf.convert_to_tensor(batch, dtype=tf.float32)  # (B, H, W, C)
        _check_tf_batch(images)
        height, width = int(images.shape[1]), int(images.shape[2])
        draws = generator.uniform((tf.shape(images)[0], A._NUM_DRAWS), dtype=tf.float32)
        columns = tf.unstack(draws, num=A._NUM_DRAWS, axis=1)  # 9 × (B,)
        transforms = A._scale_draws(params, columns, height, width)
        return _apply_tf(images, transforms, params.fill_mode, fill_value)

    return augment
