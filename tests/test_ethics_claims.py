"""The bias & privacy text says what its sources say (issue 12), and the quiz is shuffled."""

from __future__ import annotations

import re

from cifar_core.bias_privacy import content as T

MEMBERSHIP_QUIZ = next(item for item in T.QUIZ if item.key == "membership")
# Everything the page says about the train-vs-test confidence demo.
GAP_TEXTS = (
    T.MEMBERSHIP_TITLE,
    T.MEMBERSHIP_INTRO,
    T.MEMBERSHIP_ATTACK,
    T.MEMBERSHIP_SMALL,
    T.MEMBERSHIP_LARGE,
    MEMBERSHIP_QUIZ.question,
    *(text for option in MEMBERSHIP_QUIZ.options for text in (option.text, option.feedback)),
)


def sentences(text: str) -> list[str]:
    # Split after . ! ? but not inside a citation's "et al."
    return re.split(r"(?<=[.!?])(?<!\bal\.)\s+", text)


def all_sentences() -> list[str]:
    return [sentence for text in T.all_texts() for sentence in sentences(text)]


def test_membership_inference_is_credited_to_shokri_and_yeom_not_carlini():
    cited: set[str] = set()
    for sentence in all_sentences():
        if "membership" in sentence.lower():
            keys = T.citations_in(sentence)
            assert "Carlini et al. 2019" not in keys, sentence
            cited.update(keys)
    assert {"Shokri et al. 2017", "Yeom et al. 2018"} <= cited
    refs = T.reference_by_key()
    assert "1610.05820" in refs["Shokri et al. 2017"].venue
    assert "Membership Inference Attacks" in refs["Shokri et al. 2017"].title
    assert "Connection to Overfitting" in refs["Yeom et al. 2018"].title
    # The threshold attack the page runs is Yeom et al.'s.
    assert "Yeom et al. 2018" in T.citations_in(T.MEMBERSHIP_ATTACK)


def test_carlini_planted_made_up_canaries_and_extracted_real_credit_card_numbers():
    memory = " ".join(T.MEMORY.paragraphs)
    assert "social security number" in memory and "canaries" in memory
    mentions = [s for s in all_sentences() if re.search(r"credit[- ]card", s, re.I)]
    assert mentions
    for sentence in mentions:
        assert "real" in sentence and "Enron" in sentence, sentence
        assert "made-up" not in sentence, sentence


def test_the_confidence_gap_is_called_overfitting_not_memorization():
    assert not re.search(r"remember|memori[sz]", T.MEMBERSHIP_TITLE, re.I)
    for text in (T.MEMBERSHIP_INTRO, T.MEMBERSHIP_SMALL, T.MEMBERSHIP_LARGE):
        assert "overfit" in text
    # Where these texts mention memorizing, they deny that the gap shows it, or they speak of
    # Carlini et al.'s planted secrets.
    for text in GAP_TEXTS:
        for sentence in sentences(text):
            if re.search(r"memori[sz]", sentence, re.I):
                carlini = "Carlini et al. 2019" in T.citations_in(sentence)
                assert carlini or re.search(r"\bnot\b", sentence), sentence


def test_dutch_dpa_decision_dates_and_the_article_9_breach():
    ref = T.reference_by_key()["Dutch DPA 2024"]
    bullet = next(line for line in T.CLEARVIEW.paragraphs[2].splitlines() if "Netherlands" in line)
    for text in (ref.venue, bullet):
        assert "16 May 2024" in text and "3 September 2024" in text, text
        assert "9(1)" in text, text
        assert re.search(r"\b15\b", text) and re.search(r"\b27\b", text), text
    assert "biometric" in bullet and "Dutch DPA 2024" in T.citations_in(bullet)


def test_face_verification_is_scored_by_error_rates_at_a_threshold():
    assert "same kind of metric" not in T.INTRO
    assert "false-match" in T.INTRO and "false-non-match" in T.INTRO
    assert "Grother et al. 2019" in T.citations_in(T.INTRO)


def test_per_violation_damages_mention_the_2024_amendment():
    texts = [text for text in T.all_texts() if re.search(r"per (negligent|violation)", text)]
    assert len(texts) >= 2  # the BIPA paragraph and the quiz feedback
    for text in texts:
        assert "BIPA amendment 2024" in T.citations_in(text), text
    ref = T.reference_by_key()["BIPA amendment 2024"]
    assert "103-0769" in ref.title and "103-0769" in ref.url


def _correct_positions(quiz: tuple[T.QuizItem, ...]) -> list[int]:
    return [next(i for i, o in enumerate(item.options) if o.correct) for item in quiz]


def test_shuffled_quiz_moves_the_right_answer_around():
    n_options = min(len(item.options) for item in T.QUIZ)
    for seed in range(200):
        quiz = T.shuffled_quiz(seed)
        positions = _correct_positions(quiz)
        # The first n_options questions use every position once, so they never all agree.
        assert sorted(positions[:n_options]) == list(range(n_options)), (seed, positions)
        for shuffled, original in zip(quiz, T.QUIZ, strict=True):
            assert shuffled.key == original.key and shuffled.question == original.question
            assert set(shuffled.options) == set(original.options)
            assert len(shuffled.options) == len(original.options)
    assert T.shuffled_quiz(3) == T.shuffled_quiz(3)  # one order per seed (per session)
    orders = {tuple(_correct_positions(T.shuffled_quiz(seed))) for seed in range(20)}
    assert len(orders) > 1  # and the seed matters
