"""Look inside: first-layer filters and feature maps of a trained (or untrained) network.

Keras is imported inside the functions that need it, so importing this module stays cheap.
The image helpers (`filter_images`, `feature_map_images`) are plain numpy.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from cifar_core.constants import FEATURE_CHANNELS, FILTER_SCALE
from cifar_core.images import upscale_nearest
from cifar_core.models import get_architecture

if TYPE_CHECKING:  # keep `import cifar_core.look_inside` free of TensorFlow
    import keras


def conv_layer_names(name: str) -> list[str]:
    """The conv layers of "shallow" or "deep", in order (conv1, conv2, …)."""
    return [spec.name for spec in get_architecture(name) if spec.kind == "conv"]


def load_trained(path: str | os.PathLike[str]) -> keras.Model:
    """A saved run's model.keras, loaded with safe_mode (no arbitrary code from the file).

    Only files the app itself saved are ever loaded this way — never an upload.
    """
    import keras

    return keras.saving.load_model(os.fspath(path), compile=False, safe_mode=True)


def untrained_model(name: str, seed: int) -> keras.Model:
    """The network as it was before training: built with the run's seed, as the job does.

    The training job builds its model with the run's seed given to every layer, so doing the
    same here gives the very weights that run started from (no process-wide seed involved).
    """
    from cifar_core.models import build_model

    return build_model(name, seed=int(seed))


def first_layer_kernels(model: keras.Model) -> np.ndarray:
    """conv1's weights, (3, 3, 3, filters): kernel height, width, input colour, filter."""
    return np.asarray(model.get_layer("conv1").get_weights()[0])


def _to_uint8(values: np.ndarray) -> np.ndarray:
    # Stretch one filter or map to 0–255 on its own: weights are tiny and differ per filter.
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.full(values.shape, 128, dtype=np.uint8)
    return np.round((values - low) / (high - low) * 255).astype(np.uint8)


def filter_images(kernels: np.ndarray, scale: int = FILTER_SCALE) -> np.ndarray:
    """Each first-layer filter as a small RGB picture, normalised per filter and enlarged.

    Args:
        kernels: (k, k, 3, F) conv1 weights.
        scale: enlargement factor.

    Returns:
        (F, k·scale, k·scale, 3) uint8.
    """
    kernels = np.asarray(kernels, dtype=np.float32)
    if kernels.ndim != 4 or kernels.shape[2] != 3:
        raise ValueError(f"Expected conv1 weights of shape (k, k, 3, F), got {kernels.shape}.")
    return np.stack(
        [upscale_nearest(_to_uint8(kernels[..., f]), scale) for f in range(kernels.shape[-1])]
    )


def feature_maps(
    model: keras.Model, image: np.ndarray, channels: int = FEATURE_CHANNELS
) -> dict[str, np.ndarray]:
    """What each conv layer (after its ReLU) makes of one image: the first few channels.

    Args:
        model: a lesson model (layer names conv1, conv1_relu, …).
        image: (32, 32, 3) uint8.
        channels: how many channels to keep per layer.

    Returns:
        conv layer name → (H, W, channels) float32, in layer order.
    """
    image = np.asarray(image)
    if image.shape != (32, 32, 3):
        raise ValueError(f"Expected a (32, 32, 3) image, got {image.shape}.")
    wanted = {f"{name}_relu": name for name in conv_layer_names(model.name)}
    x = image[None].astype(np.float32) / 255.0  # (1, 32, 32, 3), scaled as in training
    maps: dict[str, np.ndarray] = {}
    for layer in model.layers:
        x = layer(x, training=False)
        if layer.name in wanted:
            maps[wanted[layer.name]] = np.asarray(x)[0, :, :, :channels]
        if len(maps) == len(wanted):
            break
    return maps


def feature_map_images(maps: np.ndarray, size: int = 64) -> np.ndarray:
    """Channels of one layer as greyscale pictures of about `size` pixels, each normalised.

    Args:
        maps: (H, W, C) activations.
        size: target width in pixels (each map is enlarged by a whole factor).

    Returns:
        (C, H·s, W·s) uint8, s = max(1, size // W).
    """
    maps = np.asarray(maps, dtype=np.float32)
    scale = max(1, size // maps.shape[1])
    return np.stack(
        [upscale_nearest(_to_uint8(maps[..., c]), scale) for c in range(maps.shape[-1])]
    )


def predict_image(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """Softmax probabilities (10,) of one (32, 32, 3) uint8 image."""
    x = np.asarray(image, dtype=np.float32)[None] / 255.0
    return np.asarray(model.predict_on_batch(x))[0]
