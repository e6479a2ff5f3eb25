"""Home: what the lesson is, the pages in order, and where the data comes from."""

from __future__ import annotations

import streamlit as st

from cifar_core import constants as C
from cifar_core import settings
from cifar_core.comparison.references import reference_rows
from cifar_core.constants import APP_MEASURED, NOTEBOOK_AUGMENTED_RUN
from cifar_core.data import describe_source
from cifar_core.lessons import NOT_SHOWN_HERE
from cifar_core.models import count_mult_adds, count_params, get_architecture
from ui.common import available_steps
from ui.compat import require_app_navigation
from ui.lesson_runs import see_it

require_app_navigation()


def layers_of(name: str, kind: str) -> int:
    """How many layers of one kind ("maxpool", "dropout", …) a network has."""
    return sum(spec.kind == kind for spec in get_architecture(name))


def times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def reference_lines() -> str:
    """The published results, one Markdown bullet each, with budget and source."""
    return "\n".join(
        f"* **{r['value_text']}** — {r['model']}; {r['budget']}; {r['metric']} "
        f"(source: {r['source']})"
        for r in reference_rows()
    )


def measured_lines() -> str:
    """This app's own measurements, one Markdown bullet per budget."""
    return "\n".join(
        f"* {budget}: shallow **{shallow:.1%}**, deep **{deep:.1%}**"
        for budget, shallow, deep in APP_MEASURED
    )


st.title("Your first convolutional network: CIFAR-10")
st.markdown(
    f"""
This is the classic Keras lesson, rebuilt for today's Keras 3. A convolutional neural network
(CNN) learns to tell apart ten kinds of small photos — {", ".join(C.CLASS_NAMES)} — from the
**CIFAR-10** data set: {C.FULL_TRAIN_SIZE:,} training and {C.FULL_TEST_SIZE:,} test images,
each only 32×32 pixels in colour.

You will compare two networks from the lesson:

* a **shallow** one, one convolution layer, **{count_params("shallow"):,}** parameters;
* a **deep** one, four convolution layers, **{count_params("deep"):,}** parameters.

The deep network has fewer parameters, but it is not simply "better". Per image it does about
**{count_mult_adds("deep") / count_mult_adds("shallow"):.1f}× more arithmetic**
({count_mult_adds("deep") / 1e6:.1f} million multiply-adds against
{count_mult_adds("shallow") / 1e6:.1f} million), it pools {times(layers_of("deep", "maxpool"))}
where the shallow one pools {times(layers_of("shallow", "maxpool"))}, and it has
{layers_of("deep", "dropout")} dropout layers against {layers_of("shallow", "dropout")}.
"""
)
st.markdown(
    f"""
**When depth wins.** In the reference results the deep design comes out ahead only with tens of
thousands of training images and 25 epochs or more, and not in every such run. The budgets
differ from source to source, so read these as what each network can reach, not as a fair race:

{reference_lines()}
"""
)
st.markdown(
    f"""
**When it does not.** On the small budgets this app trains in minutes the two networks are
close, and either can win. Runs made with this app (one seed each; other seeds give other
numbers):

{measured_lines()}

When depth starts to pay off, and why, is what the lesson lets you find out.
"""
)
st.caption(NOT_SHOWN_HERE["deep_overtakes"])
see_it("above_chance")

st.header("The lesson, step by step")
for number, step in enumerate(available_steps(), start=1):
    with st.container(border=True):
        st.page_link(step.path, label=f"{number}. {step.title}", icon=step.icon)
        st.caption(step.blurb)

st.header("Where the images come from")
st.markdown(describe_source())
st.caption(
    f"To use a local copy instead of the download (for example offline, or in a classroom "
    f"without internet), set the environment variable `{settings.CIFAR10_DIR.name}` to the unpacked "
    "`cifar-10-batches-py` folder or to `cifar-10-python.tar.gz` before starting the app."
)

st.header("If you know the old notebooks")
st.markdown(
    f"""
The lesson's original notebooks were written for standalone Keras. Some of their lines behave
differently on today's Keras, or never did what they seem to; this app teaches the intended
version:

* **`Conv2D(64, 3, 3)`** meant "64 filters of 3×3" in Keras 1, and standalone Keras 2.0–2.3
  still read it that way: a legacy shim turned it into `kernel_size=(3, 3)` and warned "Update
  your `Conv2D` call to the Keras 2 API" (source: the Keras 2 legacy interfaces,
  `keras/legacy/interfaces.py`). The notebooks ran on standalone Keras 2 (their own code calls
  `fit_generator(samples_per_epoch=…)`), so their conv4 had stride 1. Only tf.keras / Keras 2.4
  and later and Keras 3 read the third number as `strides=3`, silently: run today, the same
  line builds a layer that jumps 3 pixels at a time. Here the layer is `Conv2D(64, (3, 3))`.
* **The augmentation preview loop** did apply the generator, but it was mis-indented (source:
  the notebooks' own code): notebook 000 augmented only the last image, 5 times; in notebooks
  001, 002 and 004 the loop never ends, because `num_aug` is never incremented inside it; and
  the list it built was never used. Training was not affected: `fit_generator(datagen.flow(…))`
  did augment, including the 25-epoch run that printed {NOTEBOOK_AUGMENTED_RUN} (in the reference
  results on the Shallow vs deep page). Here augmentation is previewed image by image, and
  training draws *new* random transforms from the same settings with the same maths — not the
  ones you saw.
* **Changed APIs**: `fit_generator` is gone (use `fit`, which also takes `datagen.flow(…)`);
  `np_utils.to_categorical` is now `keras.utils.to_categorical`; weights are saved as
  `.weights.h5`, whole models as `.keras`. `ImageDataGenerator` is no longer in Keras 3's
  `keras.preprocessing.image`, but `tensorflow.keras.preprocessing.image.ImageDataGenerator`
  still imports and runs on TensorFlow 2.16–2.21 as a deprecated legacy class (it needs scipy;
  checked on TensorFlow 2.21). Keras 3's preprocessing layers are the current way; this app
  draws ImageDataGenerator's transforms itself.
"""
)
