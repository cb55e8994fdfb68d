"""The English parse behind the syntax features of short answers (rag.syntax), with the real spaCy model."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from rag import spans, syntax
from rag.spans import ENGLISH_SPAN_WEIGHTS, SPAN_FEATURES, SPAN_WEIGHTS, best_span, span_candidates
from rag.syntax import SYNTAX_FEATURES, syntax_features

QUESTION = "What does the UMC oppose as incompatible with the teaching of Scripture?"
SENTENCE = "The United Methodist Church opposes conscription as incompatible with the teaching of Scripture."


def _row(question: str, text: str, phrase: str, qtype: str = "other") -> dict[str, float]:
    start = text.index(phrase)
    row = syntax_features(question, text, [(start, start + len(phrase))], qtype)[0]
    return dict(zip(SYNTAX_FEATURES, row.tolist(), strict=True))


def test_the_parser_loads_from_the_installed_package_with_the_network_unreachable(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    syntax._nlp.cache_clear()
    syntax._parse.cache_clear()
    try:
        assert syntax.available()
        doc = syntax._parse("Meloni visited Seoul.")
        assert doc is not None and [t.dep_ for t in doc][:2] == ["nsubj", "ROOT"]
    finally:
        syntax._parse.cache_clear()


def test_the_object_of_the_questions_verb_plays_the_question_words_role():
    row = _row(QUESTION, SENTENCE, "conscription")
    assert row["syn_chunk"] and row["syn_noun_head"] and row["syn_ends_noun"]
    assert row["syn_role"]  # "what" is the object of "oppose", "conscription" the object of "opposes"
    assert row["syn_gov_q"] and row["syn_under_verb"]  # it depends on "opposes", the question's verb
    subject = _row(QUESTION, SENTENCE, "The United Methodist Church")
    assert subject["syn_chunk"] and subject["syn_entity"] and not subject["syn_role"]


def test_a_phrase_across_constituents_is_marked_and_a_named_entity_of_the_asked_kind_is_typed():
    text = "During the talks, Prime Minister Giorgia Meloni invited Lee to Rome."
    across = _row("Who invited Lee to Rome?", text, "talks, Prime")
    assert across["syn_cross"] and not across["syn_subtree"]
    name = _row("Who invited Lee to Rome?", text, "Giorgia Meloni", qtype="person")
    assert name["syn_entity"] and name["syn_entity_typed"] and name["syn_role"]  # the subject, as "who" is
    assert not _row("Who invited Lee to Rome?", text, "Rome", qtype="person")["syn_entity_typed"]


def test_offsets_that_are_not_word_edges_give_a_row_that_crosses_words():
    row = _row(QUESTION, SENTENCE, "nscription as")
    assert row["syn_cross"] and sum(row.values()) == 1.0


def test_the_span_features_carry_the_syntax_columns_only_for_an_english_question_on_english_text():
    _, feats, _ = span_candidates(QUESTION, [SENTENCE], "en")
    cols = [SPAN_FEATURES.index(f) for f in SYNTAX_FEATURES]
    assert feats[:, cols].any()
    _, german_question, _ = span_candidates(
        "Was lehnt die Kirche als unvereinbar mit der Schrift ab?", [SENTENCE], "en", question_language="de"
    )
    assert not german_question[:, cols].any()
    _, german_text, _ = span_candidates("Wen lud Meloni ein?", ["Meloni lud Lee nach Rom ein."], "de")
    assert not german_text[:, cols].any()


def _scores_seen(monkeypatch) -> list[np.ndarray]:
    seen: list[np.ndarray] = []
    real = spans.choose_span

    def spy(scores, bounds, *args):
        seen.append(scores)
        return real(scores, bounds, *args)

    monkeypatch.setattr(spans, "choose_span", spy)
    return seen


def _scores(weights: dict[str, float], *args, **kwargs) -> np.ndarray:
    _, feats, _ = span_candidates(*args, **kwargs)
    return feats @ np.array([weights.get(f, 0.0) for f in SPAN_FEATURES])


def test_english_questions_on_english_text_are_scored_with_the_english_weights(monkeypatch):
    seen = _scores_seen(monkeypatch)
    best_span(QUESTION, [SENTENCE], "en")
    assert np.allclose(seen[-1], _scores(ENGLISH_SPAN_WEIGHTS, QUESTION, [SENTENCE], "en"))
    german = "Was lehnt die Kirche als unvereinbar mit der Schrift ab?"
    best_span(german, [SENTENCE], "en", question_language="de")
    assert np.allclose(seen[-1], _scores(SPAN_WEIGHTS, german, [SENTENCE], "en", question_language="de"))


def test_without_the_parser_answers_still_come_with_the_weights_of_before(monkeypatch):
    monkeypatch.setattr(syntax, "_parse", lambda text: None)
    monkeypatch.setattr(spans, "syntax_available", lambda: False)
    assert not syntax_features(QUESTION, SENTENCE, [(0, 3)], "other").any()
    _, feats, _ = span_candidates(QUESTION, [SENTENCE], "en")
    assert not feats[:, [SPAN_FEATURES.index(f) for f in SYNTAX_FEATURES]].any()
    seen = _scores_seen(monkeypatch)
    found = best_span(QUESTION, [SENTENCE], "en")
    assert found is not None and found[1].text in SENTENCE
    assert np.allclose(seen[-1], _scores(SPAN_WEIGHTS, QUESTION, [SENTENCE], "en"))


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        (
            "What are clades?",
            "The study found two unknown clades (genetic branches) of the genome.",
            "genetic branches",
        ),
        (
            "What did Lee and Meloni sign?",
            "Lee and Meloni signed a memorandum of understanding on space cooperation.",
            "a memorandum of understanding on space cooperation",
        ),
    ],
)
def test_short_answers_read_with_the_parse(question, sentence, expected):
    found = best_span(question, [sentence], "en")
    assert found is not None and found[1].text == expected
