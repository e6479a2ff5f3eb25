"""Models: the lesson's shallow and deep CNNs, as data (for tables) and as Keras models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cifar_core.constants import IMAGE_SHAPE, MODEL_NAMES, NUM_CLASSES

if TYPE_CHECKING:  # keep `import cifar_core.models` free of TensorFlow
    import keras


@dataclass(frozen=True)
class LayerSpec:
    """One layer of an architecture, described without Keras.

    Attributes:
        kind: conv | relu | maxpool | dropout | flatten | dense | softmax.
        name: the Keras layer name (stable, so feature maps can be looked up by name).
        size: filters (conv), units (dense), pool size (maxpool) or rate (dropout).
        padding: "same" or "valid" for conv layers.
        note: a teaching note shown next to the layer (e.g. the Conv2D(64, 3, 3) pitfall).
    """

    kind: str
    name: str
    size: float = 0
    padding: str = "same"
    note: str = ""


# Sources: the Keras 2.0 legacy shim (keras/legacy/interfaces.py, conv2d_args_preprocessor) and
# the notebooks' own code; tests/test_models.py checks what today's Keras does with the line.
CONV_STRIDE_NOTE = (
    "The classic notebooks wrote this layer as Conv2D(64, 3, 3). Keras 1 read that as 64 "
    "filters of 3×3, and standalone Keras 2.0–2.3 still did: a legacy shim turned it into "
    'kernel_size=(3, 3) and warned "Update your `Conv2D` call to the Keras 2 API" (source: '
    "the Keras 2 legacy interfaces, keras/legacy/interfaces.py). The notebooks ran on "
    "standalone Keras 2 (their own code calls fit_generator(samples_per_epoch=…)), so their "
    "conv4 had stride 1. Only tf.keras / Keras 2.4 and later and Keras 3 read the third number as "
    "strides=3, silently: run today, the same line builds a 3×3 kernel that jumps 3 pixels at "
    "a time. This app writes what the lesson meant, Conv2D(64, (3, 3)), stride 1."
)


def _conv_block(
    prefix: str, filters: int, padding: str = "same", note: str = ""
) -> list[LayerSpec]:
    return [
        LayerSpec("conv", f"{prefix}", filters, padding, note),
        LayerSpec("relu", f"{prefix}_relu"),
    ]


SHALLOW: tuple[LayerSpec, ...] = (
    *_conv_block("conv1", 32),
    LayerSpec("maxpool", "pool1", 2),
    LayerSpec("dropout", "drop1", 0.25),
    LayerSpec("flatten", "flatten"),
    LayerSpec("dense", "dense1", 512),
    LayerSpec("relu", "dense1_relu"),
    LayerSpec("dropout", "drop2", 0.5),
    LayerSpec("dense", "logits", NUM_CLASSES),
    LayerSpec("softmax", "softmax"),
)

DEEP: tuple[LayerSpec, ...] = (
    *_conv_block("conv1", 32),
    *_conv_block("conv2", 32),
    LayerSpec("maxpool", "pool1", 2),
    LayerSpec("dropout", "drop1", 0.25),
    *_conv_block("conv3", 64),
    *_conv_block("conv4", 64, padding="valid", note=CONV_STRIDE_NOTE),
    LayerSpec("maxpool", "pool2", 2),
    LayerSpec("dropout", "drop2", 0.25),
    LayerSpec("flatten", "flatten"),
    LayerSpec("dense", "dense1", 512),
    LayerSpec("relu", "dense1_relu"),
    LayerSpec("dropout", "drop3", 0.5),
    LayerSpec("dense", "logits", NUM_CLASSES),
    LayerSpec("softmax", "softmax"),
)

ARCHITECTURES: dict[str, tuple[LayerSpec, ...]] = {"shallow": SHALLOW, "deep": DEEP}
KERNEL = 3  # every conv layer of the lesson uses a 3×3 kernel


def get_architecture(name: str) -> tuple[LayerSpec, ...]:
    """The layer list of "shallow" or "deep"; a clear ValueError for anything else."""
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown model {name!r}: choose one of {', '.join(MODEL_NAMES)}.")
    return ARCHITECTURES[name]


def layer_table(name: str, input_shape: tuple[int, int, int] = IMAGE_SHAPE) -> list[dict]:
    """Layer, output shape, parameters and multiply-adds per image, computed by hand.

    The same numbers Keras' model.summary() prints (a test checks that), without
    importing TensorFlow, so any page can show the architecture instantly.

    Returns:
        One dict per layer: layer, kind, output_shape, params, mult_adds, note.
    """
    h, w, c = input_shape
    rows = []
    for spec in get_architecture(name):
        params = mult_adds = 0
        if spec.kind == "conv":
            filters = int(spec.size)
            if spec.padding == "valid":
                h, w = h - KERNEL + 1, w - KERNEL + 1
            params = KERNEL * KERNEL * c * filters + filters
            # every output value is a dot product over a 3×3×c window
            mult_adds = h * w * filters * KERNEL * KERNEL * c
            c = filters
        elif spec.kind == "maxpool":
            h, w = h // int(spec.size), w // int(spec.size)
        elif spec.kind == "flatten":
            h, w, c = 1, 1, h * w * c
        elif spec.kind == "dense":
            units = int(spec.size)
            params = c * units + units
            mult_adds = c * units
            c = units
        shape = (c,) if spec.kind in ("flatten", "dense") or (h, w) == (1, 1) else (h, w, c)
        rows.append(
            {
                "layer": spec.name,
                "kind": spec.kind,
                "output_shape": shape,
                "params": params,
                "mult_adds": mult_adds,
                "note": spec.note,
            }
        )
    return rows


def count_params(name: str) -> int:
    """Total trainable parameters of a model, from its layer table."""
    return sum(row["params"] for row in layer_table(name))


def count_mult_adds(name: str) -> int:
    """Multiply-adds for one forward pass of one image."""
    return sum(row["mult_adds"] for row in layer_table(name))


def layer_seeds(seed: int, count: int) -> list[int]:
    """`count` independent seeds derived from one run seed (one per randomised layer)."""
    import numpy as np

    return [int(s) % 2**31 for s in np.random.SeedSequence(int(seed)).generate_state(count)]


# Layers that compute in float32 whatever the precision: the logits and the softmax, so the
# probabilities and the loss are computed at full precision (Keras' mixed-precision advice).
FLOAT32_LAYERS = frozenset({"logits", "softmax"})


def build_model(
    name: str,
    input_shape: tuple[int, int, int] = IMAGE_SHAPE,
    seed: int | None = None,
    precision: str = "float32",
) -> keras.Model:
    """Build the lesson's "shallow" or "deep" CNN (uncompiled) with Keras 3.

    Args:
        name: "shallow" or "deep".
        input_shape: image shape, channels last.
        seed: seeds every layer's initial weights and dropout masks through the layer
            itself, so the same seed gives the same network whatever other threads do to
            Keras' process-wide seed (keras.utils.set_random_seed). None: Keras' global RNG.
        precision: "float32", or "bfloat16" for Keras' mixed_bfloat16 policy (bfloat16
            arithmetic, float32 weights) in every layer but FLOAT32_LAYERS. Given per layer,
            not through Keras' process-wide policy, which other threads' models would share.

    Returns:
        A keras.Sequential whose layer names match `layer_table`.
    """
    import keras

    from cifar_core.training.precision import KERAS_POLICY

    if precision not in KERAS_POLICY:
        raise ValueError(f"Unknown precision {precision!r}: choose float32 or bfloat16.")
    specs = get_architecture(name)
    seeds = iter(layer_seeds(seed, len(specs))) if seed is not None else None

    def seeded(kind: str) -> dict:
        # Glorot-uniform kernels, as Keras' default, but drawn from this layer's own seed.
        if seeds is None:
            return {}
        if kind == "dropout":
            return {"seed": next(seeds)}
        return {"kernel_initializer": keras.initializers.GlorotUniform(seed=next(seeds))}

    def dtype(spec: LayerSpec) -> str:
        return "float32" if spec.name in FLOAT32_LAYERS else KERAS_POLICY[precision]

    layers: list[keras.layers.Layer] = [keras.Input(shape=input_shape, name="image")]
    for spec in specs:
        if spec.kind == "conv":
            # (3, 3) as a tuple: the kernel size. On today's Keras Conv2D(64, 3, 3) means strides=3.
            layer = keras.layers.Conv2D(
                int(spec.size),
                (KERNEL, KERNEL),
                padding=spec.padding,
                name=spec.name,
                dtype=dtype(spec),
                **seeded("conv"),
            )
        elif spec.kind in ("relu", "softmax"):
            layer = keras.layers.Activation(spec.kind, name=spec.name, dtype=dtype(spec))
        elif spec.kind == "maxpool":
            layer = keras.layers.MaxPooling2D(
                pool_size=int(spec.size), name=spec.name, dtype=dtype(spec)
            )
        elif spec.kind == "dropout":
            layer = keras.layers.Dropout(
                float(spec.size), name=spec.name, dtype=dtype(spec), **seeded("dropout")
            )
        elif spec.kind == "flatten":
            layer = keras.layers.Flatten(name=spec.name, dtype=dtype(spec))
        elif spec.kind == "dense":
            layer = keras.layers.Dense(
                int(spec.size), name=spec.name, dtype=dtype(spec), **seeded("dense")
            )
        else:  # pragma: no cover — the specs above use only the kinds handled here
            raise ValueError(f"Unknown layer kind {spec.kind!r}")
        layers.append(layer)
    return keras.Sequential(layers, name=name)


def keras_layer_table(model: keras.Model) -> list[dict]:
    """Layer name, output shape and parameter count as Keras reports them."""
    return [
        {
            "layer": layer.name,
            "output_shape": tuple(layer.output.shape[1:]),
            "params": layer.count_params(),
        }
        for layer in model.layers
    ]
