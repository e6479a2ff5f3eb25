"""Bias & privacy: what changes when the images are faces — with sources, and your own model."""

from __future__ import annotations

import secrets
import zipfile

import numpy as np
import streamlit as st

from cifar_core import constants as C
from cifar_core.bias_privacy import analysis as E
from cifar_core.bias_privacy import charts as EC
from cifar_core.bias_privacy import content as T
from cifar_core.charts import per_class_bars
from cifar_core.comparison.analysis import USABLE_STATUSES
from cifar_core.data import shared_data, shared_data_ready
from cifar_core.runs import RunInfo, RunStore, RunStoreError
from ui.common import LATEST_RUN_KEY, get_store, load_saved_run, own_runs
from ui.compat import require_app_navigation
from ui.take_home import model_card_buttons

require_app_navigation()

# Only these runs were evaluated and have predictions saved.
GROUP_KEYS = {"Group A": "a", "Group B": "b"}  # widget-key prefixes
QUIZ_SEED_KEY = "bp_quiz_seed"  # one option order per session


def md(text: str) -> str:
    """Markdown-safe text: Streamlit reads "$…$" as LaTeX, and the page quotes dollar amounts."""
    return text.replace("$", "\\$")


def chart(spec: object, caption: str) -> None:
    """An Altair chart at full width, described for screen readers and in a visible caption."""
    st.altair_chart(spec, width="stretch", alt=caption)
    st.caption(caption)


# Everything the page needs from one saved run, computed once per run (cached by store and
# id): the run comes from the one loader of saved runs.
@st.cache_data(max_entries=C.RUN_VIEW_CACHE_ENTRIES, show_spinner=False)
def load_run_view(root: str, run_id: str) -> dict:
    run, preds, problem = load_saved_run(root, run_id)
    if "per_class_accuracy" not in run.result:
        raise RunStoreError(f"Run {run_id} has no test results (was it evaluated?).")
    if problem:
        raise RunStoreError(f"The saved predictions of run {run_id} cannot be read: {problem}")
    try:
        members = E.true_class_confidence(preds["train_probs"], preds["train_labels"])
        others = E.true_class_confidence(preds["test_probs"], preds["test_labels"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise RunStoreError(f"The saved predictions of run {run_id} cannot be read: {exc}") from exc
    return {
        "per_class_accuracy": [float(a) for a in run.result["per_class_accuracy"]],
        "class_names": list(run.result.get("class_names") or []),
        "test_accuracy": run.result.get("test_accuracy"),
        "epochs": run.result.get("epochs_completed", run.config.get("epochs")),
        "member_conf": members,
        "nonmember_conf": others,
        # The attack and its chance level (CHANCE_SHUFFLES reshuffles), computed once per run.
        "gap": E.confidence_gap(members, others),
        "attack": E.best_threshold_attack(members, others),
        "chance": E.attack_chance_level(members, others, np.random.default_rng(C.CHANCE_SEED)),
    }


# Which saved run to look at: this session's latest by default, else the newest usable one.
def run_picker_ui(store: RunStore) -> RunInfo | None:
    runs = [info for info in own_runs(store) if info.status in USABLE_STATUSES]
    if not runs:
        st.info(md(T.NO_RUN_TEXT), icon="ℹ️")
        st.page_link("pages/train.py", label="Go to the Train page", icon="🏋️")
        return None
    by_id = {info.run_id: info for info in runs}
    ids = list(by_id)
    latest = st.session_state.get(LATEST_RUN_KEY)
    run_id = st.selectbox(
        "Which of your saved runs?",
        ids,
        index=ids.index(latest) if latest in ids else 0,
        format_func=lambda run_id: by_id[run_id].label,
        key="bp_run",
    )
    return by_id.get(run_id)


# Load the chosen run, or say clearly why it cannot be used.
def run_view_ui(store: RunStore, info: RunInfo | None) -> dict | None:
    if info is None:
        return None
    try:
        return load_run_view(str(store.root), info.run_id)
    except RunStoreError as exc:
        st.error(f"This run cannot be shown: {exc} Pick another run or train a new one.", icon="⚠️")
        return None


# Per-class accuracy of the student's model, and the bridge to demographic gaps.
def per_class_ui(view: dict) -> None:
    names = view["class_names"] or [str(i) for i in range(len(view["per_class_accuracy"]))]
    gap = E.per_class_gap(view["per_class_accuracy"], names)
    caption = (
        f"Bar chart: test accuracy of each class, best first, from {gap.best_name} "
        f"({gap.best_accuracy:.0%}) down to {gap.worst_name} ({gap.worst_accuracy:.0%}); "
        "each bar is labelled with its value."
    )
    chart(per_class_bars(view["per_class_accuracy"], names), caption)
    ratio = (
        f"it gets **{gap.worst_name}** wrong {gap.error_ratio:.1f} times as often as "
        f"**{gap.best_name}**"
        if gap.error_ratio is not None
        else f"it made no mistakes at all on **{gap.best_name}**"
    )
    st.markdown(
        f"Best class: **{gap.best_name}** at {gap.best_accuracy:.1%}. Worst class: "
        f"**{gap.worst_name}** at {gap.worst_accuracy:.1%}. The gap is "
        f"**{gap.gap * 100:.1f} percentage points**, and {ratio}."
    )
    if gap.worst_accuracy == 0.0:
        st.info(md(T.ONE_CLASS_NOTE), icon="ℹ️")
    st.markdown(md(T.PER_CLASS_BRIDGE))


# The synthetic groups' parameters, one column of sliders per group.
def group_params_ui() -> dict[str, E.ScoreParams]:
    groups = {}
    with st.expander("Adjust the synthetic groups", expanded=False):
        for column, (name, default) in zip(
            st.columns(len(E.DEFAULT_GROUPS)), E.DEFAULT_GROUPS.items(), strict=True
        ):
            prefix = f"bp_{GROUP_KEYS[name]}"
            with column:
                st.markdown(f"**{name}**")
                groups[name] = E.ScoreParams(
                    genuine_mean=_score_slider("Genuine mean", default.genuine_mean, prefix),
                    genuine_sd=_spread_slider("Genuine spread (sd)", default.genuine_sd, prefix),
                    impostor_mean=_score_slider("Impostor mean", default.impostor_mean, prefix),
                    impostor_sd=_spread_slider("Impostor spread (sd)", default.impostor_sd, prefix),
                )
    return groups


def _score_slider(label: str, value: float, prefix: str) -> float:
    key = f"{prefix}_{label.split()[0].lower()}_mean"
    return st.slider(label, C.SCORE_MIN, C.SCORE_MAX, value, C.SCORE_STEP, format="%.2f", key=key)


def _spread_slider(label: str, value: float, prefix: str) -> float:
    key = f"{prefix}_{label.split()[0].lower()}_sd"
    return st.slider(
        label, C.SPREAD_MIN, C.SPREAD_MAX, value, C.SPREAD_STEP, format="%.2f", key=key
    )


# One threshold for everyone: the per-group error rates it produces.
def threshold_ui() -> None:
    st.warning(md(T.THRESHOLD_SYNTHETIC), icon="🧪")
    groups = group_params_ui()
    threshold = st.slider(
        'Match threshold (score ≥ threshold → "same person")',
        C.SCORE_MIN,
        C.SCORE_MAX,
        C.DEFAULT_THRESHOLD,
        C.SCORE_STEP,
        format="%.2f",
        key="bp_threshold",
    )
    exact = {name: E.analytic_error_rates(p, threshold) for name, p in groups.items()}
    caption = (
        f"Two panels, one per synthetic group: bell curves of genuine-pair scores (solid) and "
        f"impostor-pair scores (dashed), with the threshold at {threshold:.2f} as a vertical "
        "line. Shaded: impostor scores at or above the threshold (false matches) and genuine "
        "scores below it (false non-matches)."
    )
    chart(EC.score_chart(groups, threshold), caption)
    for column, (name, rates) in zip(st.columns(len(exact)), exact.items(), strict=True):
        for label, rate in (
            ("false-match rate", rates.false_match_rate),
            ("false-non-match rate", rates.false_non_match_rate),
        ):
            column.metric(
                f"{name}: {label}",
                E.describe_rate(rate, one_in=False),
                help=f"{E.describe_rate(rate)} of the comparisons",
            )
    st.markdown(_comparison(exact, threshold))
    st.markdown(_crossing(groups))
    st.dataframe(_rates_table(groups, exact, threshold), hide_index=True, width="stretch")
    st.caption(md(T.THRESHOLD_METHOD))


def _comparison(exact: dict[str, E.ErrorRates], threshold: float) -> str:
    # Say which group one threshold treats worse, and by how much, for each kind of error.
    lines = [f"With one threshold at **{threshold:.2f}** for everyone:"]
    for attr, who, what in (
        ("false_match_rate", "impostors", "falsely matched"),
        ("false_non_match_rate", "genuine users", "falsely rejected"),
    ):
        (hi, hi_rate), (lo, lo_rate) = sorted(
            ((name, getattr(rates, attr)) for name, rates in exact.items()), key=lambda p: -p[1]
        )
        ratio = E.rate_ratio(hi_rate, lo_rate)
        if hi_rate <= 0:
            lines.append(f"- no {who} are {what} in either group.")
        elif ratio is None:
            lines.append(f"- {who} from {hi} are sometimes {what}; those from {lo} never are.")
        elif ratio < C.ABOUT_EQUAL_RATIO:
            lines.append(f"- {who} from both groups are {what} about equally often.")
        else:
            lines.append(
                f"- {who} from **{hi}** are {what} **{E.format_ratio(ratio)}** as often as "
                f"{who} from {lo} ({E.describe_rate(hi_rate, one_in=False)} vs "
                f"{E.describe_rate(lo_rate, one_in=False)})."
            )
    return "\n".join(lines)


def _crossing(groups: dict[str, E.ScoreParams]) -> str:
    # Where (if anywhere) one threshold gives both groups the same false-match rate.
    (a_name, a), (b_name, b) = groups.items()
    t = E.equal_false_match_threshold(a, b)
    if t is None:
        if a.impostor_mean == b.impostor_mean:
            return "The impostor curves are identical: equal false-match rates at every threshold."
        higher = a_name if a.impostor_mean > b.impostor_mean else b_name
        return (
            "The impostor curves have the same spread, so no threshold gives equal false-match "
            f"rates: **{higher}** always has more."
        )
    wider, narrower = (a_name, b_name) if a.impostor_sd > b.impostor_sd else (b_name, a_name)
    if not C.SCORE_MIN <= t <= C.SCORE_MAX:
        more = wider if t < C.SCORE_MIN else narrower
        return (
            f"The impostor curves' tails cross only at {t:.2f}, outside the score range, so "
            f"between {C.SCORE_MIN:.0f} and {C.SCORE_MAX:.0f} **{more}** always has more false "
            "matches."
        )
    at_t = {name: E.analytic_error_rates(p, t) for name, p in groups.items()}
    fmr = E.describe_rate(at_t[a_name].false_match_rate, one_in=False)
    fnmr_a, fnmr_b = (
        E.describe_rate(at_t[name].false_non_match_rate, one_in=False) for name in (a_name, b_name)
    )
    return (
        f"The impostor curves' tails cross at **{t:.3f}** (try the threshold at {t:.2f}): "
        "with the threshold exactly there, both "
        f"false-match rates are {fmr}, yet the false-non-match rates are {fnmr_a} ({a_name}) "
        f"vs {fnmr_b} ({b_name}). Above it **{wider}** (wider spread) has more false matches, "
        f"below it **{narrower}**."
    )


def _rates_table(
    groups: dict[str, E.ScoreParams], exact: dict[str, E.ErrorRates], threshold: float
) -> list[dict]:
    rows = []
    for i, (name, params) in enumerate(groups.items()):
        rng = np.random.default_rng(C.SIMULATION_SEED + i)
        genuine, impostor = E.sample_scores(params, C.SIMULATED_PAIRS, rng)
        measured = E.empirical_error_rates(genuine, impostor, threshold)
        rows.append(
            {
                "group": name,
                "false match (exact)": f"{exact[name].false_match_rate:.4%}",
                f"false match ({C.SIMULATED_PAIRS:,} simulated)": (
                    f"{measured.false_match_rate:.2%}"
                ),
                "false non-match (exact)": f"{exact[name].false_non_match_rate:.4%}",
                f"false non-match ({C.SIMULATED_PAIRS:,} simulated)": (
                    f"{measured.false_non_match_rate:.2%}"
                ),
            }
        )
    return rows


# Membership inference on the student's own run: seen vs unseen images.
def membership_ui(view: dict, info: RunInfo) -> None:
    members, others = view["member_conf"], view["nonmember_conf"]
    gap, attack, chance = view["gap"], view["attack"], view["chance"]
    st.caption(f"Run: {info.label}")
    top, bottom = st.columns(2), st.columns(2)
    top[0].metric("Mean confidence, training images", f"{gap.member_mean:.1%}")
    top[1].metric("Mean confidence, test images", f"{gap.nonmember_mean:.1%}")
    bottom[0].metric("Gap of the means", f"{gap.mean_gap * 100:+.1f} pts")
    bottom[1].metric("Gap of the medians", f"{gap.median_gap * 100:+.1f} pts")
    chart(
        EC.confidence_chart(members, others),
        f"Two histograms of the model's confidence in the true class: above, {gap.n_members:,} "
        f"training images it learned from; below, {gap.n_nonmembers:,} test images it never "
        f"saw. Mean {gap.member_mean:.1%} vs {gap.nonmember_mean:.1%}; median "
        f"{gap.member_median:.1%} vs {gap.nonmember_median:.1%}.",
    )
    st.markdown(md(T.MEMBERSHIP_ATTACK))
    rule = (
        "never guess member"
        if not np.isfinite(attack.threshold)
        else f"guess member if confidence ≥ {attack.threshold:.3f}"
    )
    cols = st.columns(2)
    cols[0].metric("Best simple attack: balanced accuracy", f"{attack.accuracy:.1%}", help=rule)
    cols[1].metric(
        "Same attack on shuffled labels (chance)",
        f"{chance:.1%}",
        help=f"{C.CHANCE_QUANTILE:.0%} of {C.CHANCE_SHUFFLES} shuffles of the two sets stay below this.",
    )
    st.markdown(
        f"Best rule: *{rule}*. It labels {attack.member_hit_rate:.0%} of the training images "
        f"as members and {attack.nonmember_hit_rate:.0%} of the test images as non-members."
    )
    epochs = view.get("epochs")
    trained = f"This run trained for {epochs} epoch(s). " if epochs else ""
    small = E.membership_gap_is_small(gap, attack, chance)
    st.info(md(trained + (T.MEMBERSHIP_SMALL if small else T.MEMBERSHIP_LARGE)), icon="🔎")
    # The same run's model card says all this in one document: per-class accuracy with its
    # uncertainty, the train–test gap and what it means, and what the model must not be used for.
    st.markdown(md(T.MODEL_CARD_TEXT))
    try:
        run = load_saved_run(str(get_store().root), info.run_id).run
    except RunStoreError as exc:
        st.caption(f"Its model card cannot be made: {exc}")
        return
    # The card uses the data set only to name the loaded source and count its training images
    # when the run did not record them: passed only if already loaded, never loaded for it (this
    # page works without CIFAR-10). Without it the card says what it does not know.
    data = shared_data() if shared_data_ready() else None
    model_card_buttons(run, data, "bp_card")


# The quiz: one radio per question, feedback once answered (right and wrong answers explained).
# The options are shuffled once per session, so the right answer is not always first.
def quiz_ui() -> None:
    if QUIZ_SEED_KEY not in st.session_state:
        st.session_state[QUIZ_SEED_KEY] = secrets.randbelow(C.QUIZ_SEEDS)
    for number, item in enumerate(T.shuffled_quiz(st.session_state[QUIZ_SEED_KEY]), start=1):
        labels = [option.text for option in item.options]
        choice = st.radio(
            md(f"{number}. {item.question}"),
            labels,
            index=None,
            key=f"bp_quiz_{item.key}",
        )
        if choice is None:
            continue
        option = item.options[labels.index(choice)]
        if option.correct:
            st.success(md(option.feedback), icon="✅")
        else:
            st.warning(md(option.feedback), icon="↩️")


def main() -> None:
    st.title(T.TITLE)
    st.markdown(md(T.INTRO))
    store = get_store()

    for section in (T.FACES, T.CLEARVIEW, T.ACCURACY):
        st.header(section.title)
        st.markdown(md("\n\n".join(section.paragraphs)))

    st.subheader(T.PER_CLASS_TITLE)
    st.markdown(md(T.PER_CLASS_INTRO))
    info = run_picker_ui(store)
    view = run_view_ui(store, info)
    if view is not None:
        per_class_ui(view)

    st.subheader(T.THRESHOLD_TITLE)
    st.markdown(md(T.THRESHOLD_INTRO))
    threshold_ui()

    st.header(T.MEMORY.title)
    st.markdown(md("\n\n".join(T.MEMORY.paragraphs)))
    st.subheader(T.MEMBERSHIP_TITLE)
    st.markdown(md(T.MEMBERSHIP_INTRO))
    if view is not None and info is not None:
        membership_ui(view, info)
    else:
        st.info("This part needs a saved run — see *Your model is not equally good* above.")

    for section in (T.BEYOND, T.RESPONSIBLE):
        st.header(section.title)
        st.markdown(md("\n\n".join(section.paragraphs)))

    st.header(T.DISCUSSION_TITLE)
    st.markdown(md("\n".join(f"{i}. {q}" for i, q in enumerate(T.DISCUSSION_QUESTIONS, 1))))

    st.header(T.QUIZ_TITLE)
    quiz_ui()

    st.header(T.REFERENCES_TITLE)
    st.markdown(md("\n".join(f"- {ref.markdown()}" for ref in T.REFERENCES)))


main()
