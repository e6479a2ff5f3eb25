"""Home: what the lesson is, the pages in order, and where the data comes from."""

from __future__ import annotations

import streamlit as st

from cifar_core import constants as C
from cifar_core.data import describe_source
from cifar_core.models import count_params
from pages.ui_common import available_steps, require_app_navigation

require_app_navigation()

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

The deep network has fewer parameters, yet it learns better. Finding out why is the lesson.
"""
)

st.header("The lesson, step by step")
for number, step in enumerate(available_steps(), start=1):
    with st.container(border=True):
        st.page_link(step.path, label=f"{number}. {step.title}", icon=step.icon)
        st.caption(step.blurb)

st.header("Where the images come from")
st.markdown(describe_source())
st.caption(
    f"To use a local copy instead of the download (for example offline, or in a classroom "
    f"without internet), set the environment variable `{C.ENV_CIFAR10_DIR}` to the unpacked "
    "`cifar-10-batches-py` folder or to `cifar-10-python.tar.gz` before starting the app."
)

st.header("If you know the old notebooks")
st.markdown(
    """
The lesson's original notebooks were written for Keras 1 and 2. Three of their lines no longer
do what they say, and this app teaches the intended version:

* **`Conv2D(64, 3, 3)`** meant "64 filters of 3×3" in Keras 1. Since Keras 2 the third number is
  the *stride*, so the line silently builds a layer that jumps 3 pixels at a time. Here the
  layer is `Conv2D(64, (3, 3))`.
* **The augmentation loop** in the notebooks did not actually apply the generator's transforms
  to what it showed and trained on, so it augmented nothing. Here augmentation is previewed
  image by image, and training uses exactly the transforms you saw.
* **Removed APIs**: `ImageDataGenerator` and `fit_generator` are gone from Keras 3 (use
  preprocessing layers and `fit`), `np_utils.to_categorical` is now
  `keras.utils.to_categorical`, and weights are saved as `.weights.h5` or whole models as
  `.keras`.
"""
)
