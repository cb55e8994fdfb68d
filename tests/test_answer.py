"""Tests for rag.query.answer: citations, the sentence candidates handed to the reader, and the
versioned sentence-weights file they are scored with."""

from __future__ import annotations

import json

import pytest

from rag.errors import ModelError
from rag.index.embed import FakeEmbedder
from rag.index.sentences import is_heading
from rag.index.store import Index
from rag.query.answer import WEIGHTS_FILE, cite, sentence_candidates, sentence_weights
from rag.query.question import Query
from rag.query.reader import FakeReader
from rag.query.retrieve import Retriever
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


def _ranked(retriever: Retriever, question: str):
    return retriever.rank(FakeEmbedder().embed_queries([question])[0], question)


def test_candidates_are_sentences_of_the_best_chunks_with_all_features(retriever):
    question = "How many memoranda of understanding were signed?"
    ranked = _ranked(retriever, question)
    cands = sentence_candidates(retriever, ranked, Query.build(question))
    assert cands and [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    chunks = ranked.order[: int(sentence_weights()["candidate_chunks"])]
    allowed = {s for cid in chunks for s in retriever.chunk_sentences[cid]}
    assert {c.sentence_id for c in cands} <= allowed
    assert len({c.sentence_id for c in cands}) == len(cands)  # each sentence once
    for c in cands:
        assert set(c.features) == set(sentence_weights()["features"])
        assert c.chunk_id in chunks and c.sentence_id in retriever.chunk_sentences[c.chunk_id]
        assert 0.0 <= c.features["lexical_rel"] <= 1.0 + 1e-9
        assert 0.0 <= c.features["context"] <= 1.0 + 1e-9
        assert c.features["passage"] <= 1e-9 and 0.0 <= c.features["top"] <= 1.0
    read = [retriever.index.sentences[c.sentence_id].text for c in cands[: FakeReader.windows]]
    assert any("three memorand" in text for text in read)  # among the sentences the reader reads


def test_the_question_as_a_passage_and_the_language_pick_feature_and_weights(retriever):
    question = "How many memoranda of understanding were signed?"
    embedder = FakeEmbedder()
    ranked = retriever.rank(embedder.embed_queries([question])[0], question)
    query = Query.build(question)
    passage = embedder.embed_documents(["memoranda signed at the summit"])[0]
    config = sentence_weights()
    for cross, weights in ((False, config["same_language"]), (True, config["other_language"])):
        cands = sentence_candidates(retriever, ranked, query, passage_vector=passage, cross=cross)
        for c in cands:
            expected = float(retriever.sentence_vectors[c.sentence_id] @ passage)
            assert c.features["symmetric"] == pytest.approx(expected)
            assert c.score == pytest.approx(sum(weights[f] * c.features[f] for f in weights))
    plain = sentence_candidates(retriever, ranked, query)  # no passage form: the query's cosine
    assert all(c.features["symmetric"] == c.features["dense"] for c in plain)


def test_no_ranked_chunk_means_no_candidate(retriever):
    question = "How many memoranda of understanding were signed?"
    ranked = _ranked(retriever, question)
    ranked.order = []
    assert sentence_candidates(retriever, ranked, Query.build(question)) == []


def test_the_shipped_sentence_weights_file_is_versioned_and_complete():
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    assert data["format"] == "rag-sentence-weights v1" and data["fitted_by"]
    config = sentence_weights()
    assert config == data
    for key in ("same_language", "other_language"):
        assert set(config[key]) == set(config["features"])
    assert int(config["candidate_chunks"]) >= 1 and float(config["top_ramp"]) > 0


_GOOD = {
    "features": ["dense", "top"],
    "same_language": {"dense": 1.0, "top": 1.0},
    "other_language": {"dense": 1.0, "top": 1.0},
    "top_ramp": 0.02,
    "lexical_reliable": 0.3,
    "candidate_chunks": 4,
}


@pytest.mark.parametrize(
    "content",
    [
        None,  # missing
        "{not json",
        "[]",
        json.dumps({k: v for k, v in _GOOD.items() if k != "other_language"}),
        json.dumps(_GOOD | {"same_language": {"dense": 1.0}}),  # a feature left unweighed
        json.dumps(_GOOD | {"other_language": {"dense": 1.0, "top": 1.0, "extra": 2.0}}),
        json.dumps({k: v for k, v in _GOOD.items() if k != "candidate_chunks"}),
        json.dumps(_GOOD | {"top_ramp": "wide"}),
    ],
)
def test_a_damaged_sentence_weights_file_is_a_model_error_naming_it(tmp_path, content):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_GOOD), encoding="utf-8")
    assert sentence_weights(good) == _GOOD  # the check passes a whole file
    path = tmp_path / "sentence-weights-v1.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError) as err:
        sentence_weights(path)
    assert str(path) in str(err.value) and "git checkout -- rag/models/" in str(err.value)


def test_a_title_is_never_an_answer_candidate(tmp_path):
    # The seeds' only short heading was the photo credit "(Yonhap)", furniture (no sentence) since
    # issue 24: the seeds and an article with a short title of its own.
    import shutil

    from rag.config import Settings
    from rag.index.indexer import build_index
    from tests.conftest import SEED_DIR

    shutil.copytree(SEED_DIR, tmp_path / "articles")
    note = "Seoul summit\n\nThe two leaders met in Seoul on Monday and agreed to expand trade in chips.\n"
    (tmp_path / "articles" / "summit-note.txt").write_text(note, encoding="utf-8")
    settings = Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index", model="fake")
    settings = settings.with_(cache_dir=tmp_path / "cache")
    build_index(settings, embedder=FakeEmbedder())
    retriever = Retriever(Index.open(settings.index_dir))
    index = retriever.index
    titles = {i for i, s in enumerate(index.sentences) if is_heading(s.text)}
    assert titles, "the articles hold short title lines"
    question = index.sentences[min(titles)].text  # the title word for word: its best match
    ranked = retriever.rank(FakeEmbedder().embed_queries([question])[0], question)
    title_chunks = {c for c in range(len(index.chunks)) if set(retriever.chunk_sentences[c]) & titles}
    assert ranked.order[0] in title_chunks
    cands = sentence_candidates(retriever, ranked, Query.build(question))
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
    cands = sentence_candidates(retriever, ranked, Query.build(question))
    assert cands and not {c.sentence_id for c in cands} & headlines
