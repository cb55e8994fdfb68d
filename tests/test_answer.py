"""Tests for rag.answer: question types, typed phrases, short answers, sentence choice, citations."""

from __future__ import annotations

import pytest

from rag.answer import (
    DATE,
    ENTITY,
    NUMBER,
    OTHER,
    PERSON,
    PLACE,
    Candidate,
    choose_sentences,
    cite,
    pick_short_answer,
    question_type,
    sentence_candidates,
    typed_spans,
)
from rag.embed import FakeEmbedder
from rag.retrieve import Retriever
from rag.store import Index
from rag.types import Article


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many memoranda were signed?", NUMBER),
        ("How much did trade grow?", NUMBER),
        ("How old was Manning when he played?", NUMBER),  # the first question word decides
        ("What is the population of Milan?", NUMBER),
        ("When did Meloni arrive?", DATE),
        ("In which year will they mark 140 years?", DATE),
        ("Who visited Seoul?", PERSON),
        ("Whose offer did Meloni pass on?", PERSON),
        ("Where did they meet in June?", PLACE),
        ("Which country was the first stop?", PLACE),  # "which" + a place noun
        ("Which Italian president held a summit?", PERSON),
        ("Which business forum will they activate?", ENTITY),
        ("Why did Lee thank Italy?", OTHER),
        ("Wie viele Absichtserklärungen wurden unterzeichnet?", NUMBER),
        ("Wie viel kostet ein Ticket?", NUMBER),
        ("Wann trafen sich Lee und Meloni?", DATE),
        ("Wer ist der Außenminister?", PERSON),
        ("Wo fand das Treffen statt?", PLACE),
        ("Welches Land war die erste Station?", PLACE),
        ("Welche Rolle spielte Italien?", ENTITY),
        ("멜로니 총리의 딸은 누구인가요?", PERSON),
        ("정상회담은 언제 열렸나요?", DATE),
        ("회담은 어디에서 열렸나요?", PLACE),
        ("양해각서는 몇 건 체결되었나요?", NUMBER),
        ("교역 규모는 얼마였나요?", NUMBER),
        ("어느 나라에서 왔나요?", PLACE),
        ("무슨 산업이 논의되었나요?", ENTITY),
    ],
)
def test_question_type_in_three_languages(question, expected):
    assert question_type(question) == expected


def test_numbers_keep_currency_multiplier_and_percent():
    text = "Trade rose from $8.08 billion to $12.6 billion, up 56%, with 1,200 firms and three MOUs."
    assert [p.text for p in typed_spans(text, NUMBER)] == [
        "$8.08 billion",
        "$12.6 billion",
        "56%",
        "1,200",
        "three",
    ]


def test_dates_in_english_german_and_korean():
    spans = [
        p.text
        for p in typed_spans("On January 19, 2026 (Monday), am 19. Januar 2026, 2024년 1월 19일.", DATE)
    ]
    assert spans == ["January 19, 2026", "Monday", "19. Januar 2026", "2024년 1월 19일"]


def test_names_are_runs_of_capitalised_words_with_connectors():
    text = "An agreement between Korea Heritage Service and the Italian Ministry of Culture was signed."
    names = [p.text for p in typed_spans(text, PERSON)]
    assert "Korea Heritage Service" in names and "Italian Ministry of Culture" in names


def test_short_answer_leaves_out_the_question_words():
    text = "Italian President Sergio Mattarella was on a state visit to South Korea."
    phrase = pick_short_answer(text, ENTITY, "Which Italian president made a state visit?", [(18, 27)])
    assert phrase is not None and phrase.text == "Sergio Mattarella"


def test_short_answer_is_the_number_nearest_the_question_words():
    text = "In 2012 trade was $8.08 billion; it climbed to $12.6 billion in 2024."
    start = text.index("2024")
    phrase = pick_short_answer(text, NUMBER, "How large was the trade volume in 2024?", [(start, start + 4)])
    assert phrase is not None and phrase.text == "$12.6 billion"


def test_short_answer_for_percent_questions_prefers_percentages():
    text = "Of its 711,988 inhabitants, 56.2% were Catholic."
    phrase = pick_short_answer(
        text, NUMBER, "What percentage was Catholic?", [(text.index("Catholic"), len(text) - 1)]
    )
    assert phrase is not None and phrase.text == "56.2%"


def test_no_short_answer_for_untyped_questions():
    assert (
        pick_short_answer("Lee thanked Italy for its support.", OTHER, "Why did Lee thank Italy?", []) is None
    )


def test_short_answer_skips_a_sentence_initial_ordinary_word():
    text = "During the talks, Meloni invited Lee."
    phrase = pick_short_answer(text, PERSON, "Who invited Lee?", [(text.index("Lee"), len(text) - 1)])
    assert phrase is not None and phrase.text == "Meloni"


def _article(text: str = "Hello there. Bye now.") -> Article:
    return Article(id="a1", location="a.txt", title="T", text=text, language="en", source="Wire")


def test_citation_quotes_the_article_exactly():
    c = cite(_article(), 13, 21)
    assert c.quote == "Bye now." == _article().text[c.start : c.end]
    assert (c.article_id, c.source, c.language) == ("a1", "Wire", "en")


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (5, 5), (0, 999), (10, 4)])
def test_citation_outside_the_article_is_refused(start, end):
    with pytest.raises(ValueError, match="outside article"):
        cite(_article(), start, end)


@pytest.fixture(scope="module")
def retriever(fake_seed_index) -> Retriever:
    return Retriever(Index.open(fake_seed_index.index_dir))


def test_candidates_are_sentences_of_the_best_chunks_with_all_features(retriever):
    question = "How many memoranda of understanding were signed?"
    ranked = retriever.rank(FakeEmbedder().embed_queries([question])[0], question)
    cands = sentence_candidates(retriever, ranked, question, question_type(question))
    assert cands and [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    allowed = {s for cid in ranked.order[:4] for s in retriever.chunk_sentences[cid]}
    assert {c.sentence_id for c in cands} <= allowed
    for c in cands:
        assert {"dense", "lexical", "lexical_rel", "context", "type", "passage", "top"} <= set(c.features)
        assert 0.0 <= c.features["lexical"] <= 1.0 + 1e-9
    best = retriever.index.sentences[cands[0].sentence_id].text
    assert "three memorand" in best
    assert cands[0].phrase is not None and cands[0].phrase.text == "three"


def _cand(sid: int, score: float) -> Candidate:
    return Candidate(sentence_id=sid, chunk_id=0, features={}, phrase=None, score=score)


def test_neighbour_is_added_only_when_the_scores_cannot_tell_them_apart(retriever):
    first = retriever.index.sentence_ids(next(iter(retriever.index.articles)))[3]
    close = [_cand(first, 10.0), _cand(first + 1, 9.9), _cand(first + 5, 2.0), _cand(first + 7, 1.0)]
    assert [c.sentence_id for c in choose_sentences(close, retriever.index)] == [first, first + 1]
    far = [_cand(first, 10.0), _cand(first - 1, 4.0), _cand(first + 5, 3.9), _cand(first + 7, 1.0)]
    assert [c.sentence_id for c in choose_sentences(far, retriever.index)] == [first]
    not_adjacent = [_cand(first, 10.0), _cand(first + 2, 9.9), _cand(first + 5, 2.0)]
    assert [c.sentence_id for c in choose_sentences(not_adjacent, retriever.index)] == [first]
