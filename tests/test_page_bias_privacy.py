"""The Bias & privacy page in AppTest: text and sources, the three interactives, the quiz."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cifar_core import constants as C
from cifar_core.bias_privacy import analysis as E
from cifar_core.bias_privacy import content as T
from cifar_core.runs import PREDICTIONS_FILE, STATUS_FILE, RunStore
from tests.conftest import open_app
from ui.common import LATEST_RUN_KEY, get_store

REPO = Path(__file__).resolve().parents[1]
PAGE = "pages/bias_privacy.py"


def open_page(session_state: dict | None = None) -> AppTest:
    """The app, switched to this page and run once."""
    at = open_app(PAGE, session_state=session_state)
    assert not at.exception, [e.value for e in at.exception]
    return at


def clear_store_cache() -> None:
    # If get_store() is cached (st.cache_resource), clear it so it reads $CIFAR_RUNS_DIR again.
    clear = getattr(get_store, "clear", None)
    if clear is not None:
        clear()


def use_runs_dir(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(root))
    clear_store_cache()


@pytest.fixture(autouse=True)
def _fresh_store():
    clear_store_cache()
    yield
    clear_store_cache()


@pytest.fixture()
def empty_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "runs"
    use_runs_dir(monkeypatch, root)
    return root


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def all_markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


# --- Without a run --------------------------------------------------------------------------


def test_every_heading_and_reference_renders_without_a_run(empty_runs):
    at = open_page()
    assert at.title[0].value == T.TITLE
    headers = [h.value for h in at.header]
    for section in T.SECTIONS:
        assert section.title in headers
    for title in (T.DISCUSSION_TITLE, T.QUIZ_TITLE, T.REFERENCES_TITLE):
        assert title in headers
    subheaders = [h.value for h in at.subheader]
    assert subheaders == [T.PER_CLASS_TITLE, T.THRESHOLD_TITLE, T.MEMBERSHIP_TITLE]
    text = all_markdown(at)
    for ref in T.REFERENCES:
        assert ref.url in text and ref.title in text, ref.key
    # Dollar amounts are escaped, so Streamlit does not read them as LaTeX.
    assert "\\$1,000" in text


def test_without_a_run_the_page_explains_and_links_to_training(empty_runs):
    at = open_page()
    assert any(T.NO_RUN_TEXT in info.value for info in at.info)
    links = at.get("page_link")
    assert any(link.proto.page == "train" for link in links)  # the Train page's url path
    labels = [m.label for m in at.metric]
    assert not any("confidence" in label for label in labels)  # no made-up numbers
    assert len(at.get("vega_lite_chart")) == 1  # only the synthetic threshold chart


def test_moving_the_threshold_changes_the_reported_rates(empty_runs):
    at = open_page()
    label = "Group A: false-match rate"
    params = E.DEFAULT_GROUPS["Group A"]
    expected = E.analytic_error_rates(params, C.DEFAULT_THRESHOLD).false_match_rate
    before = metric(at, label)
    assert before == E.describe_rate(expected, one_in=False)
    at.slider(key="bp_threshold").set_value(0.70).run()
    after = metric(at, label)
    assert after != before
    assert after == E.describe_rate(
        E.analytic_error_rates(params, 0.70).false_match_rate, one_in=False
    )
    assert "With one threshold at **0.70**" in all_markdown(at)
    assert any("SYNTHETIC" in w.value for w in at.warning)


def test_group_parameters_feed_the_rates(empty_runs):
    at = open_page()
    before = metric(at, "Group B: false-match rate")
    at.slider(key="bp_b_impostor_mean").set_value(0.30).run()
    assert metric(at, "Group B: false-match rate") != before
    # With identical groups, one threshold treats them the same.
    a = E.DEFAULT_GROUPS["Group A"]
    for field in ("genuine_mean", "genuine_sd", "impostor_mean", "impostor_sd"):
        at.slider(key=f"bp_b_{field}").set_value(getattr(a, field))
    at.run()
    assert "about equally often" in all_markdown(at)


def percent(value: str) -> float:
    return float(value.rstrip("%")) / 100


def test_default_groups_never_cross_within_the_score_range(empty_runs):
    text = all_markdown(open_page())
    assert "cross only at -0.05, outside the score range" in text
    assert "**Group B** always has more false matches" in text


def test_where_the_impostor_tails_cross_false_matches_are_equal_but_not_non_matches(empty_runs):
    # The example: Group A's impostors N(0.35, 0.08) (the default), B's N(0.30, 0.15).
    at = open_page()
    at.slider(key="bp_b_impostor_mean").set_value(0.30)
    at.slider(key="bp_b_impostor_sd").set_value(0.15).run()
    groups = {
        "Group A": E.DEFAULT_GROUPS["Group A"],
        "Group B": E.ScoreParams(0.70, 0.10, 0.30, 0.15),
    }
    t = E.equal_false_match_threshold(*groups.values())
    shared = E.describe_rate(
        E.analytic_error_rates(groups["Group A"], t).false_match_rate, one_in=False
    )
    text = all_markdown(at)
    assert f"cross at **{t:.3f}**" in text and "**0.407**" in text
    assert f"both false-match rates are {shared}" in text
    # At the nearest slider step the page's own rates agree within a few percent...
    at.slider(key="bp_threshold").set_value(0.41).run()
    fmr_a = percent(metric(at, "Group A: false-match rate"))
    fmr_b = percent(metric(at, "Group B: false-match rate"))
    assert fmr_a == pytest.approx(fmr_b, rel=0.05)
    text = all_markdown(at)
    assert "impostors from both groups are falsely matched about equally often" in text
    # ...while the false-non-match rates still differ.
    fnmr_a = percent(metric(at, "Group A: false-non-match rate"))
    fnmr_b = percent(metric(at, "Group B: false-non-match rate"))
    assert fnmr_b > 10 * fnmr_a
    assert "genuine users from **Group B** are falsely rejected" in text


def test_equal_spreads_have_no_crossing(empty_runs):
    at = open_page()
    at.slider(key="bp_b_impostor_sd").set_value(0.08).run()  # A's spread, B's higher mean
    assert "same spread, so no threshold gives equal false-match rates" in all_markdown(at)


def test_quiz_options_are_shuffled_and_feedback_follows_the_chosen_option(empty_runs):
    seed = 7
    at = open_page({"bp_quiz_seed": seed})
    quiz = T.shuffled_quiz(seed)
    positions = []
    for item in quiz:
        options = list(at.radio(key=f"bp_quiz_{item.key}").options)
        assert options == [option.text for option in item.options]
        positions.append(next(i for i, option in enumerate(item.options) if option.correct))
    assert len(set(positions)) > 1  # the right answer is not always in the same place
    for i in range(len(quiz[0].options)):
        for item in quiz:
            at.radio(key=f"bp_quiz_{item.key}").set_value(item.options[i].text)
        at.run()
        right, wrong = [s.value for s in at.success], [w.value for w in at.warning]
        assert len(right) == sum(item.options[i].correct for item in quiz)
        for item in quiz:
            option = item.options[i]
            feedback = option.feedback.replace("$", "\\$")  # the page escapes dollars
            assert any(feedback in v for v in (right if option.correct else wrong)), option.text
            assert not any(feedback in v for v in (wrong if option.correct else right))


def test_each_session_gets_a_seeded_quiz_order(empty_runs):
    at = open_page()
    seed = at.session_state["bp_quiz_seed"]
    for item in T.shuffled_quiz(seed):
        options = list(at.radio(key=f"bp_quiz_{item.key}").options)
        assert options == [option.text for option in item.options]
    at.run()
    assert at.session_state["bp_quiz_seed"] == seed  # stable across reruns


def test_quiz_feedback_explains_right_and_wrong_answers(empty_runs):
    at = open_page()
    assert not at.success
    item = next(item for item in T.QUIZ if item.key == "gender_shades")
    wrong = next(option for option in item.options if not option.correct)
    at.radio(key="bp_quiz_gender_shades").set_value(wrong.text).run()
    assert any(wrong.feedback in w.value for w in at.warning)
    at.radio(key="bp_quiz_gender_shades").set_value(item.correct_option.text).run()
    assert any(item.correct_option.feedback in s.value for s in at.success)


def test_page_dependencies_import_without_tensorflow():
    code = (
        "import sys, cifar_core.bias_privacy.analysis, cifar_core.bias_privacy.content, cifar_core.charts, "
        "cifar_core.runs, ui.common; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


# --- With a saved run (one tiny real training, shared by the session) -------------------------


@pytest.mark.slow
def test_with_a_saved_run_the_page_shows_the_students_model(trained_store, monkeypatch):
    use_runs_dir(monkeypatch, trained_store.root)
    run_id = trained_store.list_runs()[0].run_id
    at = open_page()
    assert at.selectbox(key="bp_run").value == run_id
    assert len(at.get("vega_lite_chart")) == 3  # per class, threshold, confidence
    text = all_markdown(at)
    assert "percentage points" in text and T.PER_CLASS_BRIDGE in text
    labels = [m.label for m in at.metric]
    assert "Mean confidence, training images" in labels
    assert "Best simple attack: balanced accuracy" in labels
    honest = [i.value for i in at.info]
    # A 1-epoch run barely overfits: the page must say so rather than overclaim.
    assert any("trained for 1 epoch" in v and T.MEMBERSHIP_SMALL in v for v in honest)
    # The page links the run to its model card, cited.
    assert T.MODEL_CARD_TEXT in text
    cards = [b.label for b in at.get("download_button")]
    assert cards == ["Model card (Markdown)", "Model card (HTML)"]


def _copy_run(src: RunStore, dst_root: Path, run_id: str, created: float) -> None:
    source = src.path(src.list_runs()[0].run_id)
    target = dst_root / run_id
    shutil.copytree(source, target)
    status = json.loads((target / STATUS_FILE).read_text())
    status["created"] = created
    (target / STATUS_FILE).write_text(json.dumps(status))


@pytest.mark.slow
def test_defaults_to_this_sessions_latest_run_and_reports_a_damaged_one(
    trained_store, tmp_path, monkeypatch
):
    root = tmp_path / "runs"
    older, newer = "20260101-090000-aaaaaa", "20260102-090000-bbbbbb"
    _copy_run(trained_store, root, older, created=1_000.0)
    _copy_run(trained_store, root, newer, created=2_000.0)
    (root / newer / PREDICTIONS_FILE).unlink()  # finished, but its predictions are gone
    use_runs_dir(monkeypatch, root)

    at = open_page({LATEST_RUN_KEY: older})
    assert at.selectbox(key="bp_run").value == older
    assert len(at.get("vega_lite_chart")) == 3

    at.selectbox(key="bp_run").set_value(newer).run()
    assert not at.exception
    assert any("cannot be shown" in e.value for e in at.error)
    assert len(at.get("vega_lite_chart")) == 1  # only the synthetic chart


@pytest.mark.slow
def test_the_model_card_never_loads_the_data_set(trained_store, sample_data, monkeypatch):
    # The page works without CIFAR-10: its model card gets the data set only if another page
    # has already loaded it, and says what it does not know otherwise.
    from cifar_core import data as D
    from ui import take_home

    use_runs_dir(monkeypatch, trained_store.root)
    loads: list[int] = []

    def refuse_to_load() -> D.Cifar10:
        loads.append(1)
        raise D.DataError("this page must not load CIFAR-10")

    monkeypatch.setattr(D, "_shared", {})  # a fresh server: nothing loaded yet
    monkeypatch.setattr(D, "load_cifar10", refuse_to_load)
    given: list = []
    buttons = take_home.model_card_buttons

    def spy(run, data, key):
        given.append(data)
        buttons(run, data, key)

    monkeypatch.setattr(take_home, "model_card_buttons", spy)
    at = open_page()
    assert loads == [] and given and given[-1] is None
    assert not any("could not be loaded" in e.value for e in at.error)
    assert not at.get("status") and "Loading CIFAR-10" not in str(at.get("spinner"))
    cards = [b.label for b in at.get("download_button")]
    assert cards == ["Model card (Markdown)", "Model card (HTML)"]
    # Once another page has loaded it, the card gets the loaded data set.
    D._shared[D.configured_dir()] = sample_data
    at.run()
    assert not at.exception and loads == [] and given[-1] is sample_data
