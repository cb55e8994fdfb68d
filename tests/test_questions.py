"""Checks on the hand-written evaluation set eval/questions.jsonl (format in eval/README.md)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from rag.metrics import contains_answer

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "questions.jsonl"
ARTICLES = ROOT / "articles"

# The language each seed article is written in (the question set is tied to these five files).
ARTICLE_LANGUAGE = {
    "korea-herald-2023-yoon-mattarella-summit.txt": "en",
    "2026-01-lee-meloni-industrial-cooperation.txt": "en",
    "2026-01-19-yonhap-lee-meloni-trade.txt": "en",
    "2026-01-19-gipfeltreffen-lee-meloni.de.txt": "de",
    "2026-01-19-ajp-lee-meloni-mous.txt": "en",
}
REQUIRED = {"id", "question", "language", "answers", "sources", "answerable"}
OPTIONAL = {"note"}


def _load() -> list[dict]:
    rows = []
    for n, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"line {n} is blank"
        rows.append(json.loads(line))
    return rows


ROWS = _load()
ANSWERABLE = [r for r in ROWS if r["answerable"]]


def _raw(name: str) -> str:
    return (ARTICLES / name).read_text(encoding="utf-8")


def _cross_lingual(row: dict) -> bool:
    return row["answerable"] and all(ARTICLE_LANGUAGE[s] != row["language"] for s in row["sources"])


def test_seed_articles_are_the_ones_the_questions_describe():
    assert sorted(p.name for p in ARTICLES.glob("*.txt")) == sorted(ARTICLE_LANGUAGE)


@pytest.mark.parametrize("row", ROWS, ids=[r.get("id", "?") for r in ROWS])
def test_each_question_has_exactly_the_documented_fields(row):
    assert REQUIRED <= row.keys(), f"missing {REQUIRED - row.keys()}"
    assert row.keys() <= REQUIRED | OPTIONAL, f"unknown {row.keys() - REQUIRED - OPTIONAL}"
    assert re.fullmatch(r"seed-\d{3}", row["id"])
    assert isinstance(row["question"], str) and row["question"].strip() == row["question"]
    assert row["question"].endswith("?")
    assert row["language"] in {"en", "de", "ko"}
    assert isinstance(row["answerable"], bool)
    assert isinstance(row["answers"], list) and all(isinstance(a, str) and a.strip() for a in row["answers"])
    assert isinstance(row["sources"], list) and all(s in ARTICLE_LANGUAGE for s in row["sources"])
    assert len(set(row["answers"])) == len(row["answers"])
    assert len(set(row["sources"])) == len(row["sources"])
    if "note" in row:
        assert isinstance(row["note"], str) and row["note"]


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_answers_and_sources_match_answerability(row):
    if row["answerable"]:
        assert row["answers"] and row["sources"]
    else:
        assert row["answers"] == [] and row["sources"] == []


@pytest.mark.parametrize("row", ANSWERABLE, ids=[r["id"] for r in ANSWERABLE])
def test_every_gold_answer_is_verbatim_in_a_gold_source(row):
    texts = {s: _raw(s) for s in row["sources"]}
    for answer in row["answers"]:
        assert any(answer in t for t in texts.values()), f"{answer!r} is in none of {row['sources']}"


@pytest.mark.parametrize("row", ANSWERABLE, ids=[r["id"] for r in ANSWERABLE])
def test_every_gold_source_holds_a_gold_answer(row):
    for source in row["sources"]:
        text = _raw(source)
        assert any(a in text for a in row["answers"]), f"{source} holds none of {row['answers']}"
        assert contains_answer(text, row["answers"])  # also after metric normalisation


def test_ids_and_questions_are_unique():
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    assert len({r["question"] for r in ROWS}) == len(ROWS)


def test_unanswerable_questions_name_nothing_the_articles_contain():
    # Weak guard: no article may contain a distinctive word of an unanswerable question.
    corpus = " ".join(_raw(n) for n in ARTICLE_LANGUAGE).lower()
    for word in [
        "population",
        "downhill",
        "ambassador",
        "exchange rate",
        "einwohner",
        "ticket",
        "außenminister",
        "tourists",
        "밀라노",
    ]:
        assert word not in corpus, word


def test_question_set_has_the_required_mix():
    counts = {
        "total": len(ROWS),
        "de": sum(r["language"] == "de" for r in ROWS),
        "ko": sum(r["language"] == "ko" for r in ROWS),
        "cross_lingual": sum(_cross_lingual(r) for r in ROWS),
        "unanswerable": sum(not r["answerable"] for r in ROWS),
        "multi_source": sum(len(r["sources"]) >= 2 for r in ROWS),
    }
    minimum = {"total": 64, "de": 12, "ko": 6, "cross_lingual": 10, "unanswerable": 10, "multi_source": 8}
    short = {k: (counts[k], v) for k, v in minimum.items() if counts[k] < v}
    assert not short, f"too few (have, need): {short}"


def test_every_language_has_answerable_and_unanswerable_questions():
    seen = Counter((r["language"], r["answerable"]) for r in ROWS)
    for lang in ("en", "de", "ko"):
        assert seen[(lang, True)] and seen[(lang, False)], lang
