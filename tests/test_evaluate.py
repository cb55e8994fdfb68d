"""The evaluation runner and its reports (rag.evaluate), on a hand-made fake pipeline.

The fake pipeline answers from canned ``Answer``s over a two-article in-memory index, so
every metric has a known value. One test (``model``) runs the seed question set through
the real pipeline and fails when quality drops below the measured levels.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from dataclasses import FrozenInstanceError, dataclass, field, replace
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR, Settings
from rag.errors import QuestionError, RagError
from rag.evaluate import (
    Question,
    cmd_eval,
    compare,
    eval_index_settings,
    load_dataset,
    load_questions,
    run_eval,
    worst_misses,
    write_reports,
)
from rag.types import Answer, AnswerSentence, Article, Chunk, Citation, Hit, Span

ROME = Article(
    id="a-rome",
    location="news/rome.txt",
    title="Rome",
    text="Rome is the capital of Italy. The Colosseum opened in 80 AD. It holds 50,000 people.",
    language="en",
)
BERLIN = Article(
    id="a-berlin",
    location="berlin.de.txt",
    title="Berlin",
    text="Berlin ist die Hauptstadt Deutschlands. Das Brandenburger Tor wurde 1791 fertiggestellt.",
    language="de",
)

Q_CAPITAL = Question("q1", "What is the capital of Italy?", "en", ("Rome",), ("rome.txt",), True)
Q_COLOSSEUM = Question("q2", "Wann wurde das Kolosseum eröffnet?", "de", ("80 AD",), ("rome.txt",), True)
Q_GATE = Question("q3", "Wann wurde das Brandenburger Tor fertig?", "de", ("1791",), ("berlin.de.txt",), True)
Q_NONE = Question("q4", "How many people live in Rome?", "en", (), (), False)
QUESTIONS = [Q_CAPITAL, Q_COLOSSEUM, Q_GATE, Q_NONE]


# --- a fake pipeline -------------------------------------------------------------------------------


@dataclass
class FakeIndex:
    articles: dict[str, Article]
    source_articles: list = field(default_factory=list)
    manifest: dict = field(default_factory=lambda: {"model": {"id": "fake-64"}, "built_at": "2026-01-01"})
    build_id: str = "build-1"
    model_id: str = "fake-64"


class FakePipeline:
    """Answers each question with the canned Answer for its text."""

    def __init__(self, answers: dict[str, Answer | Exception], threshold: float = 0.5) -> None:
        self.index = FakeIndex({a.id: a for a in (ROME, BERLIN)})
        self.threshold = threshold
        self.answers = answers
        self.asked: list[str] = []

    def ask(self, question: str, *, filters=None, history=()) -> Answer:
        self.asked.append(question)
        got = self.answers[question]
        if isinstance(got, Exception):
            raise got
        return got


def cite(article: Article, quote: str) -> Citation:
    start = article.text.index(quote)
    return Citation(article.id, article.title, article.location, start, start + len(quote), quote)


def chunk(article: Article, quote: str) -> Hit:
    start = article.text.index(quote)
    return Hit(Chunk(article.id, start, start + len(quote), quote, 10), 0.5)


def answer(
    question: Question,
    article: Article | None = None,
    sentence: str | None = None,
    short: str | None = None,
    *,
    confidence: float = 0.9,
    hits: tuple[Hit, ...] = (),
    closest: tuple[Citation, ...] = (),
) -> Answer:
    if article is None:  # an abstention
        return Answer(question.question, confidence=confidence, abstained=True, hits=hits, closest=closest)
    c = cite(article, sentence)
    span = None
    if short is not None:
        s = article.text.index(short)
        span = Span(s, s + len(short), short)
    return Answer(
        question.question,
        sentences=(AnswerSentence(sentence, c, span),),
        confidence=confidence,
        hits=hits,
    )


ROME_1 = "Rome is the capital of Italy."
ROME_2 = "The Colosseum opened in 80 AD."
ROME_3 = "It holds 50,000 people."
BERLIN_1 = "Berlin ist die Hauptstadt Deutschlands."
BERLIN_2 = "Das Brandenburger Tor wurde 1791 fertiggestellt."


def perfect_answers() -> dict[str, Answer]:
    return {
        Q_CAPITAL.question: answer(Q_CAPITAL, ROME, ROME_1, "Rome", hits=(chunk(ROME, ROME_1),)),
        Q_COLOSSEUM.question: answer(Q_COLOSSEUM, ROME, ROME_2, "80 AD", hits=(chunk(ROME, ROME_2),)),
        Q_GATE.question: answer(Q_GATE, BERLIN, BERLIN_2, "1791", hits=(chunk(BERLIN, BERLIN_2),)),
        Q_NONE.question: answer(Q_NONE, confidence=0.1, hits=(chunk(ROME, ROME_3),)),
    }


def by_id(result) -> dict[str, dict]:
    return {r["id"]: r for r in result.records}


# --- loading questions -----------------------------------------------------------------------------


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    return path


GOOD = {"id": "x1", "question": "Who?", "language": "en", "answers": ["Rome"], "sources": ["rome.txt"]}
GOOD["answerable"] = True


def test_load_questions_reads_the_seed_set():
    questions = load_questions(PROJECT_DIR / "eval" / "questions.jsonl")
    assert len(questions) == 100
    assert sum(not q.answerable for q in questions) == 14
    q = questions[0]
    assert q.id == "seed-001" and q.language == "en" and q.answers == ("Sergio Mattarella",)
    with pytest.raises(FrozenInstanceError):
        q.id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "line 2: not valid JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        ({**GOOD, "id": "x2", "question": "  "}, "line 2: 'question' must be a non-empty string"),
        ({**GOOD, "id": "x2", "language": "English"}, "line 2: 'language' must be a language code"),
        ({k: v for k, v in GOOD.items() if k != "answers"} | {"id": "x2"}, "line 2: 'answers' is missing"),
        ({**GOOD, "id": "x2", "answers": "Rome"}, "line 2: 'answers' must be a list of non-empty strings"),
        ({**GOOD, "id": "x2", "answerable": "yes"}, "line 2: 'answerable' must be true or false"),
        ({**GOOD, "id": "x2", "answerable": False}, "line 2: an unanswerable question must have empty"),
        ({**GOOD, "id": "x2", "answers": [], "sources": []}, "line 2: an answerable question needs gold"),
        (GOOD, "line 2: id 'x1' is already used on line 1"),
    ],
)
def test_load_questions_names_the_line_of_a_bad_entry(tmp_path, line, message):
    path = _jsonl(tmp_path / "q.jsonl", [GOOD, line])
    with pytest.raises(RagError) as err:
        load_questions(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_load_questions_skips_blank_lines_and_refuses_missing_or_empty_files(tmp_path):
    path = _jsonl(tmp_path / "q.jsonl", ["", GOOD, "   "])
    assert [q.id for q in load_questions(path)] == ["x1"]
    with pytest.raises(RagError, match="does not exist"):
        load_questions(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(RagError, match="holds no questions"):
        load_questions(tmp_path / "empty.jsonl")


# --- loading datasets ------------------------------------------------------------------------------


def _dataset(root: Path, lang: str, rows: list[tuple[str, str, str]]) -> Path:
    """A tiny bench folder: corpus/<slug>.<lang>.md and questions.jsonl (id, question, answer)."""
    folder = root / f"tiny-{lang}"
    (folder / "corpus").mkdir(parents=True)
    (folder / "corpus" / f"rome.{lang}.md").write_text(
        f"# Rome ({lang})\n\nRome is the capital of Italy. The Colosseum opened in 80 AD.\n", encoding="utf-8"
    )
    lines = [
        {
            "id": i,
            "question": q,
            "answers": [a],
            "source": f"rome.{lang}.md",
            "lang": lang,
            "paragraph": "...",
        }
        for i, q, a in rows
    ]
    _jsonl(folder / "questions.jsonl", lines)
    return folder


@pytest.fixture
def tiny(tmp_path) -> tuple[Path, Path]:
    en = _dataset(tmp_path, "en", [("1", "What is the capital?", "Rome"), ("2", "When?", "80 AD")])
    de = _dataset(
        tmp_path,
        "de",
        [("1", "Was ist die Hauptstadt?", "Rom"), ("2", "Wann?", "80 n. Chr."), ("9", "Nur?", "x")],
    )
    return en, de


def test_load_dataset_reads_questions_and_corpus(tiny):
    _, de = tiny
    corpus, questions = load_dataset(de)
    assert corpus == de / "corpus"
    assert [(q.id, q.language, q.answers, q.sources, q.answerable) for q in questions][:2] == [
        ("1", "de", ("Rom",), ("rome.de.md",), True),
        ("2", "de", ("80 n. Chr.",), ("rome.de.md",), True),
    ]


def test_load_dataset_against_another_corpus_takes_gold_from_beside_that_corpus(tiny, caplog):
    en, de = tiny
    corpus, questions = load_dataset(de, en / "corpus")
    assert corpus == en / "corpus"
    # German question text and language, English gold answers and source; id 9 has no English twin.
    assert [(q.id, q.question, q.language, q.answers, q.sources) for q in questions] == [
        ("1", "Was ist die Hauptstadt?", "de", ("Rome",), ("rome.en.md",)),
        ("2", "Wann?", "de", ("80 AD",), ("rome.en.md",)),
    ]
    assert "1 of 3 questions" in caplog.text


def test_load_dataset_errors_are_clear(tiny, tmp_path):
    en, de = tiny
    with pytest.raises(RagError, match="dataset folder .* does not exist"):
        load_dataset(tmp_path / "nope")
    lonely = tmp_path / "lonely"
    (lonely / "corpus").mkdir(parents=True)
    with pytest.raises(RagError, match="no questions.jsonl beside the corpus"):
        load_dataset(de, lonely / "corpus")
    with pytest.raises(RagError, match="corpus folder .* does not exist"):
        load_dataset(de, tmp_path / "missing" / "corpus")
    (en / "questions.jsonl").write_text('{"id": "1", "question": "Q?", "answers": ["a"], "lang": "en"}\n')
    with pytest.raises(RagError, match="line 1: 'source' must be the corpus file name"):
        load_dataset(en)


# --- per-question metrics --------------------------------------------------------------------------


def test_perfect_run_scores_one_everywhere():
    pipe = FakePipeline(perfect_answers())
    result = run_eval(pipe, QUESTIONS, progress=False)
    m = result.metrics
    for key in ("recall@1", "recall@10", "mrr", "answer_hit@1", "exact_match", "f1"):
        assert m[key] == 1.0, key
    assert m["citation_validity"] == 1.0 and m["citation_correctness"] == 1.0
    assert m["unanswerable_abstained"] == 1.0 and m["answerable_abstained"] == 0.0
    assert m["decision_accuracy"] == 1.0
    assert (m["n_questions"], m["n_answerable"], m["n_unanswerable"]) == (4, 3, 1)
    assert m["n_cross_lingual"] == 1  # the German question answered by the English article
    assert m["threshold"] == 0.5 and 0.1 < m["threshold_balanced"] <= 0.9
    assert m["latency_p50_ms"] >= 0 and m["latency_p95_ms"] >= m["latency_p50_ms"]
    rec = by_id(result)
    assert rec["q1"]["corpus_language"] == "en" and rec["q3"]["corpus_language"] == "de"
    assert (
        rec["q4"]["corpus_language"] == "none"
        and rec["q4"]["recall@1"] is None
        and rec["q4"]["gold_rank"] is None
    )
    assert rec["q1"]["prediction"] == "Rome" and rec["q1"]["cited"] == "news/rome.txt"
    assert pipe.asked == [q.question for q in QUESTIONS]


def test_run_with_no_hits_and_no_answers_scores_zero():
    answers = {q.question: answer(q, confidence=0.2) for q in QUESTIONS}
    m = run_eval(FakePipeline(answers), QUESTIONS, progress=False).metrics
    for key in ("recall@1", "recall@10", "mrr", "answer_hit@1", "exact_match", "f1"):
        assert m[key] == 0.0, key
    assert m["answerable_abstained"] == 1.0 and m["unanswerable_abstained"] == 1.0
    assert m["citation_validity"] is None and m["citation_correctness"] is None
    assert m["threshold_balanced"] is not None  # calibration runs even with one confidence


def test_partial_run_ranks_gold_passage_and_scores_sentence_fallback():
    hits = (chunk(BERLIN, BERLIN_1), chunk(ROME, ROME_2), chunk(ROME, ROME_1))
    answers = perfect_answers() | {
        # Gold passage third; answered with the right sentence but no short span.
        Q_CAPITAL.question: answer(Q_CAPITAL, ROME, ROME_1, hits=hits),
        # Gold article retrieved first, but that passage lacks the answer; then a wrong answer.
        Q_COLOSSEUM.question: answer(
            Q_COLOSSEUM, ROME, ROME_3, "50,000", hits=(chunk(ROME, ROME_3), chunk(ROME, ROME_2))
        ),
        # A passage of a non-gold article that contains the answer text is not a hit.
        Q_GATE.question: answer(Q_GATE, BERLIN, BERLIN_2, "1791", hits=(chunk(ROME, ROME_1),)),
    }
    result = run_eval(FakePipeline(answers), QUESTIONS, progress=False)
    rec = by_id(result)
    q1 = rec["q1"]
    assert (q1["recall@1"], q1["recall@3"], q1["mrr"], q1["gold_rank"]) == (0.0, 1.0, pytest.approx(1 / 3), 3)
    assert q1["answer_hit@1"] == 1.0 and q1["exact_match"] == 0.0  # the whole sentence is the prediction
    assert 0 < q1["f1"] < 1
    q2 = rec["q2"]
    assert (q2["recall@1"], q2["recall@3"], q2["mrr"]) == (0.0, 1.0, 0.5)
    assert q2["answer_hit@1"] == 0.0 and q2["f1"] == 0.0 and q2["citation_correctness"] == 1.0
    assert rec["q3"]["recall@10"] == 0.0 and rec["q3"]["answer_hit@1"] == 1.0
    m = result.metrics
    assert m["recall@1"] == 0.0 and m["recall@3"] == pytest.approx(2 / 3)
    assert m["answer_hit@1"] == pytest.approx(2 / 3)


def test_answer_hit_counts_a_gold_answer_in_the_second_answer_sentence():
    two = answer(Q_COLOSSEUM, ROME, ROME_1, hits=(chunk(ROME, ROME_2),))
    two = replace(two, sentences=(*two.sentences, AnswerSentence(ROME_2, cite(ROME, ROME_2))))
    rec = by_id(
        run_eval(FakePipeline(perfect_answers() | {Q_COLOSSEUM.question: two}), QUESTIONS, progress=False)
    )
    q2 = rec["q2"]
    assert q2["answer_hit@1"] == 1.0 and q2["answer"] == f"{ROME_1} {ROME_2}"
    assert q2["prediction"] == ROME_1 and q2["exact_match"] == 0.0  # no span: the first sentence is scored


def test_unanswerable_answered_counts_against_abstention():
    answers = perfect_answers() | {Q_NONE.question: answer(Q_NONE, ROME, ROME_3, confidence=0.95)}
    result = run_eval(FakePipeline(answers), QUESTIONS, progress=False)
    m = result.metrics
    assert m["unanswerable_abstained"] == 0.0 and m["decision_accuracy"] == 0.75
    q4 = by_id(result)["q4"]
    assert q4["exact_match"] is None and q4["citation_correctness"] is None and q4["answer"] == ROME_3
    assert worst_misses(result.records)[0]["kind"] == "answered unanswerable"


def test_citation_validity_catches_a_bad_quote_anywhere_in_the_answer():
    good = answer(Q_CAPITAL, ROME, ROME_1, "Rome", hits=(chunk(ROME, ROME_1),))
    shifted = replace(good.sentences[0].citation, start=1, end=1 + len(ROME_1))
    bad_closest = replace(cite(BERLIN, BERLIN_1), quote="Berlin ist die Hauptstadt Italiens.")
    unknown = replace(cite(ROME, ROME_2), article_id="no-such-article")
    answers = perfect_answers() | {
        Q_CAPITAL.question: replace(good, sentences=(replace(good.sentences[0], citation=shifted),)),
        Q_NONE.question: answer(Q_NONE, confidence=0.1, closest=(cite(ROME, ROME_3), bad_closest)),
        Q_GATE.question: replace(
            answer(Q_GATE, BERLIN, BERLIN_2, "1791", hits=(chunk(BERLIN, BERLIN_2),)),
            also_reported=(unknown,),
        ),
    }
    result = run_eval(FakePipeline(answers), QUESTIONS, progress=False)
    rec = by_id(result)
    assert rec["q1"]["citation_validity"] == 0.0 and rec["q1"]["invalid_citations"][0]["start"] == 1
    assert rec["q4"]["citation_validity"] == 0.0 and rec["q4"]["n_citations"] == 2
    assert rec["q3"]["citation_validity"] == 0.0
    assert rec["q2"]["citation_validity"] == 1.0
    assert result.metrics["citation_validity"] == 0.25 and result.metrics["n_invalid_citations"] == 3


def test_citing_another_article_is_incorrect_even_when_the_text_matches():
    answers = perfect_answers() | {
        Q_GATE.question: answer(Q_GATE, ROME, ROME_2, hits=(chunk(BERLIN, BERLIN_2),))
    }
    rec = by_id(run_eval(FakePipeline(answers), QUESTIONS, progress=False))["q3"]
    assert rec["citation_correctness"] == 0.0 and rec["citation_validity"] == 1.0 and rec["recall@1"] == 1.0


def test_gold_sources_match_any_file_that_holds_the_article():
    pipe = FakePipeline(perfect_answers())
    pipe.index.articles["a-rome"] = replace(ROME, location="copy-of-rome.txt")
    pipe.index.source_articles = [("news/rome.txt", "a-rome", "news/rome.txt")]
    assert run_eval(pipe, QUESTIONS, progress=False).metrics["recall@1"] == 1.0


def test_breakdowns_by_question_and_corpus_language():
    answers = perfect_answers() | {Q_COLOSSEUM.question: answer(Q_COLOSSEUM, confidence=0.3)}
    result = run_eval(FakePipeline(answers), QUESTIONS, progress=False)
    lang = {r["label"]: r for r in result.breakdowns["language"]}
    assert lang["language=de"]["n"] == 2 and lang["language=de"]["answer_hit@1"] == 0.5
    assert lang["language=en"]["answer_hit@1"] == 1.0 and lang["language=en"]["unanswerable_abstained"] == 1.0
    corpus = {r["label"]: r for r in result.breakdowns["corpus_language"]}
    assert corpus["corpus_language=en"]["answerable_abstained"] == 0.5
    both = {r["label"] for r in result.breakdowns["language_corpus"]}
    assert "language=de corpus_language=en" in both


def test_a_refused_question_counts_as_abstention_and_limit_stops_early():
    answers = perfect_answers() | {Q_CAPITAL.question: QuestionError("the question is too long")}
    pipe = FakePipeline(answers)
    result = run_eval(pipe, QUESTIONS, progress=False, limit=2)
    assert len(result.records) == 2 and len(pipe.asked) == 2
    rec = by_id(result)["q1"]
    assert rec["abstained"] and rec["error"] == "the question is too long" and rec["answer_hit@1"] == 0.0
    assert result.metrics["n_errors"] == 1


def test_missing_gold_sources_are_reported(caplog):
    q = Question("q9", "Where?", "en", ("Paris",), ("paris.txt",), True)
    answers = {q.question: answer(q, confidence=0.2)}
    result = run_eval(FakePipeline(answers), [q], progress=False)
    assert "paris.txt" in caplog.text and result.settings["missing_sources"] == ["paris.txt"]
    assert result.records[0]["corpus_language"] == "missing"


# --- reports and comparison ------------------------------------------------------------------------


def _mixed_result():
    answers = perfect_answers() | {
        Q_COLOSSEUM.question: answer(Q_COLOSSEUM, ROME, ROME_3, "50,000", confidence=0.8),
        Q_GATE.question: answer(Q_GATE, confidence=0.4, hits=(chunk(BERLIN, BERLIN_2),)),
        Q_NONE.question: answer(Q_NONE, ROME, ROME_1, confidence=0.7),
    }
    return run_eval(FakePipeline(answers), QUESTIONS, progress=False, dataset={"name": "tiny"})


def test_reports_are_written_with_worst_misses(tmp_path):
    result = _mixed_result()
    paths = write_reports(result, tmp_path / "out", "tiny")
    assert set(paths) == {"json", "md", "png"}
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["format"] == "rag-news-eval" and len(data["records"]) == 4
    assert data["settings"]["model"] == "fake-64" and data["settings"]["index_build"] == "build-1"
    assert (
        data["settings"]["threshold"] == 0.5
        and data["settings"]["name"] == "tiny"
        and data["settings"]["date"]
    )
    assert data["metrics"]["answer_hit@1"] == pytest.approx(1 / 3)
    md = paths["md"].read_text(encoding="utf-8")
    assert "## Worst misses (3)" in md and "## By question language" in md
    for text in ("wrong answer", "abstained", "answered unanswerable", Q_COLOSSEUM.question, "50,000 people"):
        assert text in md
    png = paths["png"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_worst_misses_alternate_kinds_and_stop_at_fifteen():
    records = [
        {
            "id": f"w{i}",
            "answerable": True,
            "abstained": False,
            "answer_hit@1": 0.0,
            "confidence": i / 20,
            "mrr": 0,
        }
        for i in range(20)
    ] + [
        {"id": "a", "answerable": True, "abstained": True, "answer_hit@1": 0.0, "confidence": 0.1, "mrr": 1.0}
    ]
    misses = worst_misses(records)
    assert len(misses) == 15
    assert [m["id"] for m in misses[:3]] == ["w19", "a", "w18"]


def test_compare_flags_a_drop_beyond_tolerance_and_passes_within(tmp_path):
    before = _mixed_result().to_dict()
    old = tmp_path / "old.json"
    old.write_text(json.dumps(before), encoding="utf-8")
    same = json.loads(json.dumps(before))
    same["metrics"]["f1"] -= 0.005
    same["metrics"]["latency_p95_ms"] += 5000  # latency is shown, never a failure
    text, ok = compare(same, old, 0.01)
    assert ok and "REGRESSION" not in text and "latency_p95_ms" in text
    worse = json.loads(json.dumps(before))
    worse["metrics"]["recall@5"] -= 0.05
    text, ok = compare(worse, old, 0.01)
    assert not ok
    line = next(x for x in text.splitlines() if "recall@5" in x)
    assert "REGRESSION" in line and "-0.050" in line
    more_refusals = json.loads(json.dumps(before))
    more_refusals["metrics"]["answerable_abstained"] += 0.2  # lower is better
    assert compare(more_refusals, old, 0.01)[1] is False


def test_compare_refuses_a_file_that_is_not_a_report(tmp_path):
    current = _mixed_result().to_dict()
    with pytest.raises(RagError, match="does not exist"):
        compare(current, tmp_path / "nope.json", 0.01)
    (tmp_path / "x.json").write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(RagError, match="is not a `rag eval` report"):
        compare(current, tmp_path / "x.json", 0.01)


# --- the cached corpus index and the command -------------------------------------------------------


def test_eval_index_is_built_once_in_the_cache_and_reused(tmp_path, tiny, fake_embedder):
    from rag.index.store import current_build

    en, _ = tiny
    base = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", model="fake")
    s1 = eval_index_settings(base, en / "corpus", embedder=fake_embedder)
    assert s1.index_dir.parent == tmp_path / "cache" / "eval-index"
    assert s1.index_dir.name.startswith("tiny-en-corpus-") and s1.articles_dir == (en / "corpus").resolve()
    assert s1.model == "fake" and s1.chunk_tokens == base.chunk_tokens
    build = current_build(s1.index_dir)
    assert build is not None
    s2 = eval_index_settings(base, en / "corpus", embedder=fake_embedder)
    assert s2 == s1 and current_build(s2.index_dir) == build
    with pytest.raises(RagError, match="does not exist"):
        eval_index_settings(base, tmp_path / "nope")


class _IndexPipeline:
    """Opens the real (fake-model) index and returns its first passages, never an answer."""

    def __init__(self, settings: Settings) -> None:
        from rag.index.store import Index

        self.index = Index.open(settings.index_dir)
        self.threshold = 0.5

    @classmethod
    def from_settings(cls, settings, *, embedder=None, reader=None, threshold=None):
        return cls(settings)

    def ask(self, question, *, filters=None, history=()):
        return Answer(
            question, abstained=True, confidence=0.1, hits=tuple(Hit(c, 0.5) for c in self.index.chunks)
        )


def _args(**kw) -> argparse.Namespace:
    base = dict(
        questions=None,
        dataset=None,
        corpus=None,
        out=None,
        compare=None,
        tolerance=0.01,
        limit=None,
        index_dir=None,
        model=None,
        verbose=False,
    )
    return argparse.Namespace(**(base | kw))


def test_cmd_eval_runs_a_cross_corpus_dataset_and_fails_on_a_regression(tmp_path, tiny, monkeypatch, capsys):
    en, de = tiny
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RAG_MODEL", "fake")
    monkeypatch.setitem(sys.modules, "rag.query.pipeline", types.SimpleNamespace(Pipeline=_IndexPipeline))
    out = tmp_path / "results"
    assert cmd_eval(_args(dataset=de, corpus=en / "corpus", out=out)) == 0
    printed = capsys.readouterr().out
    report = out / "tiny-de-on-tiny-en.json"
    assert report.exists() and (out / "tiny-de-on-tiny-en.md").exists() and str(report) in printed
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["metrics"]["n_questions"] == 2 and data["metrics"]["recall@1"] == 1.0
    assert {r["corpus_language"] for r in data["records"]} == {"en"}
    better = json.loads(json.dumps(data))
    better["metrics"]["recall@1"] = 1.0
    better["metrics"]["answer_hit@1"] = 0.5
    (tmp_path / "better.json").write_text(json.dumps(better), encoding="utf-8")
    assert cmd_eval(_args(dataset=de, corpus=en / "corpus", out=out, compare=tmp_path / "better.json")) == 1
    assert "REGRESSION" in capsys.readouterr().out
    with pytest.raises(RagError, match="previous report .* does not exist"):
        cmd_eval(_args(dataset=de, compare=tmp_path / "missing.json"))
    with pytest.raises(RagError, match="--limit must be at least 1"):
        cmd_eval(_args(dataset=de, limit=0))
    with pytest.raises(RagError, match="either --questions or --dataset"):
        cmd_eval(_args(dataset=de, questions=tmp_path / "q.jsonl"))
    with pytest.raises(RagError, match="does not exist"):
        cmd_eval(_args(questions=tmp_path / "q.jsonl"))


def test_rag_eval_threshold_reaches_the_pipeline_and_the_report(
    tmp_path, tiny, monkeypatch, capsys, no_real_reader
):
    from rag.cli import main
    from rag.query.pipeline import DEFAULT_THRESHOLD

    en, _ = tiny
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RAG_READER", raising=False)  # DEFAULT_THRESHOLD is the shipped reader's
    monkeypatch.delenv("RAG_THRESHOLD", raising=False)
    out = tmp_path / "results"
    base = ["eval", "--dataset", str(en), "--out", str(out), "--model", "fake"]
    for extra, expected in (
        ([], DEFAULT_THRESHOLD),
        (["--threshold", "0.37"], 0.37),
        (["--threshold", "0"], 0.0),
    ):
        assert main([*base, *extra]) == 0
        data = json.loads((out / "tiny-en.json").read_text(encoding="utf-8"))
        assert data["metrics"]["threshold"] == expected and data["settings"]["threshold"] == expected
        assert f"threshold {expected:.3f}" in (out / "tiny-en.md").read_text(encoding="utf-8")
    assert not any(r["abstained"] for r in data["records"])  # threshold 0 never abstains
    capsys.readouterr()


# --- the real pipeline -----------------------------------------------------------------------------

# Measured on the seed set (100 questions) with the default model, chunking and threshold on
# 2026-11-25: answer hit@1 0.744, recall@5 0.953, citation validity 1.0 (202 citations).
# Tight on purpose: a drop of more than ~0.03 fails; invalid citations are bugs, never tolerated.
MIN_ANSWER_HIT_AT_1 = 0.71
MIN_RECALL_AT_5 = 0.92


@pytest.mark.model
def test_seed_questions_through_the_real_pipeline_keep_their_quality(tmp_path):
    from rag.query.pipeline import Pipeline

    settings = eval_index_settings(Settings(), PROJECT_DIR / "articles")
    result = run_eval(
        Pipeline.from_settings(settings),
        load_questions(PROJECT_DIR / "eval" / "questions.jsonl"),
        progress=False,
    )
    write_reports(result, tmp_path, "seed")
    m = result.metrics
    assert m["n_invalid_citations"] == 0 and m["citation_validity"] == 1.0
    assert m["answer_hit@1"] >= MIN_ANSWER_HIT_AT_1, m
    assert m["recall@5"] >= MIN_RECALL_AT_5, m
