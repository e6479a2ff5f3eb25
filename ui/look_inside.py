"""Look inside two saved networks, and what they make of a student's own photo.

Both load the runs' models (and TensorFlow) only when a student asks: the filters and feature
maps behind a toggle, the photo's answers once per upload and run.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from cifar_core import constants as C
from cifar_core.explain.mistakes import top_classes
from cifar_core.images import upscale_nearest
from cifar_core.runs import Run
from ui.saliency import trained_model
from ui.upload import photo_upload

if TYPE_CHECKING:  # TensorFlow is imported only when a section needs a model
    import keras

MODEL_ERRORS = (OSError, ValueError, KeyError, zipfile.BadZipFile)


@st.cache_resource(max_entries=4, show_spinner="Building the untrained network…")
def initial_model(name: str, seed: int) -> keras.Model:
    """The network as the run started: built with its seed, as the training job does."""
    from cifar_core.look_inside import untrained_model

    return untrained_model(name, seed)


def _model_or_warning(run: Run, where: object) -> keras.Model | None:
    try:
        return trained_model(str(run.path.parent), run.run_id)
    except MODEL_ERRORS as exc:
        where.warning(f"The saved model of run {run.run_id} cannot be loaded: {exc}")
        return None


def look_inside_ui(
    runs: Sequence[Run], labels: Sequence[str], x_test: np.ndarray, y_test: np.ndarray, names
) -> None:
    """conv1's filters and every conv layer's feature maps, after training and before it."""
    st.header("Look inside")
    if not st.toggle(
        "Show filters and feature maps (loads TensorFlow: a few seconds the first time)",
        key="svd_look",
    ):
        st.caption(
            "The first layer's filters, and what every conv layer makes of one test image — "
            "after training and before it."
        )
        return
    from cifar_core.look_inside import (
        feature_map_images,
        feature_maps,
        filter_images,
        first_layer_kernels,
    )

    index = st.number_input("Test image number", 0, len(x_test) - 1, 0, key="svd_look_index")
    st.image(
        upscale_nearest(x_test[index], 4),
        caption=f"test image {index} ({names[int(y_test[index])]}), 32×32 enlarged",
    )
    st.caption(
        "Filters: conv1's 32 filters of 3×3 pixels × 3 colours, each stretched to its own range. "
        "Feature maps: what the first channels of each conv layer (after its ReLU) make of the "
        "image, bright = strong response. A plain grey square is a channel this image does not "
        "switch on at all. Before training means the run's own starting weights (same seed)."
    )
    for run, label in zip(runs, labels, strict=True):
        st.subheader(label)
        trained = _model_or_warning(run, st)
        if trained is None:
            continue
        before = initial_model(run.config["model"], int(run.config.get("seed", C.DEFAULT_SEED)))
        for column, model, when in zip(
            st.columns(2), (trained, before), ("After training", "Before training"), strict=True
        ):
            with column:
                st.markdown(f"**{when}**")
                st.image(list(filter_images(first_layer_kernels(model))), width=36)
                st.caption("conv1 filters")
                for layer, maps in feature_maps(model, x_test[index]).items():
                    st.image(list(feature_map_images(maps)), width=52)
                    st.caption(f"after {layer}: first {maps.shape[-1]} channels")


# The photo widget's upload and its predictions: {"upload": its file id, "small": the 32×32
# image, "probs": run id → prediction}. One entry, replaced by the next upload and dropped
# when the upload is removed.
PHOTO_KEY = "svd_upload_decoded"


def photo_ui(runs: Sequence[Run], labels: Sequence[str], names: Sequence[str]) -> None:
    """Both networks' top three answers for a photo the student uploads."""
    st.header("Your own photo")
    upload = photo_upload("Upload a photo: both networks guess what it shows", "svd_upload")
    if upload is None or upload.photo is None:
        st.session_state.pop(PHOTO_KEY, None)
        return
    # The page reruns for every widget change and live-chart poll: predict once per upload
    # and run.
    photo = st.session_state.get(PHOTO_KEY)
    if photo is None or photo["upload"] != upload.file_id:
        photo = {"upload": upload.file_id, "small": upload.photo.cifar, "probs": {}}
        st.session_state[PHOTO_KEY] = photo
    small = photo["small"]
    columns = st.columns(len(runs) + 1)
    columns[0].image(upscale_nearest(small, 4), caption="what the networks see: 32×32 pixels")
    from cifar_core.look_inside import predict_image

    for column, run, label in zip(columns[1:], runs, labels, strict=True):
        if run.run_id not in photo["probs"]:
            model = _model_or_warning(run, column)
            if model is None:
                continue
            photo["probs"][run.run_id] = predict_image(model, small)
        top = top_classes(photo["probs"][run.run_id], names, k=3)
        column.markdown(
            f"**{label}**\n\n" + "\n".join(f"{n}. {c} — {p:.0%}" for n, (c, p) in enumerate(top, 1))
        )
    st.info(
        "Anything outside the ten classes — a face, a cup, a cloud — still gets one of the "
        'ten labels, often with high confidence: the network has no way to say "none of '
        'these". Keep that in mind on the Bias & privacy page.'
    )
