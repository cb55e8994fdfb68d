"""Tests for rag.answer: sentence candidates and choice, citations, the names it re-exports."""

from __future__ import annotations

import pytest

from rag import spans
from rag.answer import (
    BASE_WEIGHTS,
    FEATURES,
    SENTENCE_WEIGHTS,
    Candidate,
    choose_sentences,
    cite,
    question_type,
    sentence_candidates,
)
from rag.embed import FakeEmbedder
from rag.retrieve import Retriever
from rag.sentences import is_heading
from rag.store import Index
from rag.types import Article


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
        assert set(FEATURES) <= set(c.features)
        assert 0.0 <= c.features["lexical"] <= 1.0 + 1e-9
    best = retriever.index.sentences[cands[0].sentence_id].text
    assert "three memorand" in best
    assert cands[0].phrase is not None and cands[0].phrase.text == "three"


def test_the_question_as_a_passage_and_the_language_pick_feature_and_weights(retriever):
    question = "How many memoranda of understanding were signed?"
    embedder = FakeEmbedder()
    ranked = retriever.rank(embedder.embed_queries([question])[0], question)
    qtype = question_type(question)
    passage = embedder.embed_documents(["memoranda signed at the summit"])[0]
    for cross, weights in ((False, SENTENCE_WEIGHTS), (True, BASE_WEIGHTS)):
        cands = sentence_candidates(retriever, ranked, question, qtype, passage_vector=passage, cross=cross)
        for c in cands:
            expected = float(retriever.sentence_vectors[c.sentence_id] @ passage)
            assert c.features["symmetric"] == pytest.approx(expected)
            assert c.score == pytest.approx(sum(weights[f] * c.features[f] for f in weights))
    plain = sentence_candidates(retriever, ranked, question, qtype)  # no passage form: the query's cosine
    assert all(c.features["symmetric"] == c.features["dense"] for c in plain)


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


def test_answer_still_offers_the_short_answer_names_other_modules_import():
    from rag import answer

    for name in ("question_type", "typed_spans", "pick_short_answer", "span_in_article", "Phrase", "TYPED"):
        assert getattr(answer, name) is getattr(spans, name)


def test_a_title_is_never_an_answer_candidate(retriever):
    index = retriever.index
    titles = {i for i, s in enumerate(index.sentences) if is_heading(s.text)}
    assert titles, "the seed articles hold short title lines"
    question = index.sentences[min(titles)].text  # the title word for word: its best match
    ranked = retriever.rank(FakeEmbedder().embed_queries([question])[0], question)
    title_chunks = {c for c in range(len(index.chunks)) if set(retriever.chunk_sentences[c]) & titles}
    assert ranked.order[0] in title_chunks
    cands = sentence_candidates(retriever, ranked, question, question_type(question))
    assert cands and not {c.sentence_id for c in cands} & titles


def test_an_article_s_own_headline_is_never_an_answer_candidate_however_long(retriever):
    index = retriever.index
    headlines = {
        i
        for i, s in enumerate(index.sentences)
        if " ".join(s.text.split()).casefold() == index.articles[s.article_id].title.casefold()
    }
    assert any(len(index.sentences[i].text.split()) > 3 for i in headlines), "seed headlines are long"
    assert not any(retriever.answering[i] for i in headlines)
    question = index.sentences[max(headlines, key=lambda i: len(index.sentences[i].text))].text
    ranked = retriever.rank(FakeEmbedder().embed_queries([question])[0], question)
    cands = sentence_candidates(retriever, ranked, question, question_type(question))
    assert cands and not {c.sentence_id for c in cands} & headlines
