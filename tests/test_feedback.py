"""Tests for rag.present.feedback (👍/👎 kept as JSON lines) and ``rag eval --feedback`` (the report of
what went wrong with each 👎), with the fake embedder and the fake reader."""

from __future__ import annotations

import copy
import json
import multiprocessing
import threading
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import Settings
from rag.errors import RagError
from rag.evaluate import DIAGNOSES, diagnose_feedback, run_feedback
from rag.index.embed import FakeEmbedder
from rag.present.feedback import (
    ENTRY_KEYS,
    MAX_COMMENT_CHARS,
    MAX_LINE_BYTES,
    FeedbackError,
    read_feedback,
    record_feedback,
)
from rag.present.render import answer_to_dict
from rag.query.pipeline import Filters, Pipeline
from rag.query.reader import FakeReader

QUESTION = "How many memoranda of understanding were signed?"


def fake(settings: Settings, threshold: float) -> Pipeline:
    return Pipeline.from_settings(settings, embedder=FakeEmbedder(), reader=FakeReader(), threshold=threshold)


@pytest.fixture(scope="module")
def answering(fake_seed_index) -> Pipeline:
    return fake(fake_seed_index, 0.0)  # always answers


@pytest.fixture(scope="module")
def abstaining(fake_seed_index) -> Pipeline:
    return fake(fake_seed_index, 1.0)  # answers only when the fake reader is sure


@pytest.fixture(scope="module")
def answer(answering) -> dict:
    return answer_to_dict(answering.ask(QUESTION))


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- recording -------------------------------------------------------------------------------------


def test_a_verdict_is_one_json_line_with_the_question_answer_and_citations(tmp_path, answer):
    path = tmp_path / "state" / "feedback.jsonl"  # the folder is made
    record_feedback(
        path,
        question="  How many memoranda\x00 of understanding were signed? ",
        answer=answer,
        verdict="down",
        history=["Who visited Seoul?", "", "When did she arrive?"],
        filters=Filters(language="en", since="2026"),
        comment=" wrong number ",
        index_build="20261207T000000-1-000001",
    )
    record_feedback(path, question=QUESTION, answer=answer, verdict="up")
    first, second = lines_of(path)
    assert tuple(first) == ENTRY_KEYS
    assert first["question"] == QUESTION and first["verdict"] == "down" and second["verdict"] == "up"
    assert first["history"] == ["Who visited Seoul?", "When did she arrive?"]
    assert first["filters"] == {"language": "en", "since": "2026"} and second["filters"] is None
    assert first["answer"] == answer and first["shortened"] is False
    assert first["comment"] == "wrong number" and second["comment"] is None
    assert first["index_build"] == "20261207T000000-1-000001" and first["app_version"] == "0.1.0"
    assert first["time"].endswith("Z") and first["time"][:2] == "20"
    cited = answer["sentences"][0]["citation"]
    assert first["citations"][0] == {"n": 1, **cited}
    entries, problems = read_feedback(path)
    assert problems == [] and [e.verdict for e in entries] == ["down", "up"]
    assert entries[0].history == ("Who visited Seoul?", "When did she arrive?")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"verdict": "meh"}, "verdict must be 'up' or 'down', got 'meh'"),
        ({"verdict": None}, "verdict must be 'up' or 'down', got None"),
        ({"question": ""}, "cannot record feedback: the question is empty"),
        ({"question": 42}, "cannot record feedback: the question must be text, got int"),
        ({"history": "Who?"}, "cannot record feedback: history must be a list"),
        ({"history": [3]}, r"cannot record feedback: history\[0\] \(an earlier question\) must be text"),
        ({"answer": "Seoul"}, "answer must be the answer as a dict .* got str"),
        ({"answer": {"answer": "x"}}, "answer lacks question, sentences, confidence, abstained"),
        ({"filters": ["en"]}, "filters must be None, a Filters or a dict of filter names, got list"),
        ({"filters": {"language": 3}}, "filter 'language' must be text, true/false or None, got 3"),
        ({"comment": 5}, "comment must be text or None, got int"),
        ({"comment": "x" * (MAX_COMMENT_CHARS + 1)}, "the comment is too long \\(2,001 characters\\)"),
        ({"index_build": 7}, "index_build must be text or None, got int"),
    ],
)
def test_bad_arguments_are_refused_with_a_message_and_nothing_is_written(tmp_path, answer, kwargs, message):
    path = tmp_path / "feedback.jsonl"
    args = {"question": QUESTION, "answer": answer, "verdict": "down", **kwargs}
    with pytest.raises(FeedbackError, match=message):
        record_feedback(path, **args)
    assert not path.exists()
    assert issubclass(FeedbackError, RagError)


def test_an_unwritable_place_is_a_feedback_error(tmp_path, answer):
    with pytest.raises(FeedbackError, match="is a folder; give a file name"):
        record_feedback(tmp_path, question=QUESTION, answer=answer, verdict="up")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(FeedbackError, match="cannot write feedback to .*file/feedback.jsonl"):
        record_feedback(blocker / "feedback.jsonl", question=QUESTION, answer=answer, verdict="up")


def test_a_long_answer_is_shortened_to_fit_a_line_and_says_so(tmp_path, answer):
    long = copy.deepcopy(answer)
    long["answer"] = "word " * 40_000
    long["sentences"][0]["text"] = "말 " * 30_000
    path = tmp_path / "feedback.jsonl"
    record_feedback(path, question="가" * 2000, answer=long, verdict="down", history=["나" * 2000] * 5)
    raw = path.read_bytes()
    assert len(raw) <= MAX_LINE_BYTES and raw.count(b"\n") == 1
    (entry,) = lines_of(path)
    assert entry["shortened"] is True and entry["answer"]["answer"].endswith("…")
    assert entry["question"] == "가" * 2000 and len(entry["history"]) == 5  # never cut
    record_feedback(path, question=QUESTION, answer=answer, verdict="up")
    assert lines_of(path)[1]["shortened"] is False


def test_a_line_left_unfinished_by_a_crash_is_closed_not_merged(tmp_path, answer):
    path = tmp_path / "feedback.jsonl"
    path.write_bytes(b'{"verdict": "down", "question": "cut of')
    record_feedback(path, question=QUESTION, answer=answer, verdict="up")
    entries, problems = read_feedback(path)
    assert [e.line for e in entries] == [2] and problems[0].startswith("line 1: not valid JSON")


def _write_many(path: str, answer: dict, n: int) -> None:
    for i in range(n):
        record_feedback(path, question=f"Question {i} from a process?", answer=answer, verdict="down")


def test_threads_and_processes_writing_at_once_never_interleave_lines(tmp_path, answer):
    path = tmp_path / "feedback.jsonl"
    big = copy.deepcopy(answer)
    big["answer"] = "x" * 20_000  # lines longer than a pipe buffer: interleaving would show
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(path), big, 15)) for _ in range(2)]
    threads = [threading.Thread(target=_write_many, args=(str(path), big, 15)) for _ in range(6)]
    for w in procs + threads:
        w.start()
    for w in procs + threads:
        w.join()
    assert all(p.exitcode == 0 for p in procs)
    entries, problems = read_feedback(path)
    assert problems == [] and len(entries) == 8 * 15


def test_the_feedback_file_lives_in_the_index_folder_and_survives_full_rebuilds(settings):
    from rag.index.indexer import build_index

    assert settings.feedback_file == settings.index_dir / "feedback.jsonl"
    build_index(settings, embedder=FakeEmbedder())
    settings.feedback_file.write_text('{"kept": true}\n', encoding="utf-8")
    (settings.articles_dir / "extra.txt").write_text("Extra news\n\nThe port of Busan reopened on Monday.\n")
    build_index(settings, embedder=FakeEmbedder())
    build_index(settings, full=True, embedder=FakeEmbedder())
    build_index(settings, full=True, embedder=FakeEmbedder())  # prunes the older builds
    assert settings.feedback_file.read_text(encoding="utf-8") == '{"kept": true}\n'


# --- the report ------------------------------------------------------------------------------------


def _entries(tmp_path: Path, rows: list[dict]) -> list:
    path = tmp_path / "f.jsonl"
    for row in rows:
        record_feedback(path, **row)
    entries, problems = read_feedback(path)
    assert problems == []
    return entries


def test_each_kind_of_thumbs_down_gets_its_diagnosis(tmp_path, answering, abstaining, answer):
    changed = copy.deepcopy(answer)
    changed["sentences"][0]["citation"]["start"] += 1
    gone = copy.deepcopy(answer)
    gone["sentences"][0]["citation"].update(article_id="0" * 16, location="deleted-story.txt", title="Gone")
    confident = dict(answer, confidence=0.93)
    unsure = dict(answer, confidence=0.21)
    nothing = answer_to_dict(abstaining.ask("Who painted the Mona Lisa in Seoul?"))
    assert nothing["abstained"] and nothing["closest"]
    down = {"verdict": "down"}
    rows = [
        dict(down, question=QUESTION, answer=changed),
        dict(down, question=QUESTION, answer=gone),
        dict(down, question=QUESTION, answer=confident),
        dict(down, question=QUESTION, answer=unsure),
        dict(down, question="Who painted the Mona Lisa in Seoul?", answer=nothing),
        dict(down, question=QUESTION, answer=answer, filters={"since": "2026-13"}),
    ]
    e = _entries(tmp_path, rows)
    got = [diagnose_feedback(answering, x) for x in e]
    assert [d.category for d in got] == [
        "answer_changed", "article_gone", "same_answer", "low_confidence", "answers_now", "cannot_ask",
    ]  # fmt: skip
    assert got[0].message.startswith("answer changed since: “")
    assert got[1].message.startswith("the cited article is no longer indexed: Gone [deleted-story.txt]")
    assert got[3].message.startswith("low confidence (0.21")
    assert got[4].message.startswith("no answer given; answers now: “")
    assert "cannot be asked again: --since must be a date" in got[5].message
    now = [diagnose_feedback(abstaining, x) for x in e[2:5]]
    assert [d.category for d in now] == ["abstains_now", "abstains_now", "no_answer"]
    assert now[0].message.startswith("answered, but the articles don't support it: abstains now (confidence")
    assert now[2].message.startswith("no answer given; the closest passages were: “")


def test_the_report_counts_verdicts_and_groups_the_thumbs_down(tmp_path, answering, answer):
    path = tmp_path / "f.jsonl"
    record_feedback(path, question=QUESTION, answer=answer, verdict="up")
    record_feedback(
        path, question=QUESTION, answer=dict(answer, confidence=0.2), verdict="down", comment="odd"
    )
    record_feedback(path, question=QUESTION, answer=dict(answer, confidence=0.3), verdict="down")
    text, diagnoses = run_feedback(path, Settings(), pipeline=answering)
    assert "3 verdict(s): 1 👍, 2 👎" in text
    assert f"     2  {DIAGNOSES['low_confidence']}" in text
    assert "👎 1 (line 2, 20" in text and "   comment:  odd" in text
    assert "   answered: “" in text and "(confidence 0.20)" in text
    assert [d.category for d in diagnoses] == ["low_confidence"] * 2


@pytest.fixture
def cli_env(fake_seed_index, monkeypatch, tmp_path, no_real_reader):
    monkeypatch.setenv("RAG_MODEL", "fake")
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    return ["eval", "--index", str(fake_seed_index.index_dir), "--threshold", "0"]


def test_rag_eval_feedback_prints_the_report(tmp_path, cli_env, answer, capsys):
    path = tmp_path / "feedback.jsonl"
    gone = copy.deepcopy(answer)
    gone["sentences"][0]["citation"].update(article_id="0" * 16, location="deleted-story.txt")
    record_feedback(path, question=QUESTION, answer=answer, verdict="up")
    record_feedback(path, question=QUESTION, answer=gone, verdict="down")
    assert main([*cli_env, "--feedback", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 verdict(s): 1 👍, 1 👎" in out and f"     1  {DIAGNOSES['article_gone']}" in out
    assert "now:      the cited article is no longer indexed: " in out and "deleted-story.txt" in out


def test_bad_lines_are_reported_with_their_numbers_and_skipped(tmp_path, cli_env, answer, capsys):
    path = tmp_path / "feedback.jsonl"
    record_feedback(path, question=QUESTION, answer=answer, verdict="up")
    with path.open("ab") as f:
        f.write(b"not json\n\n[1, 2]\n")
        f.write(b'{"verdict": "meh", "question": "Q?", "answer": {}}\n')
        f.write(b'{"verdict": "down", "question": "", "answer": {}}\n')
        f.write(b'{"verdict": "down", "question": "Q?", "answer": {"answer": 1}}\n')
        f.write(b"\xff\xfe binary\n")
    assert main([*cli_env, "--feedback", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 verdict(s): 1 👍, 0 👎; 6 line(s) skipped" in out
    for expected in (
        "line 2: not valid JSON (Expecting value at column 1)",
        "line 4: expected a JSON object, got list",
        "line 5: verdict must be 'up' or 'down', got 'meh'",
        "line 6: question must be non-empty text, got ''",
        "line 7: answer must be an answer object",
        "line 8: not UTF-8 text (invalid start byte at byte 0)",
    ):
        assert expected in out


def test_an_empty_or_missing_file_says_so(tmp_path, cli_env, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    assert main([*cli_env, "--feedback", str(empty)]) == 0
    assert "no verdicts yet: the file is empty" in capsys.readouterr().out
    assert main([*cli_env, "--feedback", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "error: the feedback file" in err and "missing.jsonl does not exist" in err
    assert "Traceback" not in err
    assert main([*cli_env, "--feedback", str(tmp_path)]) == 2
    assert "is not a file" in capsys.readouterr().err


def test_feedback_does_not_combine_with_a_question_set(tmp_path, cli_env, capsys):
    assert main([*cli_env, "--feedback", str(tmp_path / "f.jsonl"), "--limit", "3"]) == 2
    assert "--feedback reports on the chat's verdicts; it does not combine with --limit" in (
        capsys.readouterr().err
    )
