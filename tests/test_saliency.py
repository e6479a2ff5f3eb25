"""explain.saliency: Grad-CAM and occlusion, checked the way the literature checks itself.

(a) Model randomisation (Adebayo et al., NeurIPS 2018): a trained net's maps must differ from
the same net's with random weights. (b, c) Hand-built networks whose answer depends on known
pixels: the maps must point there. (d) The overlay shown on the page. (e) Importing stays
TensorFlow-free.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cifar_core.explain import heatmap as H
from cifar_core.explain import saliency as S

REPO = Path(__file__).resolve().parents[1]
REGION = (slice(8, 16), slice(16, 24))  # the 8×8 block (row 1, column 2) of a 4×4 grid
TRAIN_IMAGES, EPOCHS = 2000, 3  # ≈20–25 s on two shared CPU cores
MAPPED_IMAGES = 16  # real test images whose maps are compared
# Mean Spearman correlation of trained vs randomised Grad-CAM over MAPPED_IMAGES (a flat map
# counts 0), measured with randomisation seeds 0–4: deep −0.10…0.10, shallow −0.05…0.17; the
# same net with 1% weight noise (a "method" blind to the weights would look like this): 0.999.
# 0.5 sits between, far from both.
RANDOMISATION_MAX = 0.5


# --- (a) Model randomisation on a network trained on the real sample --------------------------


@pytest.fixture(scope="session")
def trained_deep(sample_data, tmp_path_factory):
    """The deep net after 3 epochs on 2,000 real images, saved and loaded back as the app does."""
    import keras

    from cifar_core.look_inside import load_trained
    from cifar_core.models import build_model

    model = build_model("deep", seed=0)
    # Adam learns faster than the lesson's RMSprop in 3 short epochs (measured: 30–36% test
    # accuracy vs 13–31%), so the trained maps have something learned to show.
    model.compile(keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    x, y = sample_data.x_train[:TRAIN_IMAGES] / np.float32(255), sample_data.y_train[:TRAIN_IMAGES]
    rng = np.random.default_rng(0)  # shuffled by our own seed, not Keras' global one
    for _ in range(EPOCHS):
        order = rng.permutation(TRAIN_IMAGES)
        model.fit(x[order], y[order], epochs=1, batch_size=64, shuffle=False, verbose=0)
    path = tmp_path_factory.mktemp("saliency") / "model.keras"
    model.save(path)
    return load_trained(path)


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    # A flat map ranks nothing, so it shares no ranking with another map: 0 by convention.
    rho = H.rank_correlation(a, b)
    return 0.0 if np.isnan(rho) else rho


def test_trained_grad_cam_differs_from_the_randomised_models(trained_deep, sample_data):
    probs = S.predict_batches(trained_deep, sample_data.x_test / np.float32(255), 256)
    accuracy = (probs.argmax(axis=1) == sample_data.y_test).mean()
    print(f"test accuracy {accuracy:.3f}")
    assert accuracy > 0.2  # it learned something (chance: 0.1), so there is something to see
    images = sample_data.x_test[:MAPPED_IMAGES]
    random_net = S.randomized_model(trained_deep, seed=0)
    trained, randomised = [], []
    for image, c in zip(images, probs[:MAPPED_IMAGES].argmax(axis=1), strict=True):
        trained.append(S.grad_cam(trained_deep, image, int(c)))
        randomised.append(S.grad_cam(random_net, image, int(c)))
    assert sum(m.max() > 0 for m in trained) >= MAPPED_IMAGES - 2  # the trained maps show something
    similarity = np.mean([_similarity(a, b) for a, b in zip(trained, randomised, strict=True)])
    print(
        f"trained vs random: mean Spearman {similarity:.3f}, random maps flat: "
        f"{sum(m.max() == 0 for m in randomised)} of {MAPPED_IMAGES}"
    )
    assert similarity < RANDOMISATION_MAX, f"trained vs random: mean Spearman {similarity:.2f}"
    # …and the trained maps depend on the image: not one map for every picture.
    across = [
        _similarity(trained[i], trained[j])
        for i in range(MAPPED_IMAGES)
        for j in range(i + 1, MAPPED_IMAGES)
    ]
    print(f"trained maps of different images: mean Spearman {np.mean(across):.3f}")
    assert np.mean(across) < 0.6
    assert len({m.round(3).tobytes() for m in trained}) == MAPPED_IMAGES
    # The control: weights barely moved give the same maps, so the measure can tell.
    noise = np.random.default_rng(1)
    nudged = S.randomized_model(trained_deep, seed=0)
    nudged.set_weights(
        [w + 0.01 * w.std() * noise.standard_normal(w.shape) for w in trained_deep.get_weights()]
    )
    same = [
        _similarity(m, S.grad_cam(nudged, image, int(c)))
        for m, image, c in zip(trained, images, probs[:MAPPED_IMAGES].argmax(axis=1), strict=True)
    ]
    print(f"trained vs 1% weight noise: mean Spearman {np.mean(same):.3f}")
    assert np.mean(same) > 0.9


def test_randomized_model_keeps_the_architecture_and_redraws_the_weights(trained_deep):
    first, again = S.randomized_model(trained_deep, 0), S.randomized_model(trained_deep, 0)
    other = S.randomized_model(trained_deep, 1)
    assert [layer.name for layer in first.layers] == [layer.name for layer in trained_deep.layers]
    kernels = [w for w in first.get_weights() if w.ndim > 1]
    trained_kernels = [w for w in trained_deep.get_weights() if w.ndim > 1]
    assert all(not np.allclose(a, b) for a, b in zip(kernels, trained_kernels, strict=True))
    assert all(
        np.array_equal(a, b) for a, b in zip(first.get_weights(), again.get_weights(), strict=True)
    )
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])


def test_both_maps_of_the_deep_net_take_well_under_two_seconds(trained_deep, sample_data):
    assert S.cam_layer(trained_deep) == "conv4_relu"  # found in a Sequential loaded from disk
    assert S.cam_layer(trained_deep, "conv2") == "conv2_relu"
    image = sample_data.x_test[0]
    S.grad_cam(trained_deep, image, 0)  # first calls trace
    S.occlusion_and_largest_drop(trained_deep, image, 0)
    start = time.perf_counter()
    cam = S.grad_cam(trained_deep, image, 3)
    occluded, _ = S.occlusion_and_largest_drop(trained_deep, image, 3)
    seconds = time.perf_counter() - start
    assert seconds < 2.0, f"{seconds:.2f} s"
    assert cam.shape == occluded.shape == (32, 32)
    assert cam.dtype == occluded.dtype == np.float32
    assert cam.min() >= 0 and cam.max() <= 1 and np.isfinite(occluded).all()


# --- (b, c) Hand-built networks that read known pixels ----------------------------------------


def _region_model():
    """Class 0's score reads only the mean of REGION; class 1's score is a constant 0."""
    import keras

    inputs = keras.Input((32, 32, 3))
    blocks = keras.layers.Conv2D(1, 8, strides=8, use_bias=False, name="blocks")(inputs)
    logits = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(blocks))
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    model.get_layer("blocks").set_weights([np.full((8, 8, 3, 1), 1 / 192, np.float32)])
    kernel = np.zeros((16, 2), np.float32)
    kernel[1 * 4 + 2, 0] = 4.0  # block (1, 2) of the 4×4 grid of 8×8 means
    model.get_layer("logits").set_weights([kernel, np.zeros(2, np.float32)])
    return model


def test_occlusion_points_at_the_only_pixels_the_class_reads():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 200, (32, 32, 3), dtype=np.uint8)
    image[REGION] = 255  # brighter than the mean-colour patch: hiding it lowers class 0
    heat, _ = S.occlusion_and_largest_drop(_region_model(), image, class_index=0)
    assert heat.shape == (32, 32) and heat.dtype == np.float32
    y, x = np.unravel_index(heat.argmax(), heat.shape)
    assert 8 <= y < 16 and 16 <= x < 24
    assert (heat[REGION] > 0.01).all()
    far = np.ones((32, 32), bool)
    far[0:24, 8:32] = False  # every pixel a full patch (8) or more away from REGION
    assert np.abs(heat[far]).max() < 1e-6
    # Class 1's probability is 1 − class 0's: hiding the region raises it.
    other, _ = S.occlusion_and_largest_drop(_region_model(), image, class_index=1)
    assert other[REGION].max() < 0
    # A black patch costs more than the grey (mean-colour) one.
    black, _ = S.occlusion_and_largest_drop(_region_model(), image, 0, fill=0)
    assert black[REGION].mean() > heat[REGION].mean()


def test_the_largest_patch_drop_is_what_covering_that_one_patch_costs():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 200, (32, 32, 3), dtype=np.uint8)
    image[REGION] = 255
    model = _region_model()
    heat, largest = S.occlusion_and_largest_drop(model, image, 0)
    # By hand: REGION (one patch position, 8:16 × 16:24) covered with the image's mean colour.
    covered = image.astype(np.float32) / 255
    covered[REGION] = image.reshape(-1, 3).mean(axis=0) / 255
    whole, hidden = S.predict_batches(model, np.stack([image / np.float32(255), covered]), 2)
    assert largest == pytest.approx(whole[0] - hidden[0], abs=1e-6)
    assert largest > 0.1
    # The map averages the 9 patches over REGION's pixels: only one covers it all.
    assert heat.max() < largest - 0.01
    # Class 1 gains when REGION is hidden: no single patch lowers it.
    assert S.occlusion_and_largest_drop(model, image, 1)[1] < 1e-6


def test_patches_cover_every_pixel_whatever_the_stride():
    assert S.patch_starts(32, 8, 4) == [0, 4, 8, 12, 16, 20, 24]  # 7 × 7 = 49 copies
    assert S.patch_starts(32, 8, 5) == [0, 5, 10, 15, 20, 24]  # the edge is covered too
    grey = np.full((32, 32, 3), 90, np.uint8)
    heat, _ = S.occlusion_and_largest_drop(_region_model(), grey, 0, patch=6, stride=5)
    assert np.isfinite(heat).all()
    black = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="patch"):
        S.occlusion_and_largest_drop(_region_model(), black, 0, patch=40)
    with pytest.raises(ValueError, match="fill is a pixel value"):
        S.occlusion_and_largest_drop(_region_model(), black, 0, fill=300)


def _colour_model(softmax_layer: bool):
    """Class 0's logit = Σ red block means, class 1's = Σ green; conv → ReLU like the lesson."""
    import keras

    inputs = keras.Input((32, 32, 3))
    means = keras.layers.Conv2D(2, 8, strides=8, use_bias=False, name="colours")(inputs)
    flat = keras.layers.Flatten()(keras.layers.Activation("relu", name="colours_relu")(means))
    if softmax_layer:  # the lesson's models: a linear logits layer, then a softmax layer
        logits = keras.layers.Dense(2, name="logits")(flat)
        outputs = keras.layers.Activation("softmax")(logits)
    else:  # a classic Keras head: the softmax inside the last Dense layer
        outputs = keras.layers.Dense(2, activation="softmax", name="logits")(flat)
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((8, 8, 3, 2), np.float32)
    kernel[:, :, 0, 0] = kernel[:, :, 1, 1] = 1 / 64  # channel 0: red mean, channel 1: green
    model.get_layer("colours").set_weights([kernel])
    dense = np.zeros((32, 2), np.float32)
    dense[0::2, 0] = dense[1::2, 1] = 1.0  # Flatten order: (row, column, channel)
    model.get_layer("logits").set_weights([dense, np.zeros(2, np.float32)])
    return model


@pytest.mark.parametrize("softmax_layer", [True, False])
def test_grad_cam_weighs_channels_by_the_logit_not_the_probability(softmax_layer):
    model = _colour_model(softmax_layer)
    assert S.last_conv_layer(model) == "colours"
    assert S.cam_layer(model) == "colours_relu"  # the rectified maps, as in the lesson's nets
    image = np.zeros((32, 32, 3), np.uint8)
    image[8:16, 8:16] = (255, 0, 0)  # red only, REGION's mirror image
    image[REGION] = (255, 255, 0)  # red and green
    heat = S.grad_cam(model, image, 0)
    assert heat.shape == (32, 32) and heat.dtype == np.float32
    assert heat.min() == 0 and heat.max() == pytest.approx(1)
    # The red logit's gradient is 1 for both red blocks: equal heat. The probability's gradient
    # (or the log-probability's) is negative for green, so it would cool the red+green block.
    np.testing.assert_allclose(heat, heat[:, ::-1], atol=1e-5)
    assert heat[24:, 24:].max() < 1e-6  # black, far from both blocks
    green = S.grad_cam(model, image, 1)
    y, x = np.unravel_index(green.argmax(), green.shape)
    assert 8 <= y < 16 and 16 <= x < 24 and green[0:4, 0:4].max() < 1e-6


def test_grad_cam_of_a_flat_map_is_zeros_and_bad_input_is_refused():
    import keras

    model = _colour_model(True)
    blank = S.grad_cam(model, np.zeros((32, 32, 3), np.uint8), 0)  # nothing red: nothing to show
    assert blank.dtype == np.float32 and not blank.any()
    with pytest.raises(ValueError, match="out of range"):
        S.grad_cam(model, np.zeros((32, 32, 3), np.uint8), 2)
    with pytest.raises(ValueError, match="RGB image"):
        S.grad_cam(model, np.zeros((32, 32), np.uint8), 0)
    dense_only = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    with pytest.raises(ValueError, match="no Conv2D layer"):
        S.grad_cam(dense_only, np.zeros((32, 32, 3), np.uint8), 0)
    fused = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(2, 3, activation="relu", name="c"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    assert S.cam_layer(fused) == "c"  # a conv with its own ReLU is used as it is


def test_lesson_models_their_last_conv_layer_and_a_bfloat16_twin():
    from cifar_core.models import build_model

    deep = build_model("deep", seed=3)
    assert S.last_conv_layer(deep) == "conv4"
    assert S.last_conv_layer(build_model("shallow", seed=3)) == "conv1"
    mixed = build_model("deep", seed=3, precision="bfloat16")
    mixed.set_weights(deep.get_weights())
    image = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    full, half = S.grad_cam(deep, image, 4), S.grad_cam(mixed, image, 4)
    assert half.dtype == np.float32 and H.rank_correlation(full, half) > 0.95


def test_resize_bilinear_matches_tensorflow():
    import tensorflow as tf

    values = np.random.default_rng(2).random((7, 5)).astype(np.float32)
    expected = tf.image.resize(values[None, :, :, None], (32, 20), method="bilinear")
    np.testing.assert_allclose(H.resize_bilinear(values, (32, 20)), expected[0, :, :, 0], atol=1e-6)


# --- (d) What the page shows -------------------------------------------------------------------


def test_overlay_blends_the_heat_colours_into_the_enlarged_image():
    image = np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    heat = np.linspace(0, 1, 32 * 32, dtype=np.float32).reshape(32, 32)
    shown = H.overlay(image, heat)
    assert shown.shape == (128, 128, 3) and shown.dtype == np.uint8
    np.testing.assert_array_equal(
        H.overlay(image, heat, alpha=0), np.kron(image, np.ones((4, 4, 1), np.uint8))
    )
    np.testing.assert_array_equal(H.overlay(image, heat, scale=1, alpha=1), H.heat_colours(heat))
    assert H.overlay(image, np.ones((14, 14)), scale=2).shape == (64, 64, 3)  # any map size
    legend = H.heat_legend(width=11, height=2)
    assert legend.shape == (2, 11, 3) and legend.dtype == np.uint8
    np.testing.assert_array_equal(legend[0], np.array(H.HEAT_COLOURS, np.uint8))
    lightness = H.heat_legend(64, 1)[0].astype(float) @ [0.2126, 0.7152, 0.0722]
    assert (np.diff(lightness) > 0).all()  # dark → light: readable in grey too
    with pytest.raises(ValueError, match="2-D heat map"):
        H.overlay(image, np.zeros((32, 32, 3)))


def test_rank_correlation_is_spearmans():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert H.rank_correlation(a, a**3) == pytest.approx(1)  # any increasing function
    assert H.rank_correlation(a, -a) == pytest.approx(-1)
    assert H.rank_correlation([0, 0, 1, 2], [0, 1, 1, 2]) == pytest.approx(5 / 6)  # as scipy
    assert np.isnan(H.rank_correlation(np.zeros(4), a))


def test_the_note_names_its_sources():
    assert len(S.SOURCES) == 3
    for source in S.SOURCES:
        assert set(source) == {"authors", "title", "venue", "year", "url"}
        assert source["url"].startswith("https://arxiv.org/abs/")
        first_author = source["authors"].split(",")[0].split()[-1]
        assert f"{first_author} " in S.SALIENCY_NOTE and source["year"] in S.SALIENCY_NOTE
    assert "random" in S.SALIENCY_NOTE and S.SALIENCY_NOTE.count(". ") <= 4


# --- (e) Importing stays cheap -----------------------------------------------------------------


def test_importing_the_explain_modules_does_not_import_tensorflow():
    code = (
        "import sys, cifar_core.explain.saliency, cifar_core.explain.mistakes, "
        "cifar_core.explain.heatmap; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "False False"
