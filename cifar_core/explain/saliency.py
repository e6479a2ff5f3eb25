"""Saliency: where did the network look? Grad-CAM and occlusion maps of one image.

Keras and TensorFlow are imported inside the functions that run a model, so importing this
module stays cheap. The colour map, the overlay and the rank correlation that show and
compare the maps are in explain.heatmap (plain numpy).
Models take float32 pixels divided by 255, as in training (cifar_core/models.py); images are
uint8 (32, 32, 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cifar_core.constants import OCCLUSION_BATCH, OCCLUSION_PATCH, OCCLUSION_STRIDE
from cifar_core.explain.heatmap import check_image, resize_bilinear, unit_range
from cifar_core.models import layer_seeds

if TYPE_CHECKING:  # keep `import cifar_core.explain.saliency` free of TensorFlow
    import keras


SOURCES: tuple[dict[str, str], ...] = (
    {
        "authors": "Ramprasaath R. Selvaraju, Michael Cogswell, Abhishek Das, "
        "Ramakrishna Vedantam, Devi Parikh, Dhruv Batra",
        "title": "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization",
        "venue": "IEEE International Conference on Computer Vision (ICCV)",
        "year": "2017",
        "url": "https://arxiv.org/abs/1610.02391",
    },
    {
        "authors": "Matthew D. Zeiler, Rob Fergus",
        "title": "Visualizing and Understanding Convolutional Networks",
        "venue": "European Conference on Computer Vision (ECCV)",
        "year": "2014",
        "url": "https://arxiv.org/abs/1311.2901",
    },
    {
        "authors": "Julius Adebayo, Justin Gilmer, Michael Muelly, Ian Goodfellow, Moritz Hardt, "
        "Been Kim",
        "title": "Sanity Checks for Saliency Maps",
        "venue": "Advances in Neural Information Processing Systems (NeurIPS)",
        "year": "2018",
        "url": "https://arxiv.org/abs/1810.03292",
    },
)

SALIENCY_NOTE = (
    "A saliency map shows which parts of this one image the network's score for a class was "
    "sensitive to (Grad-CAM: Selvaraju et al., ICCV 2017; occlusion: Zeiler & Fergus, ECCV "
    "2014), not what the network “understands”. It can miss a shortcut: a cue spread over the "
    "whole picture, such as a background colour, need not stand out as one bright area. "
    "Adebayo et al. (“Sanity Checks for Saliency Maps”, NeurIPS 2018) found that some saliency "
    "methods draw much the same map for a network with random weights, so a map is evidence "
    "about what was learned only where it differs from the random network's map — which is "
    "why this page can show both."
)


# --- Inputs -----------------------------------------------------------------------------------


def _scaled(images: np.ndarray) -> np.ndarray:
    # Pixels as the network saw them in training: float32 in [0, 1].
    return np.asarray(images, dtype=np.float32) / 255.0


def _check_class(model: keras.Model, class_index: int) -> int:
    classes = int(model.output_shape[-1])
    if isinstance(class_index, bool) or not 0 <= int(class_index) < classes:
        raise ValueError(
            f"class_index {class_index!r} is out of range: classes are 0…{classes - 1}."
        )
    return int(class_index)


# --- Grad-CAM ---------------------------------------------------------------------------------


def last_conv_layer(model: keras.Model) -> str:
    """The name of the model's last Conv2D layer (found by type, not by name)."""
    import keras

    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.Conv2D):
            return layer.name
    raise ValueError(f"Model {model.name!r} has no Conv2D layer: Grad-CAM needs one.")


def _is(function: object, name: str) -> bool:
    return getattr(function, "__name__", None) == name


def _feature_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    # The lesson's conv layers are linear and a separate Activation("relu") follows each
    # (conv4 → conv4_relu). Grad-CAM's feature maps are the rectified activations, as in
    # keras-io's Grad-CAM example (block14_sepconv2_act), so that ReLU's output is used.
    import keras

    layer = model.get_layer(name)
    position = model.layers.index(layer)
    after = model.layers[position + 1] if position + 1 < len(model.layers) else None
    if not (
        _is(getattr(layer, "activation", None), "linear")
        and isinstance(after, keras.layers.Activation)
        and _is(after.activation, "relu")
    ):
        return layer
    # In a Sequential model the next layer reads this one; elsewhere the graph must say so.
    return after if isinstance(model, keras.Sequential) or after.input is layer.output else layer


def cam_layer(model: keras.Model, layer: str | None = None) -> str:
    """The layer whose output Grad-CAM weighs, for a caption ("conv4_relu" on the deep net).

    Args:
        model: a Keras model.
        layer: a conv layer's name; None: `last_conv_layer(model)`.

    Returns:
        `layer`, or the Activation("relu") layer right after it when the conv is linear.
    """
    return _feature_layer(model, layer or last_conv_layer(model)).name


def _maps_and_scores(model: keras.Model, feature: keras.layers.Layer, x):
    # One forward pass: the feature maps and the class scores *before* the softmax. The
    # softmax is left out, not inverted: after a separate Activation("softmax") (the lesson's
    # models) the scores are its input; a Dense(activation="softmax") layer's linear part
    # x·W + b is recomputed from its own weights.
    import keras

    last = model.layers[-1]
    softmax = _is(getattr(last, "activation", None), "softmax")
    if isinstance(model, keras.Sequential):
        # Layer by layer: a loaded Sequential's layers hold several graph nodes, so its
        # symbolic outputs cannot be relied on to form one connected graph.
        maps = None
        for layer in model.layers[:-1] if softmax else model.layers:
            x = layer(x, training=False)
            if layer is feature:
                maps = x
        z = x
    else:
        scores = last.input if softmax else model.outputs[0]
        maps, z = keras.Model(model.inputs[0], [feature.output, scores])(x, training=False)
    z = keras.ops.cast(z, "float32")
    if softmax and not isinstance(last, keras.layers.Activation):
        z = keras.ops.matmul(z, keras.ops.cast(last.kernel.value, "float32"))
        if last.use_bias:
            z = z + keras.ops.cast(last.bias.value, "float32")
    return maps, z


def grad_cam(
    model: keras.Model, image: np.ndarray, class_index: int, layer: str | None = None
) -> np.ndarray:
    """Grad-CAM (Selvaraju et al., ICCV 2017): where the last convolution supports a class.

    The gradients of the class's score *before the softmax* (its logit: the softmax layer is
    left out, or a softmax Dense layer's linear part is recomputed from its weights) with
    respect to the feature maps A_k of the conv layer, averaged over the map, weight each
    channel: map = ReLU(Σ_k w_k · A_k). The map is upsampled bilinearly to the image's size
    and scaled to [0, 1]. A model trained in mixed bfloat16 is handled by casting the maps and
    gradients to float32.

    Args:
        model: a Keras model taking (B, H, W, 3) pixels / 255.
        image: (H, W, 3) uint8.
        class_index: the class to explain (the predicted one, or the true one for a mistake).
        layer: a conv layer's name; None: `last_conv_layer(model)`. When that layer has no
            activation and an Activation("relu") layer follows it (the lesson's conv4 →
            conv4_relu), the maps are taken after that ReLU: rectified activations.

    Returns:
        (H, W) float32 in [0, 1]; all zeros when the map is flat (nothing stands out).
    """
    import tensorflow as tf

    image = check_image(image)
    class_index = _check_class(model, class_index)
    feature = _feature_layer(model, layer or last_conv_layer(model))
    x = tf.constant(_scaled(image[None]))  # (1, H, W, 3)
    with tf.GradientTape() as tape:
        maps, scores = _maps_and_scores(model, feature, x)  # (1, h, w, K), (1, classes)
        score = scores[0, class_index]
    grads = tape.gradient(score, maps)
    maps = np.asarray(tf.cast(maps, tf.float32))[0]  # (h, w, K)
    grads = np.asarray(tf.cast(grads, tf.float32))[0]
    weights = grads.mean(axis=(0, 1))  # (K,): how much each channel raises the score
    cam = np.maximum(maps @ weights, 0.0)  # (h, w): only what speaks for the class
    return unit_range(resize_bilinear(cam, image.shape[:2]))


# --- Occlusion --------------------------------------------------------------------------------


def patch_starts(size: int, patch: int, stride: int) -> list[int]:
    """Top (or left) edges of the patches along one side; the last one touches the border."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] + patch < size:  # a stride that does not divide evenly: cover the edge too
        starts.append(size - patch)
    return starts


def occlusion_and_largest_drop(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    patch: int = OCCLUSION_PATCH,
    stride: int = OCCLUSION_STRIDE,
    fill: float | None = None,
    batch_size: int = OCCLUSION_BATCH,
) -> tuple[np.ndarray, float]:
    """Occlusion map (Zeiler & Fergus, ECCV 2014): how much hiding each area costs the class.

    A square patch slides over the image; each occluded copy is predicted (in batches) and the
    class's probability is compared with the unoccluded image's. Each pixel gets the average
    drop over the patches that covered it. With the defaults, 7 × 7 = 49 copies of a 32×32
    image (plus the image itself), one model call.

    Args:
        model: a Keras model taking (B, H, W, 3) pixels / 255, giving probabilities.
        image: (H, W, 3) uint8.
        class_index: the class whose probability is watched.
        patch: side of the square, in pixels.
        stride: step between patch positions.
        fill: the patch's grey level, 0–255; None: the image's own mean colour, a flat
            greyish patch that hides the area's detail without bringing in a colour or a
            brightness the picture lacks on average.
        batch_size: occluded copies per model call.

    Returns:
        (map, largest drop). The map, (H, W) float32: positive = covering this area lowers
        the class's probability, negative = covering it raises the probability. It averages
        the drops of the patches overlapping each pixel, so its maximum can be smaller than
        what one patch alone cost; the largest drop is what covering the single costliest patch
        took off the class's probability (a fraction, 0.25 = 25 percentage points; ≤ 0 when
        covering no patch lowered it).
    """
    image = check_image(image)
    class_index = _check_class(model, class_index)
    height, width = image.shape[:2]
    if not 1 <= patch <= min(height, width) or stride < 1 or batch_size < 1:
        raise ValueError(
            f"Need 1 ≤ patch ≤ {min(height, width)}, stride ≥ 1 and batch_size ≥ 1; got "
            f"patch={patch}, stride={stride}, batch_size={batch_size}."
        )
    if fill is not None and not 0 <= fill <= 255:
        raise ValueError(f"fill is a pixel value 0–255 (or None for the mean colour), got {fill}.")
    colour = image.reshape(-1, 3).mean(axis=0) if fill is None else np.full(3, float(fill))
    boxes = [
        (y, x)
        for y in patch_starts(height, patch, stride)
        for x in patch_starts(width, patch, stride)
    ]
    copies = np.repeat(_scaled(image[None]), len(boxes) + 1, axis=0)  # copy 0 stays whole
    for k, (y, x) in enumerate(boxes, start=1):
        copies[k, y : y + patch, x : x + patch] = _scaled(colour)
    probs = predict_batches(model, copies, batch_size)[:, class_index]
    patch_drops = probs[0] - probs[1:]  # one per box: what covering that patch alone cost
    drop, covered = np.zeros((height, width)), np.zeros((height, width))
    for (y, x), patch_drop in zip(boxes, patch_drops, strict=True):
        drop[y : y + patch, x : x + patch] += patch_drop
        covered[y : y + patch, x : x + patch] += 1
    return (drop / covered).astype(np.float32), float(patch_drops.max())


def predict_batches(model: keras.Model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's outputs for already scaled images, `batch_size` at a time, as float32.

    A direct call, not model.predict: no tf.function traced per model, so a freshly built
    (randomised) model answers as fast as a loaded one.
    """
    return np.concatenate(
        [
            np.asarray(model(x[start : start + batch_size], training=False), dtype=np.float32)
            for start in range(0, len(x), batch_size)
        ]
    )


# --- Sanity check (Adebayo et al., 2018) ------------------------------------------------------


def randomized_model(model: keras.Model, seed: int) -> keras.Model:
    """The same architecture with freshly initialised weights: the model-randomisation check.

    Adebayo et al. (NeurIPS 2018) compare a method's maps for a trained model with its maps for
    the same network re-initialised: a method whose maps barely change cannot be showing what
    training taught. Here every layer is re-initialised at once, the last step of their
    cascading randomisation; each initialiser gets its own seed derived from `seed` (biases
    stay zero, as in a new model). `cifar_core.look_inside.untrained_model` gives instead the
    very weights a run started from, when its config is known.

    Args:
        model: a built Keras model (Sequential or functional).
        seed: same seed → same weights.

    Returns:
        An uncompiled model with the same layers, names and dtypes.
    """
    import keras

    # One seed per layer name, so the weights do not depend on the order Keras clones in.
    names = [layer.name for layer in model.layers]
    seeds = dict(zip(names, layer_seeds(seed, len(names)), strict=True))

    def reseeded(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        layer_seed = seeds.get(layer.name, int(seed))
        for key, value in config.items():
            # Serialized initialisers ({"class_name": "GlorotUniform", "config": {"seed": …}}).
            wanted = key.endswith("_initializer") and isinstance(value, dict)
            if wanted and "seed" in value.get("config", {}):
                value["config"]["seed"] = layer_seed
        return layer.__class__.from_config(config)

    return keras.models.clone_model(model, clone_function=reseeded)
