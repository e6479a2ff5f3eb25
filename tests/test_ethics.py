"""Core of the bias & privacy page: gaps, error rates, membership inference, and the text's sources."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import altair as alt
import numpy as np
import pytest

from cifar_core import constants as C
from cifar_core.bias_privacy import analysis as E
from cifar_core.bias_privacy import charts as EC
from cifar_core.bias_privacy import content as T

REPO = Path(__file__).resolve().parents[1]


# --- Per-class gap ----------------------------------------------------------------------------


def test_per_class_gap_ranks_and_measures_the_gap():
    gap = E.per_class_gap([0.5, 0.9, float("nan"), 0.7], ["cat", "ship", "frog", "dog"])
    assert [name for name, _ in gap.ranking] == ["ship", "dog", "cat"]  # NaN class left out
    assert (gap.best_name, gap.worst_name) == ("ship", "cat")
    assert gap.gap == pytest.approx(0.4)
    # cat is wrong 50% of the time, ship 10%: five times as often.
    assert gap.error_ratio == pytest.approx(5.0)


def test_per_class_gap_without_errors_in_the_best_class_has_no_ratio():
    gap = E.per_class_gap([1.0, 0.8], ["a", "b"])
    assert gap.error_ratio is None and gap.gap == pytest.approx(0.2)


def test_per_class_gap_rejects_bad_input():
    with pytest.raises(ValueError):
        E.per_class_gap([float("nan")], ["a"])
    with pytest.raises(ValueError):
        E.per_class_gap([0.5, 0.6], ["a"])


# --- Threshold error rates --------------------------------------------------------------------


def test_empirical_rates_match_a_hand_count():
    genuine = np.array([0.9, 0.8, 0.55, 0.4])  # below 0.6: 0.55 and 0.4 → 2 of 4 rejected
    impostor = np.array([0.1, 0.3, 0.6, 0.7, 0.2])  # at or above 0.6: 0.6 and 0.7 → 2 of 5
    rates = E.empirical_error_rates(genuine, impostor, threshold=0.6)
    assert rates.false_non_match_rate == pytest.approx(2 / 4)
    assert rates.false_match_rate == pytest.approx(2 / 5)


def test_analytic_rates_are_one_half_at_the_mean():
    params = E.ScoreParams(genuine_mean=0.7, genuine_sd=0.1, impostor_mean=0.3, impostor_sd=0.05)
    assert E.analytic_error_rates(params, 0.3).false_match_rate == pytest.approx(0.5)
    assert E.analytic_error_rates(params, 0.7).false_non_match_rate == pytest.approx(0.5)


def test_analytic_rates_at_one_sd_and_agree_with_samples():
    params = E.ScoreParams(genuine_mean=0.7, genuine_sd=0.1, impostor_mean=0.4, impostor_sd=0.1)
    rates = E.analytic_error_rates(params, 0.5)
    # One sd above the impostor mean, two below the genuine mean (standard normal table).
    assert rates.false_match_rate == pytest.approx(0.158655, abs=1e-6)
    assert rates.false_non_match_rate == pytest.approx(0.022750, abs=1e-6)
    genuine, impostor = E.sample_scores(params, 50_000, np.random.default_rng(0))
    measured = E.empirical_error_rates(genuine, impostor, 0.5)
    assert measured.false_match_rate == pytest.approx(rates.false_match_rate, abs=0.01)
    assert measured.false_non_match_rate == pytest.approx(rates.false_non_match_rate, abs=0.005)


def test_raising_the_threshold_trades_false_matches_for_false_non_matches():
    params = E.DEFAULT_GROUPS["Group A"]
    low, high = E.analytic_error_rates(params, 0.5), E.analytic_error_rates(params, 0.6)
    assert high.false_match_rate < low.false_match_rate
    assert high.false_non_match_rate > low.false_non_match_rate


def test_default_groups_are_treated_differently_by_one_threshold():
    a, b = (E.analytic_error_rates(p, C.DEFAULT_THRESHOLD) for p in E.DEFAULT_GROUPS.values())
    assert E.rate_ratio(b.false_match_rate, a.false_match_rate) > 10


def test_false_match_rates_cross_where_the_formula_says_and_false_non_matches_still_differ():
    # The example, reachable with the sliders: impostors N(0.35, 0.08) vs N(0.30, 0.15).
    a = replace(E.DEFAULT_GROUPS["Group A"], impostor_mean=0.35, impostor_sd=0.08)
    b = replace(E.DEFAULT_GROUPS["Group B"], impostor_mean=0.30, impostor_sd=0.15)
    t = E.equal_false_match_threshold(a, b)
    assert t == pytest.approx((0.35 * 0.15 - 0.30 * 0.08) / (0.15 - 0.08))
    assert t == pytest.approx(0.4071, abs=1e-4)
    at_a, at_b = E.analytic_error_rates(a, t), E.analytic_error_rates(b, t)
    assert at_a.false_match_rate == pytest.approx(at_b.false_match_rate, rel=1e-9)
    assert at_b.false_non_match_rate > 10 * at_a.false_non_match_rate
    # Above the crossing the wider curve (B) lets more impostors through; below it, A does.
    for step, wider_has_more in ((0.05, True), (-0.05, False)):
        ra, rb = E.analytic_error_rates(a, t + step), E.analytic_error_rates(b, t + step)
        assert (rb.false_match_rate > ra.false_match_rate) is wider_has_more


def test_crossing_formula_agrees_with_the_rates_for_random_groups():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(500):
        mu = rng.uniform(C.SCORE_MIN, C.SCORE_MAX, 2)
        sd = rng.uniform(C.SPREAD_MIN, C.SPREAD_MAX, 2)
        a, b = (E.ScoreParams(0.8, 0.1, float(m), float(s)) for m, s in zip(mu, sd, strict=True))
        t = E.equal_false_match_threshold(a, b)
        fa, fb = E.analytic_error_rates(a, t), E.analytic_error_rates(b, t)
        if not 1e-9 < fa.false_match_rate < 1 - 1e-9:
            continue  # both rates round to 0 or 1 in floating point: nothing to compare
        assert fa.false_match_rate == pytest.approx(fb.false_match_rate, rel=1e-6)
        checked += 1
    assert checked > 100


def test_equal_spreads_have_no_single_crossing():
    a = E.DEFAULT_GROUPS["Group A"]
    assert E.equal_false_match_threshold(a, a) is None
    shifted = replace(a, impostor_mean=a.impostor_mean + 0.1)
    assert E.equal_false_match_threshold(a, shifted) is None
    # The default groups cross only below 0, so B has more false matches across the range.
    t = E.equal_false_match_threshold(*E.DEFAULT_GROUPS.values())
    assert t == pytest.approx(-0.05) and t < C.SCORE_MIN


def test_rate_helpers():
    assert E.rate_ratio(0.2, 0.05) == pytest.approx(4.0)
    assert E.rate_ratio(0.2, 0.0) is None
    assert E.describe_rate(0.0062) == "0.62% (about 1 in 160)"
    assert E.describe_rate(0.0062, one_in=False) == "0.62%"
    assert E.describe_rate(0.0) == "0%"
    assert E.format_ratio(2.94) == "2.9×" and E.format_ratio(75.2) == "75×"
    with pytest.raises(ValueError):
        E.normal_cdf(0.0, 0.0, 0.0)


# --- Membership inference ---------------------------------------------------------------------


def test_true_class_confidence_picks_the_label_column():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=np.float16)
    conf = E.true_class_confidence(probs, np.array([0, 1], dtype=np.int16))
    assert conf.dtype == np.float64
    np.testing.assert_allclose(conf, [0.7, 0.1], atol=1e-3)


def test_confidence_gap_on_hand_made_probs():
    member_probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])  # true: 0, 1, 0
    other_probs = np.array([[0.5, 0.5], [0.7, 0.3], [0.4, 0.6], [0.2, 0.8]])  # true: 0, 1, 1, 0
    members = E.true_class_confidence(member_probs, np.array([0, 1, 0]))  # 0.9, 0.8, 0.6
    others = E.true_class_confidence(other_probs, np.array([0, 1, 1, 0]))  # 0.5, 0.3, 0.6, 0.2
    gap = E.confidence_gap(members, others)
    assert gap.member_mean == pytest.approx(2.3 / 3)
    assert gap.nonmember_mean == pytest.approx(1.6 / 4)
    assert gap.mean_gap == pytest.approx(2.3 / 3 - 0.4)
    assert gap.member_median == pytest.approx(0.8)
    assert gap.nonmember_median == pytest.approx(0.4)
    assert gap.median_gap == pytest.approx(0.4)
    assert (gap.n_members, gap.n_nonmembers) == (3, 4)


def test_best_threshold_attack_on_a_hand_made_case():
    members = np.array([0.9, 0.8, 0.7, 0.2])
    others = np.array([0.6, 0.5, 0.3, 0.1])
    # t = 0.7: 3 of 4 members caught, all 4 non-members below → (0.75 + 1) / 2 = 0.875.
    # (t = 0.2: 1.0 and 0.25 → 0.625; t = 0.8: 0.5 and 1.0 → 0.75.)
    attack = E.best_threshold_attack(members, others)
    assert attack.threshold == pytest.approx(0.7)
    assert attack.accuracy == pytest.approx(0.875)
    assert (attack.member_hit_rate, attack.nonmember_hit_rate) == (0.75, 1.0)


def test_membership_gap_is_small_unless_gap_and_attack_both_stand_out():
    members, others = np.array([0.9, 0.8, 0.7, 0.2]), np.array([0.6, 0.5, 0.3, 0.1])
    gap, attack = E.confidence_gap(members, others), E.best_threshold_attack(members, others)
    assert not E.membership_gap_is_small(gap, attack, chance=0.6)
    assert E.membership_gap_is_small(gap, attack, chance=0.9)  # no better than luck
    tiny = E.confidence_gap(np.array([0.51, 0.5]), np.array([0.5, 0.5]))
    assert E.membership_gap_is_small(tiny, attack, chance=0.6)  # a 0.5-point gap is nothing


def test_chance_level_is_above_one_half_and_falls_with_set_size():
    rng = np.random.default_rng(0)
    small = E.attack_chance_level(rng.random(30), rng.random(30), np.random.default_rng(1))
    large = E.attack_chance_level(rng.random(2000), rng.random(2000), np.random.default_rng(1))
    assert 0.5 < large < small < 1.0
    # A real difference beats it.
    members, others = rng.normal(0.7, 0.1, 500), rng.normal(0.5, 0.1, 500)
    chance = E.attack_chance_level(members, others, np.random.default_rng(1))
    assert E.best_threshold_attack(members, others).accuracy > chance


def test_attack_is_a_coin_flip_when_the_sets_look_alike():
    same = np.full(10, 0.5)
    attack = E.best_threshold_attack(same, same[:3])
    assert attack.accuracy == pytest.approx(0.5)
    gap = E.confidence_gap(same, same[:3])
    assert E.membership_gap_is_small(gap, attack, chance=0.55)


def test_attack_is_balanced_for_unequal_set_sizes():
    # One member at 0.9 vs 99 non-members at 0.1: perfect separation is 100%, not 99%.
    attack = E.best_threshold_attack(np.array([0.9]), np.full(99, 0.1))
    assert attack.accuracy == pytest.approx(1.0)


def test_confidence_histogram_shares_sum_to_one():
    edges, shares = E.confidence_histogram(np.array([0.0, 0.5, 1.0, 0.99]), bins=4)
    assert edges[0] == 0.0 and edges[-1] == 1.0
    np.testing.assert_allclose(shares, [0.25, 0.0, 0.25, 0.5])


def test_chart_specs_build():
    score = EC.score_chart(E.DEFAULT_GROUPS, 0.6).to_dict()
    assert len(score["vconcat"]) == 2
    conf = EC.confidence_chart(np.array([0.9, 0.8]), np.array([0.2, 0.5, 0.6]))
    assert isinstance(conf, alt.FacetChart)
    conf.to_dict()


# --- The text and its sources -----------------------------------------------------------------


def test_citations_are_parsed_and_links_ignored():
    text = "A [Hill 2020]. B [CNIL 2022; Dutch DPA 2024]. C [a link 2020](https://x). D [x]."
    assert T.citations_in(text) == ["Hill 2020", "CNIL 2022", "Dutch DPA 2024"]


def test_every_citation_resolves_to_a_reference():
    known = T.reference_by_key()
    for text in T.all_texts():
        for key in T.citations_in(text):
            assert key in known, f"{key!r} is cited but not in REFERENCES: {text[:80]}…"


def test_every_reference_is_cited():
    assert T.cited_keys() == set(T.reference_by_key())


def test_references_are_unique_and_complete():
    keys = [ref.key for ref in T.REFERENCES]
    assert len(keys) == len(set(keys))
    for ref in T.REFERENCES:
        assert ref.authors and ref.title and ref.venue
        assert ref.url.startswith("https://"), ref.key
        assert str(ref.year) in ref.key


def test_figures_that_could_not_be_verified_are_left_out():
    # The sources file marks these "(verify)"; without internet they stay out of the page.
    text = " ".join(T.all_texts())
    assert "51.75" not in text and "23%" not in text
    assert "5 points" not in text and "five points" not in text


def test_quiz_items_have_exactly_one_correct_answer_and_feedback_for_each():
    assert len(T.QUIZ) >= 4
    for item in T.QUIZ:
        assert sum(option.correct for option in item.options) == 1, item.key
        assert all(option.feedback for option in item.options), item.key
        assert len({option.text for option in item.options}) == len(item.options)
    assert len({item.key for item in T.QUIZ}) == len(T.QUIZ)


def test_enough_discussion_questions():
    assert len(T.DISCUSSION_QUESTIONS) >= 6


def test_core_modules_do_not_import_tensorflow_or_streamlit():
    code = (
        "import sys, cifar_core.bias_privacy.analysis, cifar_core.bias_privacy.content; "
        "bad = [m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_normal_cdf_matches_known_values():
    assert E.normal_cdf(0.0, 0.0, 1.0) == pytest.approx(0.5)
    assert E.normal_cdf(1.96, 0.0, 1.0) == pytest.approx(0.975, abs=1e-4)
    assert math.isclose(E.normal_cdf(-1.0, 0.0, 1.0) + E.normal_cdf(1.0, 0.0, 1.0), 1.0)
