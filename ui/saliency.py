"""Where did it look? Grad-CAM and occlusion maps of a saved run's model, in the page.

The maps load the run's model, and with it TensorFlow, only when a student asks for them;
models and maps are cached for every session of the server (a class clicking the same famous
mistake computes its maps once).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from cifar_core import constants as C
from cifar_core.images import upscale_nearest
from cifar_core.runs import MODEL_FILE, RunStore
from ui.upload import photo_upload

if TYPE_CHECKING:  # TensorFlow is imported only when a student asks for a map
    import keras


@st.cache_resource(max_entries=4, show_spinner="Loading the trained network…")
def trained_model(root: str, run_id: str) -> keras.Model:
    """A saved run's model.keras (only files this app saved; never an upload)."""
    from cifar_core.look_inside import load_trained

    return load_trained(RunStore(root).path(run_id) / MODEL_FILE)


@st.cache_resource(max_entries=2, show_spinner="Building the same network with random weights…")
def random_model(root: str, run_id: str) -> keras.Model:
    """The run's architecture with freshly drawn weights: the saliency sanity check."""
    from cifar_core.explain.saliency import randomized_model

    return randomized_model(trained_model(root, run_id), seed=0)


# A class of 30 clicking the same famous mistake computes its maps once.
@st.cache_data(max_entries=64, show_spinner="Working out where the network looked…")
def saliency_maps(
    root: str,
    run_id: str,
    image: np.ndarray,
    true_class: int | None,
    randomized: bool,
    classes: tuple[int, ...] | None = None,
) -> dict:
    """Grad-CAM and occlusion overlays of one image for two classes, with the probabilities.

    Args:
        classes: the classes to map; None: the predicted class and the true class, or the
            second guess when the true class is unknown or is the predicted one (the random
            weights' check passes the trained network's classes).

    Returns:
        {"probs": (10,) probabilities, "classes": the mapped classes,
        "maps": {class: {"grad_cam": rgb, "occlusion": rgb, and a note for each}}}.
    """
    from cifar_core.explain.heatmap import overlay, unit_range
    from cifar_core.explain.saliency import grad_cam, occlusion_and_largest_drop
    from cifar_core.look_inside import predict_image

    model = random_model(root, run_id) if randomized else trained_model(root, run_id)
    probs = predict_image(model, image)
    if classes is None:
        predicted, second = int(np.argmax(probs)), int(np.argsort(probs)[-2])
        other = true_class if true_class is not None and true_class != predicted else second
        classes = (predicted, other)
    maps = {}
    for c in classes:
        cam = grad_cam(model, image, c)
        heat, largest = occlusion_and_largest_drop(model, image, c)
        drop = np.maximum(heat, 0.0)  # where covering it lowered c
        maps[c] = {
            "grad_cam": overlay(image, cam),
            # Stretched per image so the place shows; the caption says how big the drop is.
            "occlusion": overlay(image, unit_range(drop)),
            "grad_cam_note": "flat: nothing stands out" if not cam.any() else "",
            "occlusion_note": f"covering one {C.OCCLUSION_PATCH}×{C.OCCLUSION_PATCH} patch "
            f"lowered it by up to {100 * largest:.1f} percentage points"
            if largest > 0
            else "covering no single patch lowered it",
        }
    return {"probs": probs, "classes": classes, "maps": maps}


MAP_KINDS = (("grad_cam", "Grad-CAM"), ("occlusion", "Occlusion"))


def _map_row(result: dict, classes: Sequence[int], names: Sequence[str], what: str) -> None:
    cells = [(c, kind, title) for c in classes for kind, title in MAP_KINDS]
    for column, (c, kind, title) in zip(st.columns(len(cells)), cells, strict=True):
        column.image(
            result["maps"][c][kind],
            caption=f"{title} · {names[c]} ({result['probs'][c]:.0%}) · {what}"
            + (f" · {note}" if (note := result["maps"][c][f"{kind}_note"]) else ""),
            width="stretch",
        )


def where_it_looked(
    root: str,
    run_id: str,
    image: np.ndarray,
    true_class: int | None,
    names: Sequence[str],
    key: str,
    title: str,
) -> None:
    """Grad-CAM and occlusion over one image, for the predicted and the true class."""
    from cifar_core.explain.saliency import SALIENCY_NOTE

    st.subheader(f"Where did it look? {title}")
    try:
        result = saliency_maps(root, run_id, image, true_class, False)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        st.warning(f"The saved model of run {run_id} cannot be loaded: {exc}")
        return
    classes = result["classes"]
    predicted, other = classes
    left, right = st.columns([1, 4])
    left.image(upscale_nearest(image, C.OVERLAY_SCALE), caption="the image (32×32, enlarged)")
    with right:
        _map_row(result, classes, names, "trained")
    other_word = "the true class" if other == true_class else "its second guess"
    st.caption(
        f"Left pair: the predicted class, **{names[predicted]}**; right pair: {other_word}, "
        f"**{names[other]}**. Grad-CAM: how much each area of the last convolution's output "
        "pushes that class's score up (bright = more). Occlusion: how much the class's "
        f"probability drops when a {C.OCCLUSION_PATCH}×{C.OCCLUSION_PATCH} patch of the image's "
        "average colour covers that area, averaged over the patches that cover each pixel "
        "(bright = the biggest drop in this image; the caption gives the most one patch cost). "
        "The two classes' Grad-CAM maps can look alike when the network relies "
        "on the same features for both."
    )
    if st.toggle(
        "Sanity check: the same maps from this network with random weights",
        key=f"{key}_random",
    ):
        _map_row(
            saliency_maps(root, run_id, image, None, True, classes),
            classes,
            names,
            "random weights",
        )
        st.caption(
            "If these look like the trained network's maps, the maps above show the picture "
            "itself more than what the network learned."
        )
    st.info(SALIENCY_NOTE)


def saliency_section(
    root: str,
    run_id: str,
    chosen: int | None,
    x_test: np.ndarray | None,
    labels: np.ndarray | None,
    names: Sequence[str],
    key: str,
    has_model: bool,
) -> None:
    """'Where did it look?' for the chosen test image, or for the student's own photo."""
    if not has_model:
        st.caption("This run saved no model, so its saliency maps cannot be drawn.")
        return
    if chosen is not None and x_test is not None and labels is not None:
        where_it_looked(
            root,
            run_id,
            x_test[chosen],
            int(labels[chosen]),
            names,
            f"{key}_test",
            f"test image #{chosen}",
        )
    else:
        st.caption(
            "Press **Where did it look?** under an image to see which pixels the answer "
            "depended on."
        )
    with st.expander("…or on your own photo"):
        upload = photo_upload("Your photo: where does the network look?", f"{key}_photo")
        if upload is not None and upload.photo is not None:
            where_it_looked(
                root, run_id, upload.photo.cifar, None, names, f"{key}_photo", "your photo"
            )
