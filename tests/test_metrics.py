"""Hand-made cases with known values for rag.metrics."""

from __future__ import annotations

import doctest
import math

import pytest

import rag.metrics as metrics
from rag.errors import ConfigError
from rag.metrics import (
    GroupSummary,
    abstention_rates,
    calibrate_threshold,
    contains_answer,
    exact_match,
    mean_recall_at_k,
    mean_reciprocal_rank,
    normalize_answer,
    percentile,
    recall_at_k,
    reciprocal_rank,
    summarize,
    token_f1,
)


def test_docstring_examples_hold():
    result = doctest.testmod(metrics)
    assert result.attempted > 0
    assert result.failed == 0


# --- normalisation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("The Blue House", "blue house"),
        ("  a   fan of   K-pop!  ", "fan of kpop"),
        ("$12.6 billion", "126 billion"),
        ("“Cortina d’Ampezzo”", "cortina dampezzo"),  # Unicode quotes
        ("Cortina d'Ampezzo", "cortina dampezzo"),
        ("2026–2030", "20262030"),  # en dash is Unicode punctuation
        ("Theater and another", "theater and another"),  # articles only as whole words
        ("die drei Absichtserklärungen", "die drei absichtserklärungen"),  # German articles kept
        ("서울에서, 회담을 했다.", "서울에서 회담을 했다"),
    ],
)
def test_normalize_answer_follows_squad_with_unicode_punctuation(raw, expected):
    assert normalize_answer(raw) == expected


# --- exact match and F1 -------------------------------------------------------------------------------


def test_perfect_answers_score_one():
    assert exact_match("$12.6 billion", ["$12.6 billion"]) == 1.0
    assert token_f1("$12.6 billion", ["$12.6 billion"]) == 1.0
    assert exact_match("the Blue House.", ["Blue House"]) == 1.0


def test_wrong_answers_score_zero():
    assert exact_match("Japan", ["Oman"]) == 0.0
    assert token_f1("Japan", ["Oman"]) == 0.0


def test_token_f1_of_partial_match_has_exact_value():
    # "the" is dropped: pred tokens [308, points], gold [308] -> P=1/2, R=1, F1=2/3
    assert token_f1("the 308 points", ["308"]) == pytest.approx(2 / 3)
    assert exact_match("the 308 points", ["308"]) == 0.0
    # pred [three, memoranda, of, understanding] vs gold [three]: P=1/4, R=1 -> 0.4
    assert token_f1("three memoranda of understanding", ["three"]) == pytest.approx(0.4)


def test_scores_take_the_best_gold():
    golds = ["19 years", "almost two decades", "nearly two decades"]
    assert exact_match("nearly two decades", golds) == 1.0
    # vs "almost two decades": pred [two, decades] -> P=1, R=2/3 -> F1=0.8
    assert token_f1("two decades", golds) == pytest.approx(0.8)


def test_korean_f1_uses_character_tokens():
    # pred 서,울,에,서 vs gold 서,울: common 2 -> P=2/4, R=1 -> F1=2/3
    assert token_f1("서울에서", ["서울"]) == pytest.approx(2 / 3)
    # whole-word tokens would give 0 here
    # 8 character tokens vs 3: P=3/8, R=1 -> F1=6/11
    assert token_f1("청와대에서 열렸다", ["청와대"]) == pytest.approx(6 / 11)
    assert metrics.tokens("2024년 K-pop") == ["2024", "년", "kpop"]


def test_unanswerable_gold_rewards_abstention_only():
    assert exact_match(None, []) == 1.0
    assert exact_match("", []) == 1.0
    assert token_f1(None, []) == 1.0
    assert exact_match("Milan", []) == 0.0
    assert token_f1("Milan", []) == 0.0
    # an abstention on an answerable question scores 0
    assert exact_match(None, ["Oman"]) == 0.0
    assert token_f1(None, ["Oman"]) == 0.0


def test_single_string_gold_is_one_answer_not_characters():
    assert exact_match("Oman", "Oman") == 1.0
    assert not contains_answer("a man", "a")


# --- containment -------------------------------------------------------------------------------------


def test_contains_answer_normalises_and_respects_word_edges():
    sentence = "Meloni noted South Korea's growing influence, remarking that her daughter is a fan of K-pop."
    assert contains_answer(sentence, ["k-pop"])
    assert contains_answer(sentence, ["nothing", "K-POP"])
    assert contains_answer("Rome was one of five countries.", ["five"])
    assert not contains_answer("She flew from Oman.", ["man"])
    assert contains_answer("die Aktivierung des Korea-Italien Business Forums", ["Business Forum"])
    assert not contains_answer("trade rose 12.65 times", ["12.6"])
    assert contains_answer("the two nations established formal diplomatic ties in 1956.", ["1956"])
    assert not contains_answer("in 19567", ["1956"])


def test_contains_answer_allows_korean_particles():
    assert contains_answer("정상회담은 서울에서 열렸다.", ["서울"])


def test_contains_answer_is_false_without_gold_or_text():
    assert not contains_answer("anything at all", [])
    assert not contains_answer("", ["Oman"])
    assert not contains_answer(None, ["Oman"])
    assert not contains_answer("anything", ["...", "the"])  # golds that normalise to nothing


# --- retrieval ---------------------------------------------------------------------------------------


def test_perfect_retrieval_scores_one():
    runs = [[True, False, False], [True, True, False]]
    assert mean_recall_at_k(runs, 1) == 1.0
    assert mean_reciprocal_rank(runs) == 1.0


def test_retrieval_with_no_hits_scores_zero():
    runs = [[False, False, False], []]
    assert mean_recall_at_k(runs, 3) == 0.0
    assert mean_reciprocal_rank(runs) == 0.0
    assert reciprocal_rank([]) == 0.0


def test_first_hit_at_rank_three():
    hits = [False, False, True, False, True]
    assert recall_at_k(hits, 1) == 0.0
    assert recall_at_k(hits, 2) == 0.0
    assert recall_at_k(hits, 3) == 1.0
    assert recall_at_k(hits, 10) == 1.0
    assert reciprocal_rank(hits) == pytest.approx(1 / 3)


def test_mean_retrieval_metrics_average_over_questions():
    runs = [[True], [False, True], [False, False, False, True]]
    assert mean_recall_at_k(runs, 1) == pytest.approx(1 / 3)
    assert mean_recall_at_k(runs, 2) == pytest.approx(2 / 3)
    assert mean_reciprocal_rank(runs) == pytest.approx((1 + 1 / 2 + 1 / 4) / 3)


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_recall_rejects_bad_k(k):
    with pytest.raises(ConfigError, match="at least 1"):
        recall_at_k([True], k)


def test_mean_metrics_reject_no_questions():
    with pytest.raises(ValueError):
        mean_recall_at_k([], 1)
    with pytest.raises(ValueError):
        mean_reciprocal_rank([])


# --- abstention --------------------------------------------------------------------------------------


def test_abstention_rates_count_each_class():
    answerable = [True, True, True, True, False, False]
    abstained = [False, False, False, True, True, False]
    rates = abstention_rates(answerable, abstained)
    assert rates["unanswerable_abstained"] == pytest.approx(0.5)
    assert rates["answerable_abstained"] == pytest.approx(0.25)
    assert rates["decision_accuracy"] == pytest.approx(4 / 6)
    assert rates["n_answerable"] == 4
    assert rates["n_unanswerable"] == 2


def test_abstention_rates_perfect_and_empty_groups():
    rates = abstention_rates([True, False], [False, True])
    assert rates["unanswerable_abstained"] == 1.0
    assert rates["answerable_abstained"] == 0.0
    only_answerable = abstention_rates([True, True], [False, False])
    assert only_answerable["unanswerable_abstained"] is None
    assert only_answerable["answerable_abstained"] == 0.0


def test_abstention_rates_reject_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        abstention_rates([True, False], [True])


def test_calibration_separates_a_separable_toy_set():
    unanswerable = [0.10, 0.25, 0.30]
    answerable = [0.55, 0.70, 0.90, 0.95]
    conf = unanswerable + answerable
    labels = [False] * 3 + [True] * 4
    t = calibrate_threshold(conf, labels)
    assert max(unanswerable) < t <= min(answerable)
    assert t == pytest.approx(0.425)
    rates = abstention_rates(labels, [c < t for c in conf])
    assert rates["unanswerable_abstained"] == 1.0
    assert rates["answerable_abstained"] == 0.0


def test_calibration_with_overlap_maximises_balanced_accuracy():
    conf = [0.1, 0.4, 0.6, 0.3, 0.7, 0.8, 0.9]
    labels = [False, False, False, True, True, True, True]
    # t=0.65: keeps 3/4 answerable, abstains 3/3 unanswerable -> 0.875, better than any other cut
    assert calibrate_threshold(conf, labels) == pytest.approx(0.65)


def test_calibration_with_required_abstention_share():
    conf = [0.1, 0.4, 0.6, 0.3, 0.7, 0.8, 0.9]
    labels = [False, False, False, True, True, True, True]
    # abstaining on >= 60% of unanswerable first holds at t=0.5 (2/3 refused, 3/4 kept);
    # t=0.65 keeps as many, and ties go to the lower threshold
    assert calibrate_threshold(conf, labels, min_unanswerable_abstained=0.6) == pytest.approx(0.5)
    # no requirement at all: never abstain
    assert calibrate_threshold(conf, labels, min_unanswerable_abstained=0.0) == pytest.approx(0.1)
    # everything must be refused among unanswerable -> above 0.6
    assert calibrate_threshold(conf, labels, min_unanswerable_abstained=1.0) == pytest.approx(0.65)


def test_calibration_when_all_confidences_are_equal_never_abstains():
    assert calibrate_threshold([0.5, 0.5], [True, False]) == 0.5


def test_calibration_rejects_a_single_class_and_bad_share():
    with pytest.raises(ValueError, match="both answerable and unanswerable"):
        calibrate_threshold([0.1, 0.2], [True, True])
    with pytest.raises(ConfigError, match="between 0 and 1"):
        calibrate_threshold([0.1, 0.2], [True, False], min_unanswerable_abstained=1.5)
    with pytest.raises(ValueError, match="finite"):
        calibrate_threshold([math.nan, 0.2], [True, False])


# --- latency and aggregation -------------------------------------------------------------------------


def test_percentiles_for_latency():
    lat = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert percentile(lat, 50) == pytest.approx(55.0)
    assert percentile(lat, 95) == pytest.approx(95.5)
    assert percentile([7.0], 95) == 7.0


def test_percentile_rejects_bad_input():
    with pytest.raises(ConfigError):
        percentile([1.0], 101)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summarize_groups_and_averages_skipping_missing_values():
    records = [
        {"language": "en", "corpus": "en", "em": 1.0, "hit": True},
        {"language": "en", "corpus": "de", "em": 0.0, "hit": False},
        {"language": "de", "corpus": "en", "em": None, "hit": True},
        {"language": "de", "corpus": "en", "em": 1.0, "hit": False},
    ]
    overall = summarize(records, metrics=["em", "hit"])
    assert overall == [GroupSummary(group=(), n=4, means={"em": pytest.approx(2 / 3), "hit": 0.5})]
    assert overall[0].label() == "all"

    by_lang = summarize(records, by=["language"], metrics=["em", "hit", "missing"])
    assert [(g.label(), g.n) for g in by_lang] == [("language=de", 2), ("language=en", 2)]
    assert by_lang[0].means == {"em": 1.0, "hit": 0.5, "missing": None}

    by_both = summarize(records, by=["language", "corpus"], metrics=["em"])
    assert [g.label() for g in by_both] == [
        "language=de corpus=en",
        "language=en corpus=de",
        "language=en corpus=en",
    ]


def test_summarize_of_no_records_is_empty():
    assert summarize([], by=["language"], metrics=["em"]) == []
