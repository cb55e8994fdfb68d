"""Tests for rag.pipeline: asking, bad input, citations, filters, follow-ups, reloading.

Fast tests use the fake embedder on an index of the seed articles; tests marked ``model``
use multilingual-e5-small (converted once into the user cache)."""

from __future__ import annotations

import json
import math
import shutil
import threading

import pytest

from rag import answer as ans
from rag import spans, store
from rag.config import PROJECT_DIR, Settings
from rag.embed import FakeEmbedder
from rag.errors import ConfigError, QuestionError
from rag.indexer import build_index
from rag.language import detect_language
from rag.pipeline import (
    MAX_QUESTION_CHARS,
    N_HITS,
    Filters,
    Pipeline,
    clean_question,
    confidence_features,
    confidence_of,
    followup_context,
    is_followup,
)
from rag.types import Answer, Citation

QUESTIONS = [json.loads(line) for line in (PROJECT_DIR / "eval" / "questions.jsonl").open(encoding="utf-8")]


@pytest.fixture(scope="module")
def fake_pipeline(fake_seed_index) -> Pipeline:
    return Pipeline.from_settings(fake_seed_index, embedder=FakeEmbedder(), threshold=0.0)


def _check_citation(p: Pipeline, c: Citation) -> None:
    article = p.index.articles[c.article_id]
    assert c.quote == article.text[c.start : c.end]
    assert (c.title, c.location, c.language, c.source, c.published, c.url) == (
        article.title, article.location, article.language, article.source, article.published, article.url,
    )  # fmt: skip


def _check_answer(p: Pipeline, a: Answer) -> None:
    for s in a.sentences:
        _check_citation(p, s.citation)
        assert s.text == s.citation.quote
        if s.short_answer is not None:
            assert s.citation.start <= s.short_answer.start < s.short_answer.end <= s.citation.end
            text = p.index.articles[s.citation.article_id].text
            assert text[s.short_answer.start : s.short_answer.end] == s.short_answer.text
    for c in a.also_reported + a.closest:
        _check_citation(p, c)
    assert all(c.article_id not in {s.citation.article_id for s in a.sentences} for c in a.also_reported)
    if a.abstained:
        assert a.sentences == ()
    else:
        assert 1 <= len(a.sentences) <= 2


def test_every_seed_question_gets_answers_with_exact_citations(fake_pipeline):
    for q in QUESTIONS:
        a = fake_pipeline.ask(q["question"])
        assert not a.abstained  # threshold 0
        assert len(a.hits) == N_HITS
        _check_answer(fake_pipeline, a)
        if len(a.sentences) == 2:
            first, second = a.sentences
            assert first.citation.article_id == second.citation.article_id
            assert first.citation.end <= second.citation.start


def test_answer_and_confidence_come_from_their_own_weights(fake_pipeline):
    """The answer is the best sentence under SENTENCE_WEIGHTS; the confidence is read on the one
    BASE_WEIGHTS pick, the choice the confidence model and threshold were fitted on."""
    state = fake_pipeline._state
    differ = 0
    for q in QUESTIONS[:40]:
        question = clean_question(q["question"])
        a = fake_pipeline.ask(question)
        qv, _, pv = fake_pipeline._vectors(question, None)
        ranked = state.retriever.rank(qv, question, language=detect_language(question))
        cands = ans.sentence_candidates(
            state.retriever, ranked, question, ans.question_type(question), passage_vector=pv
        )
        reference = ans.best_by(cands, ans.BASE_WEIGHTS)
        assert a.confidence == pytest.approx(confidence_of(confidence_features(state, question, reference)))
        best = state.index.sentences[cands[0].sentence_id]
        assert a.abstained or best.text in {s.text for s in a.sentences}
        differ += reference.sentence_id != cands[0].sentence_id
    assert differ  # the two weight sets do not always agree


def test_abstentions_hold_the_closest_passages_with_exact_citations(fake_seed_index):
    p = Pipeline.from_settings(fake_seed_index, embedder=FakeEmbedder(), threshold=1.0)
    for q in QUESTIONS[:30]:
        a = p.ask(q["question"])
        assert a.abstained and a.sentences == () and a.text is None
        assert 1 <= len(a.closest) <= 3
        _check_answer(p, a)


def test_threshold_defaults_to_the_calibrated_value(fake_seed_index):
    from rag.pipeline import DEFAULT_THRESHOLD

    assert Pipeline.from_settings(fake_seed_index, embedder=FakeEmbedder()).threshold == DEFAULT_THRESHOLD


def test_threshold_is_read_from_rag_threshold_and_overrides_win(monkeypatch):
    monkeypatch.setenv("RAG_THRESHOLD", " 0.4 ")
    assert Settings.from_env().threshold == 0.4
    assert Settings.from_env(threshold=0.1).threshold == 0.1
    monkeypatch.setenv("RAG_THRESHOLD", "")
    assert Settings.from_env().threshold is None
    monkeypatch.delenv("RAG_THRESHOLD")
    assert Settings.from_env().threshold is None


@pytest.mark.parametrize("raw", ["high", "1.5", "-0.1", "nan", "inf", "0,3"])
def test_bad_rag_threshold_is_a_config_error_naming_the_variable_and_value(monkeypatch, raw):
    monkeypatch.setenv("RAG_THRESHOLD", raw)
    with pytest.raises(ConfigError) as err:
        Settings.from_env()
    assert str(err.value) == f"RAG_THRESHOLD must be a number from 0 to 1 (0 never abstains), got {raw!r}"


@pytest.mark.parametrize("value", [1.5, -0.01, math.nan, math.inf, True, False, "0.5"])
def test_threshold_outside_0_to_1_or_not_a_number_is_a_config_error(value):
    with pytest.raises(ConfigError, match="abstention threshold must be a number from 0 to 1"):
        Settings(threshold=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1.01, -0.5, float("nan")])
def test_pipeline_threshold_outside_0_to_1_is_a_config_error(fake_seed_index, value):
    with pytest.raises(ConfigError, match="abstention threshold must be a number from 0 to 1"):
        Pipeline.from_settings(fake_seed_index, embedder=FakeEmbedder(), threshold=value)


def test_threshold_bounds_are_accepted_as_floats():
    assert Settings(threshold=0).threshold == 0.0 and isinstance(Settings(threshold=0).threshold, float)
    assert Settings(threshold=1).threshold == 1.0


def test_pipeline_takes_its_threshold_from_settings_unless_given_one(fake_seed_index):
    never = Pipeline.from_settings(fake_seed_index.with_(threshold=0.0), embedder=FakeEmbedder())
    always = Pipeline.from_settings(fake_seed_index.with_(threshold=1.0), embedder=FakeEmbedder())
    assert (never.threshold, always.threshold) == (0.0, 1.0)
    for q in QUESTIONS:
        assert not never.ask(q["question"]).abstained
        a = always.ask(q["question"])
        assert a.abstained and a.confidence < 1.0
    given = Pipeline.from_settings(
        fake_seed_index.with_(threshold=1.0), embedder=FakeEmbedder(), threshold=0.3
    )
    assert given.threshold == 0.3


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "\x00\x01"])
def test_empty_question_is_refused(fake_pipeline, question):
    with pytest.raises(QuestionError, match="the question is empty"):
        fake_pipeline.ask(question)


def test_huge_question_is_refused_before_embedding(fake_seed_index):
    embedder = FakeEmbedder()
    p = Pipeline.from_settings(fake_seed_index, embedder=embedder)
    for size in (MAX_QUESTION_CHARS + 1, 100_000):
        with pytest.raises(QuestionError, match="limit is 2,000"):
            p.ask("a" * size)
    assert embedder.texts_embedded == 0


def test_non_text_question_is_refused(fake_pipeline):
    with pytest.raises(QuestionError, match="must be text"):
        fake_pipeline.ask(None)  # type: ignore[arg-type]


def test_control_characters_are_stripped():
    assert clean_question("Who\x00 visited\u200b Seoul?\x1b[31m") == "Who visited Seoul?[31m"
    assert clean_question("  When\n\tdid she\r\narrive? ") == "When did she arrive?"


@pytest.mark.parametrize(
    "question",
    [
        "<script>alert(1)</script> Who visited Seoul?",
        "<b>How many</b> memoranda were signed?",
        "Кто посетил Сеул в январе?",  # Cyrillic
        "ใครไปเยือนโซลในเดือนมกราคม",  # Thai
        "🙂🙂🙂",
        "?",
        "1956",
    ],
)
def test_odd_questions_get_an_answer_or_an_abstention(fake_seed_index, question):
    p = Pipeline.from_settings(fake_seed_index, embedder=FakeEmbedder())
    a = p.ask(question)
    assert a.question == clean_question(question)
    _check_answer(p, a)
    assert a.abstained or a.sentences


def test_filters_restrict_answers_and_hits(fake_pipeline):
    a = fake_pipeline.ask("Which memoranda were signed at the summit?", filters=Filters(language="de"))
    assert a.hits and all(fake_pipeline.index.articles[h.chunk.article_id].language == "de" for h in a.hits)
    assert all(s.citation.language == "de" for s in a.sentences)
    assert all(c.language == "de" for c in a.also_reported)


def test_filters_that_admit_nothing_abstain(fake_pipeline):
    a = fake_pipeline.ask("Who visited Seoul?", filters=Filters(source="no such outlet"))
    assert a.abstained and a.hits == () and a.closest == ()


def test_retrieve_returns_k_hits(fake_pipeline):
    hits = fake_pipeline.retrieve("trade volume 2024", k=3)
    assert len(hits) == 3 and "12.6 billion" in hits[0].chunk.text
    with pytest.raises(QuestionError):
        fake_pipeline.retrieve("trade", k=0)


def test_follow_up_questions_are_recognised():
    assert is_followup("When did she arrive?")
    assert is_followup("Und wann?")
    assert is_followup("그녀는 언제 도착했나요?")
    assert not is_followup("When did Giorgia Meloni arrive in Seoul?")
    assert followup_context("Who visited Seoul in January 2026?", ["When did she arrive?"]) is None
    assert followup_context("When did she arrive?", []) is None
    assert followup_context("When did she arrive?", ["Who visited Seoul in January 2026?"]) == (
        "Who visited Seoul in January 2026?"
    )
    # A chain of follow-ups reaches back to the question that named the subject.
    assert followup_context("And why?", ["Who visited Seoul?", "When did she arrive?"]) == (
        "Who visited Seoul? When did she arrive?"
    )
    assert followup_context("When did she arrive?", ["", "Who visited Seoul?"]) == "Who visited Seoul?"


def test_follow_up_uses_the_previous_question(fake_pipeline):
    alone = fake_pipeline.ask("How many days did it last?")
    followed = fake_pipeline.ask(
        "How many days did it last?", history=["Meloni's official visit to South Korea"]
    )
    assert "three-day" not in alone.text
    assert "three-day" in followed.text


def test_warm_ask_loads_no_file_and_no_model(fake_pipeline, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("loaded something during ask")

    monkeypatch.setattr(store.Index, "open", boom)
    monkeypatch.setattr("rag.embed.load_embedder", boom)
    monkeypatch.setattr(store, "sha256_file", boom)
    assert fake_pipeline.ask("How many memoranda of understanding were signed?").sentences


def test_the_name_lists_are_read_when_the_pipeline_is_made_not_by_a_question(fake_seed_index, monkeypatch):
    for cached in (
        spans._place_names,
        spans._places_by_prefix,
        spans._languages,
        spans._is_nationality,
        spans._regions,
    ):
        cached.cache_clear()
    p = Pipeline.from_settings(fake_seed_index, embedder=FakeEmbedder(), threshold=0.0)

    def boom(*args, **kwargs):
        raise AssertionError("read a CLDR list during ask")

    monkeypatch.setattr("babel.Locale", boom)
    monkeypatch.setattr("babel.core.get_global", boom)
    assert p.ask("Who met Italian Prime Minister Giorgia Meloni in Seoul?").sentences


def test_reload_swaps_in_a_new_build_without_breaking_asks_in_flight(tmp_path):
    articles = tmp_path / "articles"
    shutil.copytree(PROJECT_DIR / "articles", articles)
    settings = Settings(
        articles_dir=articles, index_dir=tmp_path / "index", cache_dir=tmp_path / "c", model="fake"
    )
    build_index(settings, embedder=FakeEmbedder())
    p = Pipeline.from_settings(settings, embedder=FakeEmbedder(), threshold=0.0)
    assert p.reload_if_changed() is False
    old = p.index.build_id

    errors: list[BaseException] = []
    stop = threading.Event()

    def asker() -> None:
        while not stop.is_set():
            try:
                a = p.ask("How many memoranda of understanding were signed?")
                _check_answer(p if a.sentences[0].citation.article_id in p.index.articles else p, a)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    threads = [threading.Thread(target=asker) for _ in range(3)]
    for t in threads:
        t.start()
    (articles / "new-article.txt").write_text(
        "Seoul hosts a new forum\n\n"
        "The Korea-Italy forum will meet again in Rome in May 2027, officials said.\n",
        encoding="utf-8",
    )
    build_index(settings, embedder=FakeEmbedder())
    swapped = p.reload_if_changed()
    stop.set()
    for t in threads:
        t.join()
    assert swapped and p.index.build_id != old
    assert not errors, errors
    assert p.reload_if_changed() is False
    assert "2027" in p.ask("When will the Korea-Italy forum meet again in Rome?").text


# --- with the real model ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_pipeline(model_seed_index) -> Pipeline:
    return Pipeline.from_settings(model_seed_index)


@pytest.fixture(scope="module")
def answering_pipeline(model_pipeline, model_seed_index) -> Pipeline:
    """The same model and index with abstention off: for tests of what is retrieved and quoted."""
    return Pipeline.from_settings(model_seed_index, embedder=model_pipeline.embedder, threshold=0.0)


@pytest.mark.model
def test_out_of_corpus_question_abstains(model_pipeline):
    a = model_pipeline.ask("What is the population of Milan?")
    assert a.abstained and a.sentences == ()
    assert a.closest
    _check_answer(model_pipeline, a)


@pytest.mark.model
def test_english_question_answered_from_the_german_article(answering_pipeline):
    a = answering_pipeline.ask("Were Korean audio guides at major sights discussed?")
    assert "Audioguides" in a.text
    assert a.sentences[0].citation.language == "de"
    _check_answer(answering_pipeline, a)


@pytest.mark.model
def test_german_question_answered_from_an_english_article(answering_pipeline):
    a = answering_pipeline.ask("Welches Land war die erste Station von Melonis Reise durch drei Länder?")
    assert "Oman" in a.text
    assert a.sentences[0].citation.language == "en"
    _check_answer(answering_pipeline, a)


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "quoted", "language"),
    [
        ("Wie hoch war das Handelsvolumen zwischen Südkorea und Italien im Jahr 2024?", "12.6 billion", "en"),
        (
            "With what kind of companies in Italy's strong ecosystem did Lee want closer cooperation?",
            "KMU",
            "de",
        ),
    ],
)
def test_an_answer_only_in_the_other_language_beats_same_language_sentences(
    answering_pipeline, question, quoted, language
):
    """The seed corpus has articles in the question's language on the same summit: their chunks share
    the question's words, the answer's do not (rag.retrieve.OTHER_LANGUAGE_BONUS)."""
    a = answering_pipeline.ask(question)
    assert quoted in a.text
    assert a.sentences[0].citation.language == language
    _check_answer(answering_pipeline, a)


@pytest.mark.model
def test_short_answer_and_corroboration(model_pipeline):
    a = model_pipeline.ask("How many memoranda of understanding were signed at the Lee-Meloni summit?")
    assert not a.abstained and a.short_answer is not None and a.short_answer.text == "three"
    assert a.also_reported, "the AJP article reports the three MOUs too"
    assert any("three memorand" in c.quote for c in a.also_reported)
    _check_answer(model_pipeline, a)


@pytest.mark.model
def test_follow_up_with_the_real_model(model_pipeline):
    a = model_pipeline.ask("When did she arrive?", history=["Who visited Seoul in January 2026?"])
    assert not a.abstained and "Saturday" in a.text
