"""Tests for rag.present.render: terminal text and the JSON-ready dict."""

from __future__ import annotations

import json

from rag.present.render import ANSWER_KEYS, CITATION_KEYS, NO_ANSWER, answer_to_dict, format_answer
from rag.query.answer import cite
from rag.types import Answer, AnswerSentence, Article, Chunk, Hit, Span

TEXT = "Meloni met Lee in Seoul. They signed three memoranda of understanding on Monday."
ARTICLE = Article(id="a1", location="yonhap.txt", title="Lee meets Meloni", text=TEXT, language="en",
                  published="2026-01-19", source="Yonhap")  # fmt: skip
OTHER = Article(
    id="b2", location="ajp.txt", title="Summit", text="The leaders signed three MOUs.", language="en",
    source="AJP",
)  # fmt: skip


def _answer() -> Answer:
    start = TEXT.index("They")
    citation = cite(ARTICLE, start, len(TEXT))
    s = TEXT.index("three")
    sentence = AnswerSentence(
        text=citation.quote, citation=citation, short_answer=Span(s, s + 5, "three"), score=3.2
    )
    chunk = Chunk("a1", 0, len(TEXT), TEXT, 20, 0)
    return Answer(
        question="How many memoranda were signed?",
        sentences=(sentence,),
        also_reported=(cite(OTHER, 0, len(OTHER.text)),),
        confidence=0.87,
        hits=(Hit(chunk, 0.9, 0.8, 0.5),),
    )


def test_answer_text_has_quote_marker_emphasis_and_citation():
    out = format_answer(_answer())
    assert "“They signed «three» memoranda of understanding on Monday.” [1]" in out
    assert "Short answer: «three»" in out
    assert "[1] Lee meets Meloni — Yonhap, 2026-01-19, yonhap.txt, chars 25-80" in out
    assert "Also reported by:" in out and "Summit — AJP, date unknown, ajp.txt, chars 0-30" in out
    assert "confidence 0.87" in out


def test_abstention_says_the_articles_dont_say_and_lists_the_closest_passages():
    closest = (cite(ARTICLE, 0, 24), cite(OTHER, 0, len(OTHER.text)))
    out = format_answer(Answer(question="What is the population of Milan?", abstained=True, closest=closest,
                               confidence=0.1))  # fmt: skip
    assert out.startswith(NO_ANSWER)
    assert "Closest passages:" in out
    assert "[1] “Meloni met Lee in Seoul.”" in out and "[2]" in out


def test_abstention_without_passages():
    assert format_answer(Answer(question="?", abstained=True)).startswith(NO_ANSWER)


def test_short_answer_that_does_not_match_the_sentence_is_not_emphasised():
    a = _answer()
    bad = AnswerSentence(a.sentences[0].text, a.sentences[0].citation, Span(0, 3, "xyz"), 1.0)
    out = format_answer(Answer(question="q", sentences=(bad,), confidence=0.5))
    assert "«" not in out.splitlines()[0]


def test_dict_has_stable_keys_and_is_json_ready():
    d = answer_to_dict(_answer())
    assert tuple(d) == ANSWER_KEYS
    assert d["answer"] == "They signed three memoranda of understanding on Monday."
    assert d["short_answer"] == {"text": "three", "start": 37, "end": 42}
    assert tuple(d["sentences"][0]["citation"]) == CITATION_KEYS
    assert tuple(d["also_reported"][0]) == CITATION_KEYS
    assert d["sentences"][0]["citation"]["outlet"] == "Yonhap"
    assert d["hits"][0]["article_id"] == "a1"
    json.loads(json.dumps(d, ensure_ascii=False))


def test_dict_of_an_abstention():
    d = answer_to_dict(Answer(question="q", abstained=True, closest=(cite(OTHER, 4, 11),), confidence=0.2))
    assert d["abstained"] is True and d["answer"] is None and d["sentences"] == []
    assert d["closest"][0]["quote"] == "leaders"
