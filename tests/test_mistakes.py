"""explain.mistakes: a run's wrong answers, most confident first, from its saved predictions."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cifar_core.comparison import analysis as K
from cifar_core.evaluation import confusion_matrix
from cifar_core.explain import mistakes as M

# Eight images, three classes: (true, predicted, confidence) written next to each row.
LABELS = np.array([0, 0, 1, 1, 2, 0, 1, 2])
PROBS = np.array(
    [
        [0.3, 0.6, 0.1],  # 0: 0 → 1 at 0.6
        [0.9, 0.05, 0.05],  # 1: 0 → 0 at 0.9 (right)
        [0.8, 0.15, 0.05],  # 2: 1 → 0 at 0.8
        [0.2, 0.7, 0.1],  # 3: 1 → 1 at 0.7 (right)
        [0.0, 0.95, 0.05],  # 4: 2 → 1 at 0.95, the most confident mistake
        [0.1, 0.6, 0.3],  # 5: 0 → 1 at 0.6, a tie with image 0: the lower index first
        [0.2, 0.3, 0.5],  # 6: 1 → 2 at 0.5
        [0.35, 0.25, 0.4],  # 7: 2 → 2 at 0.4 (right)
    ],
    dtype=np.float32,
)


def _indices(examples: list[M.Example]) -> list[int]:
    return [e.index for e in examples]


def test_a_cell_lists_its_images_most_confident_first_with_their_top_answers():
    cell = M.cell_examples(PROBS, LABELS, true_class=0, predicted_class=1)
    assert _indices(cell) == [0, 5]  # equal confidence 0.6: ordered by index
    first = cell[0]
    assert (first.true, first.predicted, first.correct) == (0, 1, False)
    assert first.confidence == pytest.approx(0.6)
    assert first.true_probability == pytest.approx(0.3)
    assert [c for c, _ in first.top3] == [1, 0, 2]
    assert [p for _, p in first.top3] == pytest.approx([0.6, 0.3, 0.1])
    assert [c for c, _ in cell[1].top3] == [1, 2, 0]
    # A diagonal cell holds the right answers, most confident first.
    assert _indices(M.cell_examples(PROBS, LABELS, 1, 1)) == [3]
    right = M.cell_examples(PROBS, LABELS, 2, 2)
    assert _indices(right) == [7] and right[0].correct
    assert M.cell_examples(PROBS, LABELS, 2, 0) == []
    assert _indices(M.cell_examples(PROBS, LABELS, 0, 1, limit=1)) == [0]


def test_mistakes_are_ordered_by_confidence_and_filtered_by_true_or_predicted_class():
    assert _indices(M.mistakes(PROBS, LABELS)) == [4, 2, 0, 5, 6]
    assert _indices(M.mistakes(PROBS, LABELS, limit=2)) == [4, 2]
    assert M.mistakes(PROBS, LABELS, limit=0) == []
    assert _indices(M.mistakes(PROBS, LABELS, class_filter=1)) == [2, 6]  # true class 1
    assert _indices(M.mistakes(PROBS, LABELS, class_filter=1, by="predicted")) == [4, 0, 5]
    assert _indices(M.mistakes(PROBS, LABELS, class_filter=0, by="predicted")) == [2]
    assert M.mistakes(PROBS, LABELS, class_filter=2, by="predicted", limit=5)[0].index == 6
    assert all(not e.correct for e in M.mistakes(PROBS, LABELS))


def test_float16_predictions_as_saved_give_the_same_answers():
    as_saved = PROBS.astype(np.float16)
    for true_class, pred_class in [(0, 1), (1, 0), (2, 2)]:
        assert _indices(M.cell_examples(as_saved, LABELS, true_class, pred_class)) == _indices(
            M.cell_examples(PROBS, LABELS, true_class, pred_class)
        )
    example = M.mistakes(as_saved, LABELS)[0]
    assert isinstance(example.confidence, float) and example.confidence == pytest.approx(
        0.95, abs=1e-3
    )
    assert all(isinstance(c, int) and isinstance(p, float) for c, p in example.top3)


def test_a_diverged_run_with_nan_probabilities_is_listed_not_raised():
    probs = PROBS.copy()
    probs[2] = np.nan  # argmax of a NaN row is its first NaN, as in the run's confusion matrix
    found = M.mistakes(probs, LABELS)
    assert 2 in _indices(found) and _indices(found)[-1] == 2  # NaN confidence sorts last


def test_confused_pairs_from_the_predictions_count_the_images_behind_them():
    # As the explorer (ui.explain): the matrix from the predictions, the pairs from the matrix.
    matrix = confusion_matrix(LABELS, M.predicted_classes(PROBS), 3)
    pairs = M.most_confused_pairs(matrix, top=5)
    # 0↔1: 2 images of class 0 called 1, 1 image of class 1 called 0.
    assert [(p.a, p.b, p.a_as_b, p.b_as_a) for p in pairs] == [(0, 1, 2, 1), (1, 2, 1, 1)]
    for p in pairs:  # the same images the explorer lists for the pair's two cells
        assert p.a_as_b == len(M.cell_examples(PROBS, LABELS, p.a, p.b))
        assert p.b_as_a == len(M.cell_examples(PROBS, LABELS, p.b, p.a))
    assert M.most_confused_pairs(matrix, top=1) == pairs[:1]


def test_arrays_of_different_lengths_are_refused():
    y = np.array([3, 3, 5])
    with pytest.raises(ValueError, match="different lengths"):
        M.cell_indices(y, y[:2], 3, 3)
    with pytest.raises(ValueError, match="different lengths"):
        K.disagreements(y, y[:2], y)  # the comparison checks with mistakes.check_same_length


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: M.mistakes(PROBS, LABELS[:5]), r"do not match probabilities of shape \(8, 3\)"),
        (lambda: M.mistakes(PROBS[0], LABELS), r"shape \(N, classes\)"),
        (lambda: M.mistakes(PROBS, LABELS[:, None]), "one label per image"),
        (lambda: M.mistakes(PROBS, LABELS + 1), "Label 3 is out of range: classes are 0…2"),
        (lambda: M.mistakes(PROBS, LABELS.astype(float)), "integer class indices"),
        (lambda: M.cell_examples(PROBS, LABELS, 3, 0), "true_class 3 is out of range"),
        (lambda: M.cell_examples(PROBS, LABELS, 0, -1), "predicted_class -1 is out of range"),
        (lambda: M.cell_examples(PROBS, LABELS, 0.5, 0), "must be a class index"),
        (lambda: M.mistakes(PROBS, LABELS, class_filter=7), "class_filter 7 is out of range"),
        (lambda: M.mistakes(PROBS, LABELS, by="pred"), "by must be one of true, predicted"),
        (lambda: M.mistakes(PROBS, LABELS, limit=-1), "limit must be None or a count"),
        (lambda: M.most_confused_pairs(np.zeros((3, 4))), "square confusion matrix"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=60, deadline=None)
@given(
    probs=hnp.arrays(
        np.float16,
        st.tuples(st.integers(0, 40), st.just(10)),
        elements=st.floats(0, 1, width=16),  # few distinct values: ties are common
    ),
    data=st.data(),
)
def test_the_hundred_cells_partition_the_test_set_each_in_confidence_order(probs, data):
    labels = data.draw(hnp.arrays(np.int64, len(probs), elements=st.integers(0, 9)))
    seen: list[int] = []
    for t in range(10):
        for p in range(10):
            cell = M.cell_examples(probs, labels, t, p)
            assert all((e.true, e.predicted) == (t, p) for e in cell)
            keys = [(-e.confidence, e.index) for e in cell]
            assert keys == sorted(keys)  # most confident first, ties by index
            seen += _indices(cell)
    assert sorted(seen) == list(range(len(probs)))  # every image in exactly one cell
    wrong = {i for i in range(len(probs)) if probs[i].argmax() != labels[i]}
    assert set(_indices(M.mistakes(probs, labels))) == wrong


def test_every_call_is_fast_on_the_full_test_split():
    # 10,000 images × 10 classes, about 70% right like a trained deep net, saved as float16.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 10_000)
    logits = rng.normal(size=(10_000, 10))
    logits[np.arange(10_000), labels] += 1.6 * rng.random(10_000) + 1.2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    probs = probs.astype(np.float16)
    calls = {
        "cell": lambda: M.cell_examples(probs, labels, 3, 5),
        "diagonal": lambda: M.cell_examples(probs, labels, 3, 3),
        "all mistakes": lambda: M.mistakes(probs, labels),
        "mistakes by predicted class": lambda: M.mistakes(probs, labels, 3, by="predicted"),
        "confused pairs": lambda: M.most_confused_pairs(  # with the matrix, as the explorer
            confusion_matrix(labels, M.predicted_classes(probs), 10)
        ),
    }
    assert 0.5 < (probs.argmax(axis=1) == labels).mean() < 0.9
    for name, call in calls.items():
        best = min(_seconds(call) for _ in range(5))
        assert best < 0.05, f"{name}: {best * 1000:.1f} ms"


def _seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


@pytest.mark.slow
def test_a_real_runs_mistakes_match_its_predictions_and_confusion_matrix(trained_store):
    (info,) = trained_store.list_runs()
    run = trained_store.load(info.run_id)
    saved = run.predictions()
    probs, labels = saved["test_probs"], saved["test_labels"]
    pred = probs.astype(np.float32).argmax(axis=1)
    matrix = confusion_matrix(labels, pred, probs.shape[1])
    for t, p in [(t, p) for t in range(10) for p in range(10)]:
        cell = M.cell_examples(probs, labels, t, p)
        assert len(cell) == matrix[t, p]
        assert [e.index for e in cell] == sorted(
            M.cell_indices(labels, pred, t, p).tolist(), key=lambda i: (-probs[i, p], i)
        )
    wrong = M.mistakes(probs, labels)
    assert len(wrong) == int((pred != labels).sum()) > 0
    confidences = [e.confidence for e in wrong]
    assert confidences == sorted(confidences, reverse=True)
    for e in wrong[:20]:
        assert e.confidence == pytest.approx(float(probs[e.index].max()))
        assert e.true_probability == pytest.approx(float(probs[e.index, e.true]))
        assert e.top3[0] == (e.predicted, e.confidence)
    # The run's own matrix was counted from the probabilities as saved (float16), so it is this
    # one exactly (runs saved before 2026-11-30 counted the float32 ones: they could differ by
    # the images whose two best classes rounded to the same float16).
    assert probs.dtype == np.float16
    assert np.array_equal(np.array(run.result["confusion_matrix"]), matrix)
    # The explorer's confused pairs, from the run's saved matrix (JSON lists), are the images'.
    pairs = M.most_confused_pairs(run.result["confusion_matrix"], top=3)
    assert pairs == M.most_confused_pairs(matrix, top=3)
    assert [(p.a_as_b, p.b_as_a) for p in pairs] == [
        (
            len(M.cell_examples(probs, labels, p.a, p.b)),
            len(M.cell_examples(probs, labels, p.b, p.a)),
        )
        for p in pairs
    ]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_choice_count_counts_what_the_lists_hold(seed, n):
    # The explorer counts a choice from the confusion matrix and builds only the shown images:
    # the count must be the full list's length for every kind of choice.
    from cifar_core.evaluation import confusion_matrix
    from cifar_core.explain.mistakes import choice_count

    rng = np.random.default_rng(seed)
    probs = rng.random((n, 10)).astype(np.float32)
    labels = rng.integers(0, 10, n)
    matrix = confusion_matrix(labels, probs.argmax(axis=1))
    assert choice_count(matrix) == len(M.mistakes(probs, labels))
    for c in range(10):
        assert choice_count(matrix, c, None) == len(M.mistakes(probs, labels, class_filter=c))
        by_pred = M.mistakes(probs, labels, class_filter=c, by="predicted")
        assert choice_count(matrix, None, c) == len(by_pred)
        for p in (c, (c + 3) % 10):
            assert choice_count(matrix, c, p) == len(M.cell_examples(probs, labels, c, p))
