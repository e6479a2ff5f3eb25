"""AppTest of "Why did it get that wrong?" on the Train page's results, with a real saved run.

The run is the real tiny training of `trained_store` (deep net, real sample). Checks what a
student sees: the pickers start at the biggest mistake, a chosen cell lists its images most
confident first with their top three answers, an empty choice says so, and "Where did it
look?" draws Grad-CAM and occlusion maps for the predicted and the true class.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cifar_core.evaluation import confusion_matrix
from cifar_core.explain.mistakes import largest_mistake_cell
from cifar_core.runs import RunStore
from tests.conftest import open_app

PAGE = "pages/train.py"


@pytest.fixture()
def page(app_env: Path, trained_store: RunStore, monkeypatch: pytest.MonkeyPatch):
    runs = app_env.parent / "explain-runs"
    shutil.copytree(trained_store.root, runs)
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(runs))
    store = RunStore(runs)
    (info,) = store.list_runs()
    at = open_app(PAGE)
    assert not at.exception, at.exception
    return at, store.load(info.run_id)


def captions(at) -> list[str]:
    return [img.caption for element in at.get("image") for img in element.proto.imgs]


def text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def predictions(run):
    preds = run.predictions()
    return preds["test_probs"].astype(np.float32), preds["test_labels"].astype(np.int64)


def test_explorer_opens_at_the_biggest_mistake_most_confident_first(page):
    at, run = page
    probs, y = predictions(run)
    names = run.result["class_names"]
    matrix = confusion_matrix(y, probs.argmax(axis=1))
    true_class, pred_class = largest_mistake_cell(matrix)
    assert at.selectbox(key="result_mx_true").value == true_class
    assert at.selectbox(key="result_mx_pred").value == pred_class
    count = int(matrix[true_class, pred_class])
    assert (
        f"**{count:,}** test images of class **{names[true_class]}** that the network called "
        f"**{names[pred_class]}**"
    ) in text(at)
    shown = [c for c in captions(at) if "— true: " in c]
    assert len(shown) == min(count, 12)
    indices = [int(c.rsplit("#", 1)[1].rstrip(")")) for c in shown]
    assert all(y[i] == true_class and probs[i].argmax() == pred_class for i in indices)
    assert np.all(np.diff(probs[indices, pred_class]) <= 1e-6)  # most confident first
    # Each caption: the top three answers with their probabilities, best first.
    top = np.argsort(-probs[indices[0]], kind="stable")[:3]
    assert shown[0].startswith(
        "✗ " + " · ".join(f"{names[c]} {probs[indices[0], c]:.0%}" for c in top)
    )


def test_a_class_filter_lists_all_its_mistakes_and_an_empty_cell_says_so(page):
    at, run = page
    probs, y = predictions(run)
    names = run.result["class_names"]
    pred = probs.argmax(axis=1)
    # Filter by true class only: every mistake on that class, whatever the answer.
    cls = int(np.bincount(y[pred != y], minlength=10).argmax())
    at.selectbox(key="result_mx_true").set_value(cls)
    at.selectbox(key="result_mx_pred").set_value(-1).run()
    assert not at.exception, at.exception
    wrong = int(((y == cls) & (pred != y)).sum())
    assert f"**{wrong:,}** test images of class **{names[cls]}** that the network got wrong" in (
        text(at)
    )
    # A cell with no image: said in words, with where to look instead.
    matrix = confusion_matrix(y, pred)
    empty = [(int(i), int(j)) for i, j in np.argwhere(matrix == 0) if i != j]
    assert empty, matrix
    at.selectbox(key="result_mx_true").set_value(empty[0][0])
    at.selectbox(key="result_mx_pred").set_value(empty[0][1]).run()
    t, q = empty[0]
    article = "an" if names[q][0] in "aeiou" else "a"
    assert (
        f"The network called **no** test image of class **{names[t]}** {article} "
        f"**{names[q]}**: this cell of its confusion matrix is 0."
    ) in text(at)
    assert "Its biggest mistake is" in text(at)
    assert "**0** test images" not in text(at)


def test_an_empty_choice_is_one_sentence_with_its_article_and_a_capital():
    from ui.explain import empty_text

    names = ["airplane", "automobile", "bird", "cat", "deer", "dog"]
    assert empty_text("cell", 3, 5, names, "the network") == (
        "The network called **no** test image of class **cat** a **dog**: this cell of its "
        "confusion matrix is 0."
    )
    assert empty_text("cell", 3, 0, names, "deep") == (
        "Deep called **no** test image of class **cat** an **airplane**: this cell of its "
        "confusion matrix is 0."
    )
    assert empty_text("cell", 2, 1, names, "deep").endswith(
        " an **automobile**: this cell of its confusion matrix is 0."
    )
    assert empty_text("right", 4, 4, names, "shallow") == (
        "Shallow got **no** test image of class **deer** right: this cell of its confusion "
        "matrix is 0."
    )
    assert empty_text("all", -1, -1, names, "the network") == (
        "The network made **no** mistake of this kind."
    )


def test_where_did_it_look_draws_both_maps_for_predicted_and_true_class(page):
    at, run = page
    probs, y = predictions(run)
    names = run.result["class_names"]
    at.button(key=next(b.key for b in at.button if b.key.startswith("result_mx_look_"))).click()
    at.run(timeout=180)
    assert not at.exception, at.exception
    index = at.session_state["result_mx_chosen"]
    subheaders = [s.value for s in at.subheader]
    assert f"Where did it look? test image #{index}" in subheaders
    maps = [c for c in captions(at) if c.startswith(("Grad-CAM", "Occlusion"))]
    assert len(maps) == 4
    predicted, true = int(probs[index].argmax()), int(y[index])
    other = true if true != predicted else int(np.argsort(probs[index])[-2])
    assert f"Grad-CAM · {names[predicted]}" in maps[0] and f"Grad-CAM · {names[other]}" in maps[2]
    # Occlusion's note: the most that covering one single patch cost, in percentage points.
    for note in (maps[1], maps[3]):
        assert re.search(
            r" · trained · (covering one 8×8 patch lowered it by up to \d+\.\d percentage points"
            r"|covering no single patch lowered it)$",
            note,
        ), note
    # The sanity check: the same maps from the network with random weights.
    at.toggle(key="result_mx_test_random").set_value(True).run(timeout=180)
    assert not at.exception, at.exception
    assert sum("random weights" in c for c in captions(at)) == 4
    assert any(
        "the maps above show the picture itself more than what the network learned" in c.value
        for c in at.caption
    )


def test_where_did_it_look_on_a_photo_and_a_bad_upload(page):
    at, _ = page
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 48, 3), np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    at.file_uploader(key="result_mx_photo").upload("me.png", buffer.getvalue(), "image/png")
    at.run(timeout=180)
    assert not at.exception, at.exception
    assert "Where did it look? your photo" in [s.value for s in at.subheader]
    assert sum(c.startswith(("Grad-CAM", "Occlusion")) for c in captions(at)) == 4
    at.file_uploader(key="result_mx_photo").upload("notes.png", b"not an image", "image/png")
    at.run()
    assert not at.exception, at.exception
    assert any("image" in e.value.lower() for e in at.error)


def test_browsing_mistakes_needs_no_tensorflow(page, tmp_path):
    # In a fresh process (this one has TensorFlow loaded by other tests): the Train page with
    # a saved run, a cell picked in the explorer. Only "Where did it look?" may load it.
    import os
    import subprocess
    import sys

    from tests.conftest import REPO, TEST_OWNER_KEY

    code = (
        "import sys; from streamlit.testing.v1 import AppTest;"
        f"at = AppTest.from_file({str(REPO / 'app.py')!r}, default_timeout=120);"
        f"at.session_state['session_owner'] = {TEST_OWNER_KEY!r}; at.run();"  # the run's owner
        "at.switch_page('pages/train.py'); at.run();"
        "at.selectbox(key='result_mx_true').set_value(-1);"
        "at.selectbox(key='result_mx_pred').set_value(-1).run();"
        "assert not at.exception, at.exception;"
        "assert any('got wrong' in m.value for m in at.markdown), 'no explorer';"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    env = {**os.environ, "CIFAR_WARMUP": "0"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "False False", out.stdout
