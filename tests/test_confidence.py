"""Tests for rag.query.confidence: the features of an answer, the fitted model, and how the pipeline
uses it. Fast tests run on the fake seed index (fake embedder, fake reader); the model tests check the
shipped reader's model on the seed articles."""

from __future__ import annotations

import json
import math

import pytest

from rag.config import READER_MANIFEST
from rag.errors import ModelError
from rag.query.confidence import FEATURES, Confidence, coverage, evidence, two_languages
from rag.query.pipeline import Pipeline
from rag.query.question import Query
from rag.query.reader import FakeReader, Reading


class ModelledReader(FakeReader):
    """The fake reader with a manifest holding a confidence model (as the shipped reader's has)."""

    def __init__(self, weights: dict[str, float], bias: float = 0.0) -> None:
        self.manifest = {"confidence": {"weights": weights, "bias": bias}}


@pytest.fixture(scope="module")
def pipeline(fake_seed_index) -> Pipeline:
    from rag.index.embed import FakeEmbedder

    return Pipeline.from_settings(
        fake_seed_index, embedder=FakeEmbedder(), reader=FakeReader(), threshold=0.0
    )


def sentence_with(pipeline: Pipeline, words: str) -> int:
    return next(i for i, s in enumerate(pipeline.index.sentences) if words in s.text)


def test_two_languages():
    assert two_languages("de", "en") and two_languages("ko", "de")
    assert not two_languages("en", "en")
    assert not two_languages("und", "en") and not two_languages("de", "und")


def test_coverage_is_the_share_of_the_question_s_weight_held_near_the_sentence(pipeline):
    retriever = pipeline._state.retriever
    sid = sentence_with(pipeline, "Yoon Suk Yeol held a summit with Italian President Sergio Mattarella")
    asked = Query.build("Which Italian president held a summit with President Yoon Suk Yeol in Seoul?")
    held = coverage(retriever, asked, sid)
    assert 0.5 < held <= 1.0
    unrelated = Query.build("What is the population of Milan?")
    assert coverage(retriever, unrelated, sid) < held / 2
    # The sentence taken out (as the fit does to make a question unanswerable) holds nothing any more.
    assert coverage(retriever, asked, sid, excluded={sid - 1, sid, sid + 1}) == 0.0
    assert coverage(retriever, asked, sid, excluded={sid}) < held


def test_evidence_of_a_question_in_another_language_has_no_word_coverage(pipeline):
    query = Query.build("Welcher italienische Präsident traf Yoon Suk Yeol in Seoul?")
    assert query.language == "de"
    state, _, _, candidates = pipeline.candidates(query)
    english = next(
        c
        for c in candidates
        if state.index.articles[state.index.sentences[c.sentence_id].article_id].language == "en"
    )
    x = evidence(state.retriever, query, english, Reading(0, 3, "Lee", 0.8, 1.0))
    assert set(x) == set(FEATURES)
    assert x["two_languages"] == 1.0 and x["coverage"] == 0.0
    assert x["reader"] == pytest.approx(math.log(0.8 / 0.2))
    assert x["symmetric"] == english.features["symmetric"]
    # A probability of 0 or 1 still has a (clipped) logit.
    assert math.isfinite(evidence(state.retriever, query, english, Reading(0, 0, "", 0.0, -9.0))["reader"])


def test_the_model_of_a_manifest():
    assert Confidence.from_manifest(None) is None
    assert Confidence.from_manifest({"threshold": 0.3}) is None
    model = Confidence.from_manifest(
        {
            "confidence": {
                "weights": {"reader": 1.0, "coverage": 2.0, "symmetric": 0.0, "two_languages": 0.0},
                "bias": -1,
            }
        }
    )
    x = {"reader": 0.5, "coverage": 0.25, "symmetric": 0.9, "two_languages": 0.0}
    assert model.probability(x) == pytest.approx(1 / (1 + math.exp(-(-1 + 0.5 + 0.5))))
    assert model.probability({**x, "reader": 1e6}) == 1.0 and model.probability({**x, "reader": -1e6}) == 0.0


@pytest.mark.parametrize(
    "entry",
    [
        {"weights": {"reader": 1.0}, "bias": 0.0},  # features missing
        {"weights": {f: 1.0 for f in FEATURES} | {"length": 1.0}, "bias": 0.0},  # one too many
        {"weights": {f: "high" for f in FEATURES}, "bias": 0.0},
        {"weights": {f: 1.0 for f in FEATURES}, "bias": float("nan")},
        {"weights": {f: 1.0 for f in FEATURES}},
        {"weights": [1, 2, 3, 4], "bias": 0.0},
        "reader",
    ],
)
def test_a_damaged_model_names_the_entry_and_how_to_restore_it(entry):
    with pytest.raises(ModelError, match="'confidence' entry.*git checkout -- rag/models/"):
        Confidence.from_manifest({"confidence": entry})


def test_the_shipped_reader_has_a_model_of_every_feature():
    manifest = json.loads(READER_MANIFEST.read_text(encoding="utf-8"))
    model = Confidence.from_manifest(manifest)
    assert model is not None and set(model.weights) == set(FEATURES)
    assert manifest["confidence"]["fitted_by"] == "eval/fit_reading.py"


def test_the_pipeline_s_confidence_is_the_model_s_probability(fake_seed_index):
    from rag.index.embed import FakeEmbedder

    weights = {"reader": 0.0, "coverage": 10.0, "symmetric": 0.0, "two_languages": 0.0}
    p = Pipeline.from_settings(
        fake_seed_index, embedder=FakeEmbedder(), reader=ModelledReader(weights, bias=-5.0), threshold=0.5
    )
    asked = "Which Italian president held a summit with President Yoon Suk Yeol in Seoul?"
    a = p.ask(asked)
    assert not a.abstained
    query = Query.build(asked)
    state, _, _, candidates = p.candidates(query)
    best = next(c for c in candidates if c.sentence_id == sentence_with(p, a.sentences[0].text[:40]))
    held = coverage(state.retriever, query, best.sentence_id)
    assert a.confidence == pytest.approx(1 / (1 + math.exp(-(10.0 * held - 5.0))))
    # Words the articles do not hold: the model refuses, whatever the reader says.
    refused = p.ask("What is the population of Milan?")
    assert refused.abstained and refused.confidence < 0.5
    # A reader without a model: its probability is the confidence.
    plain = Pipeline.from_settings(
        fake_seed_index, embedder=FakeEmbedder(), reader=FakeReader(), threshold=0.0
    )
    assert plain.confidence is None


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "What is the exchange rate between the euro and the Korean won?",  # the reader alone: "$8.08 billion"
        "Which Korean companies signed investment deals during Meloni's visit?",
        "How old is Giorgia Meloni?",
    ],
)
def test_questions_the_seed_articles_do_not_answer_are_refused(model_pipeline, question):
    answer = model_pipeline.ask(question)
    assert answer.abstained and answer.confidence < model_pipeline.threshold
    assert answer.closest  # the nearest sentences are still offered


@pytest.mark.model
def test_an_answer_the_articles_hold_is_given_with_high_confidence(model_pipeline):
    answer = model_pipeline.ask(
        "Which Italian president held a summit with President Yoon Suk Yeol in Seoul?"
    )
    assert not answer.abstained and answer.confidence > 0.5
    assert answer.sentences[0].short_answer.text == "Sergio Mattarella"
