"""Tests for rag.query.retrieve: fused ranking, filters, near-duplicate suppression, language centring."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import ConfigError
from rag.index.embed import FakeEmbedder
from rag.index.indexer import build_index
from rag.index.store import Index
from rag.query.retrieve import (
    DUPLICATE_COSINE,
    OTHER_LANGUAGE_BONUS,
    UNKNOWN,
    Filters,
    Retriever,
    date_span,
    unmatched,
)


@pytest.fixture(scope="module")
def retriever(fake_seed_index) -> Retriever:
    return Retriever(Index.open(fake_seed_index.index_dir))


def _rank(retriever: Retriever, question: str, **kw):
    vector = FakeEmbedder().embed_queries([question])[0]
    return retriever.rank(vector, question, **kw)


def test_hits_are_ranked_best_first_and_unique(retriever):
    hits = _rank(retriever, "trade volume between South Korea and Italy in 2024").hits(10)
    assert 1 <= len(hits) <= 10
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk.id for h in hits}) == len(hits)
    assert "12.6 billion" in hits[0].chunk.text
    assert all(h.dense is not None and h.lexical is not None for h in hits)


def test_language_filter_keeps_only_that_language(retriever):
    hits = _rank(retriever, "Meloni summit", filters=Filters(language="de")).hits(10)
    assert hits
    assert {retriever.index.articles[h.chunk.article_id].language for h in hits} == {"de"}


def test_source_filter_is_a_case_insensitive_substring(retriever):
    outlets = {a.source for a in retriever.index.articles.values() if a.source}
    assert outlets, "the seed articles name at least one outlet"
    outlet = sorted(outlets)[0]
    hits = _rank(retriever, "Meloni summit", filters=Filters(source=outlet[1:-1].upper())).hits(10)
    assert hits
    assert {retriever.index.articles[h.chunk.article_id].source for h in hits} == {outlet}


def test_date_filter_excludes_articles_without_a_date(retriever):
    articles = retriever.index.articles
    undated = {aid for aid, a in articles.items() if not a.published}
    hits = _rank(retriever, "Meloni summit", filters=Filters(since="2000-01-01")).hits(50)
    assert hits
    assert not undated & {h.chunk.article_id for h in hits}
    assert all(articles[h.chunk.article_id].published >= "2000-01-01" for h in hits)


def test_date_range_is_inclusive_and_takes_partial_dates():
    f = Filters(since="2026-01", until="2026-01-19")
    assert f.admits("en", None, "2026-01-19")
    assert f.admits("en", None, "2026-01-01")
    assert not f.admits("en", None, "2025-12-31")
    assert not f.admits("en", None, "2026-01-20")
    assert not f.admits("en", None, None)
    assert Filters(until="2026").admits("en", None, "2026-12-31")


def test_filters_that_admit_nothing_give_no_hits(retriever):
    assert _rank(retriever, "Meloni", filters=Filters(source="no such outlet")).hits(10) == []


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "2026-02-30", "19.01.2026"])
def test_a_bad_date_is_refused_with_a_clear_message(bad):
    with pytest.raises(ConfigError, match="must be a date like 2026-01-19"):
        Filters(since=bad)


def test_since_after_until_is_refused():
    with pytest.raises(ConfigError, match="after"):
        Filters(since="2026-02-01", until="2026-01-01")


def test_near_duplicate_story_from_another_outlet_does_not_crowd_out_other_evidence(
    tmp_path, fake_seed_index
):
    articles = tmp_path / "articles"
    shutil.copytree(fake_seed_index.articles_dir, articles)
    original = (articles / "2026-01-19-yonhap-lee-meloni-trade.txt").read_text(encoding="utf-8")
    # The same wire story republished by another outlet: one line differs, so it is another article.
    (articles / "reprint-of-yonhap.txt").write_text(
        "Reprinted with permission.\n" + original, encoding="utf-8"
    )
    settings = Settings(
        articles_dir=articles, index_dir=tmp_path / "index", cache_dir=tmp_path / "c", model="fake"
    )
    build_index(settings, embedder=FakeEmbedder())
    retriever = Retriever(Index.open(settings.index_dir))
    assert len(retriever.index.articles) == 6
    hits = _rank(retriever, "trade volume between South Korea and Italy in 2024").hits(10)
    vectors = retriever.index.chunk_vectors
    for i, a in enumerate(hits):
        for b in hits[i + 1 :]:
            if a.chunk.article_id != b.chunk.article_id:
                assert float(vectors[a.chunk.id] @ vectors[b.chunk.id]) <= DUPLICATE_COSINE
    # Without the dedupe the reprinted chunk would be second: it is gone, and the better one stays first.
    assert "12.6 billion" in hits[0].chunk.text
    texts = [h.chunk.text for h in hits]
    assert sum("12.6 billion" in t for t in texts) == 1


def test_single_language_corpora_are_not_centred_and_get_no_language_bonus(tmp_path, fake_seed_index):
    articles = tmp_path / "articles"
    articles.mkdir()
    for f in fake_seed_index.articles_dir.iterdir():
        if not f.name.endswith(".de.txt"):
            shutil.copy(f, articles / f.name)
    settings = Settings(
        articles_dir=articles, index_dir=tmp_path / "index", cache_dir=tmp_path / "c", model="fake"
    )
    build_index(settings, embedder=FakeEmbedder())
    index = Index.open(settings.index_dir)
    r = Retriever(index)
    assert np.array_equal(r.sentence_vectors, index.sentence_vectors)
    question = "Wie hoch war das Handelsvolumen im Jahr 2024?"  # German, on English articles only
    assert np.array_equal(_rank(r, question, language="de").fused, _rank(r, question).fused)


def test_chunks_in_another_language_than_the_question_get_the_bonus(retriever):
    """In a corpus of several languages, lexical evidence only reaches chunks in the question's
    language: the others get OTHER_LANGUAGE_BONUS on the fused score. A question in a language
    the corpus does not have gets none (every chunk is in another language)."""
    question = "Wie hoch war das Handelsvolumen zwischen Südkorea und Italien im Jahr 2024?"
    index = retriever.index
    assert len(index.chunks) <= 50  # every chunk gets the window feature, so only the bonus differs
    other = np.array([index.articles[c.article_id].language != "de" for c in index.chunks])
    assert other.any() and not other.all()
    plain = _rank(retriever, question)
    german = _rank(retriever, question, language="de")
    assert np.allclose(german.fused[other] - plain.fused[other], OTHER_LANGUAGE_BONUS, atol=1e-6)
    assert np.array_equal(german.fused[~other], plain.fused[~other])
    assert np.array_equal(_rank(retriever, question, language="ko").fused, plain.fused)


def test_two_languages_are_centred_on_the_corpus_mean(retriever):
    index = retriever.index
    assert not np.array_equal(retriever.sentence_vectors, index.sentence_vectors)
    assert np.allclose(
        retriever.sentence_vectors.mean(axis=0), index.sentence_vectors.mean(axis=0), atol=1e-5
    )


def test_follow_up_context_adds_its_terms(retriever):
    plain = _rank(retriever, "when did she arrive")
    helped = _rank(retriever, "when did she arrive", context="Giorgia Meloni Seoul Saturday three-day visit")
    saturday = next(c.id for c in retriever.index.chunks if "on Saturday for a three-day" in c.text)
    assert helped.lexical.max() > plain.lexical.max()
    assert helped.fused[saturday] > plain.fused[saturday]
    assert helped.order.index(saturday) < 3


def test_sentence_mask_admits_the_sentences_of_admitted_articles(retriever):
    assert retriever.sentence_mask(None) is None
    index = retriever.index
    for filters in (Filters(language="de"), Filters(language="en"), Filters(since="2099")):
        admitted = {c.article_id for c, ok in zip(index.chunks, retriever.mask(filters), strict=True) if ok}
        expected = [s.article_id in admitted for s in index.sentences]
        assert retriever.sentence_mask(filters).tolist() == expected
        assert retriever.sentence_mask(filters).tolist() == expected  # asked again (cached)


@pytest.mark.parametrize(
    ("question", "context"),
    [
        ("trade volume between South Korea and Italy in 2024", None),
        ("Wann besuchte Meloni Seoul?", None),
        ("when did she arrive", "Giorgia Meloni Seoul Saturday three-day visit"),
    ],
)
def test_window_share_is_the_weighted_share_of_the_best_two_adjacent_sentences(retriever, question, context):
    chunk_ids = list(range(len(retriever.index.chunks)))
    expected = []
    for cid in chunk_ids:
        language = retriever.index.articles[retriever.index.chunks[cid].article_id].language
        weights = retriever.lexical.question_weights(question, language, context, 0.5)
        best, prev = 0.0, frozenset()
        for sid in retriever.chunk_sentences[cid]:
            terms = retriever.sentence_terms[sid]
            best = max(best, sum(w for t, w in weights.items() if t in terms or t in prev))
            prev = terms
        total = sum(weights.values())
        expected.append(best / total if total > 0 else 0.0)
    assert retriever._window_share(question, context, chunk_ids) == expected  # exactly: same sums
    assert max(expected) > 0


def test_a_retriever_runs_numpy_blas_on_one_thread(retriever):
    from threadpoolctl import threadpool_info

    # numpy's own BLAS; a library loaded later by another package (scipy) is not numpy's
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas" and "numpy" in lib["filepath"]]
    assert blas and all(lib["num_threads"] == 1 for lib in blas)


def test_unmatched_names_what_the_articles_offer_only_when_nothing_is_admitted(retriever):
    articles = retriever.index.articles
    assert unmatched(None, articles) is None and unmatched(Filters(), articles) is None
    assert unmatched(Filters(language="de"), articles) is None
    offer = unmatched(Filters(language="fr"), articles)
    assert offer is not None and offer.startswith("languages de, en; outlets ")
    assert unmatched(Filters(language="de", since="2030"), articles) is not None  # together, nothing


# ------------------------------------------------------------------ unknown outlets, partial dates, undated


def test_unknown_outlet_filter_keeps_the_articles_that_name_none(retriever):
    articles = retriever.index.articles
    nameless = {aid for aid, a in articles.items() if not a.source}
    assert nameless and len(nameless) < len(articles)
    for value in (UNKNOWN, "Unknown", " UNKNOWN "):
        hits = _rank(retriever, "Meloni summit", filters=Filters(source=value)).hits(50)
        assert hits and {h.chunk.article_id for h in hits} <= nameless
    assert Filters(source="unknown").admits("en", None, None)
    assert not Filters(source="unknown").admits("en", "AJP", None)
    assert Filters(language="und").admits("und", None, None)


def test_since_keeps_articles_dated_by_month_or_year_in_the_range(retriever):
    """The issue's case: "since 2026-01-01" dropped the article its file name dates "2026-01"."""
    articles = retriever.index.articles
    by_date = {a.published: aid for aid, a in articles.items()}
    assert "2026-01" in by_date and "2023" in by_date  # from the file names of two seed articles
    kept = {
        h.chunk.article_id for h in _rank(retriever, "Meloni", filters=Filters(since="2026-01-01")).hits(50)
    }
    assert by_date["2026-01"] in kept and by_date["2023"] not in kept
    kept = {h.chunk.article_id for h in _rank(retriever, "Meloni", filters=Filters(until="2023-06")).hits(50)}
    assert kept == {by_date["2023"]}


@pytest.mark.parametrize(
    "published, since, until, admitted",
    [
        ("2026-01", "2026-01-01", None, True),
        ("2026-01", "2026-01-15", None, True),  # January overlaps "from the 15th on"
        ("2026-01", "2026-02-01", None, False),
        ("2026-01", None, "2026-01-01", True),
        ("2026-01", None, "2025-12-31", False),
        ("2026", "2026-06-01", "2026-06-30", True),
        ("2026", "2027", None, False),
        ("2026", None, "2025-12", False),
        ("2024-02", "2024-02-29", None, True),  # a leap year's February ends on the 29th
        ("2023-02", "2023-02-29", None, None),  # no such day: the bound is refused
        ("2026-01-19", "2026", "2026", True),
        ("2026-01-19", "2026-01-20", None, False),
        ("2026-01-19", None, "2026-01", True),
    ],
)
def test_a_date_is_an_interval_and_overlap_is_the_rule(published, since, until, admitted):
    if admitted is None:
        with pytest.raises(ConfigError, match="must be a date like"):
            Filters(since=since, until=until)
        return
    assert Filters(since=since, until=until).admits("en", None, published) is admitted


def test_since_may_share_the_month_of_until():
    assert Filters(since="2026-01-19", until="2026-01").admits("en", None, "2026-01-25")
    with pytest.raises(ConfigError, match="after"):
        Filters(since="2026-02", until="2026-01-31")


@pytest.mark.parametrize("published", [None, "", "someday", "2026-13"])
def test_undated_articles_are_left_out_by_a_date_bound_unless_included(published):
    assert Filters().admits("en", None, published)
    assert Filters(language="en").admits("en", None, published)
    assert not Filters(since="2026").admits("en", None, published)
    assert not Filters(until="2026").admits("en", None, published)
    assert Filters(since="2026", include_undated=True).admits("en", None, published)
    assert not Filters(since="2026", language="de", include_undated=True).admits("en", None, published)


def test_include_undated_keeps_the_dated_ones_in_range_only():
    f = Filters(since="2026", include_undated=True)
    assert f.admits("en", None, "2026-01-19") and not f.admits("en", None, "2025-12-31")
    assert Filters(include_undated=True).empty  # by itself it filters nothing
    assert Filters(since="2026", include_undated=True) != Filters(since="2026")  # not one cached mask


def test_include_undated_in_the_ranking(tmp_path, fake_seed_index):
    articles = tmp_path / "articles"
    shutil.copytree(fake_seed_index.articles_dir, articles)
    (articles / "undated-note.txt").write_text(
        "Meloni visited Seoul for a summit and talked about trade and semiconductors.", encoding="utf-8"
    )
    settings = Settings(
        articles_dir=articles, index_dir=tmp_path / "index", cache_dir=tmp_path / "c", model="fake"
    )
    build_index(settings, embedder=FakeEmbedder())
    retriever = Retriever(Index.open(settings.index_dir))
    undated = next(aid for aid, a in retriever.index.articles.items() if a.location == "undated-note.txt")
    assert retriever.index.articles[undated].published is None

    def kept(**kw) -> set[str]:
        return {h.chunk.article_id for h in _rank(retriever, "Meloni summit", filters=Filters(**kw)).hits(50)}

    assert undated not in kept(since="2000")
    assert undated in kept(since="2000", include_undated=True)
    assert undated in kept()


def test_date_span():
    from datetime import date

    assert date_span("2026-01-19") == (date(2026, 1, 19), date(2026, 1, 19))
    assert date_span("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert date_span("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    assert date_span("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    for bad in (None, "", "2026-13", "2026-02-30", "19.01.2026", "soon"):
        assert date_span(bad) is None


def test_unmatched_names_unknown_outlets_and_undated_articles():
    from rag.types import Article

    def art(aid, source, published):
        return Article(aid, f"{aid}.txt", aid, "text", "en", published=published, source=source)

    articles = {
        "a": art("a", "AJP", "2026-01-19"),
        "b": art("b", None, "2023"),
        "c": art("c", None, "2026-01"),
        "d": art("d", "Korea Herald", None),
    }
    offer = unmatched(Filters(source="no such outlet"), articles)
    assert offer == (
        "languages en; outlets AJP, Korea Herald, unknown (2 articles name none); "
        "published 2023 to 2026-01; "  # "2026-01" ends after 2026-01-19
        "1 article without a date (a date filter leaves it out unless undated articles are included)"
    )
    assert unmatched(Filters(source="unknown"), articles) is None
    assert unmatched(Filters(since="2027", include_undated=True), articles) is None
    assert "2 articles without a date (a date filter leaves them out" in unmatched(
        Filters(since="2030"), {**articles, "e": art("e", "AJP", None)}
    )
