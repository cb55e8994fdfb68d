"""The `rag` command (rag.cli): summaries, status, and one-line errors instead of tracebacks."""

from __future__ import annotations

import json

import pytest

from rag.cli import main
from rag.config import Settings

NEW = "Venice opens lagoon museum\n\nVenice opened a museum about its flood barrier on Tuesday.\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def index_args(settings) -> list[str]:
    return [
        str(settings.articles_dir),
        "--index",
        str(settings.index_dir),
        "--model",
        "fake",
        "--no-progress",
    ]


def test_index_prints_a_summary_then_up_to_date(capsys, settings):
    args = index_args(settings)
    code, out, _ = run(capsys, "index", *args)
    assert code == 0
    assert "added 5, updated 0, removed 0, unchanged 0" in out and "5 articles" in out
    code, out, _ = run(capsys, "index", *args)
    assert code == 0 and "unchanged 5" in out and "already up to date" in out


def test_status_shows_index_and_waiting_articles(capsys, settings):
    common = ["--index", str(settings.index_dir), "--model", "fake"]
    run(capsys, "index", str(settings.articles_dir), *common, "--no-progress")
    (settings.articles_dir / "venice.txt").write_text(NEW, encoding="utf-8")
    code, out, _ = run(capsys, "status", str(settings.articles_dir), *common)
    assert code == 0
    assert "5 articles (de 1, en 4)" in out and "model fake-64" in out
    assert "added    venice.txt" in out and "1 change(s) waiting: run `rag index`" in out
    code, out, _ = run(capsys, "status", str(settings.articles_dir), *common, "--json")
    data = json.loads(out)
    assert data["indexed"]["articles"] == 5 and data["pending"]["added"] == ["venice.txt"]


def test_status_without_index_says_what_to_run(capsys, settings):
    code, out, _ = run(capsys, "status", str(settings.articles_dir), "--index", str(settings.index_dir))
    assert code == 0 and "no index" in out and "rag index" in out


def test_missing_articles_folder_is_one_line_error(capsys, tmp_path):
    code, out, err = run(
        capsys, "index", str(tmp_path / "nope"), "--index", str(tmp_path / "ix"), "--model", "fake"
    )
    assert code == 2
    assert err.strip() == f"error: {tmp_path / 'nope'}: articles folder does not exist"
    assert "Traceback" not in err


def test_bad_setting_is_one_line_error(capsys, settings):
    code, _, err = run(capsys, "index", str(settings.articles_dir), "--chunk-tokens", "5", "--model", "fake")
    assert code == 2 and err.startswith("error: chunk size must be between 16 and 8192 tokens, got 5")


def test_unknown_model_is_one_line_error(capsys, settings):
    args = [str(settings.articles_dir), "--index", str(settings.index_dir), "--model", "no-such-model-xyz"]
    code, _, err = run(capsys, "index", *args)
    assert code == 2 and err.startswith("error:") and "no-such-model-xyz" in err
    assert "Traceback" not in err


def test_bad_files_are_listed_and_the_rest_indexed(capsys, settings):
    (settings.articles_dir / "empty.txt").write_text("", encoding="utf-8")
    args = index_args(settings)
    code, out, err = run(capsys, "index", *args)
    assert code == 0 and "skipped empty.txt:" in err and "5 articles" in out


def test_ask_without_an_index_says_what_to_run(capsys, tmp_path):
    code, _, err = run(
        capsys, "ask", "Who visited Seoul?", "--index", str(tmp_path / "ix"), "--model", "fake"
    )
    assert code == 2 and "rag index" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["ask", "eval"])
@pytest.mark.parametrize("value", ["1.5", "-0.2", "nan"])
def test_threshold_out_of_range_is_one_line_error(capsys, tmp_path, command, value):
    question = ["Who visited Seoul?"] if command == "ask" else []
    argv = [command, *question, "--threshold", value, "--index", str(tmp_path / "ix"), "--model", "fake"]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    message = f"the abstention threshold must be a number from 0 to 1 (0 never abstains), got {value}"
    assert err == f"error: {message}\n"


def test_bad_rag_threshold_is_one_line_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_THRESHOLD", "high")
    code, _, err = run(
        capsys, "ask", "Who visited Seoul?", "--index", str(tmp_path / "ix"), "--model", "fake"
    )
    assert code == 2 and err.startswith("error: RAG_THRESHOLD must be a number") and "'high'" in err
    assert "Traceback" not in err


def test_ask_threshold_flag_and_env_decide_abstention(capsys, settings, no_real_reader, monkeypatch):
    run(capsys, "index", *index_args(settings))
    ask = ["ask", "Who visited Seoul?", "--index", str(settings.index_dir), "--model", "fake", "--json"]

    def abstained(*extra: str) -> bool:
        code, out, _ = run(capsys, *ask, *extra)
        assert code == 0
        return json.loads(out)["abstained"]

    assert abstained("--threshold", "1") and not abstained("--threshold", "0")
    monkeypatch.setenv("RAG_THRESHOLD", "1")
    assert abstained() and not abstained("--threshold", "0")  # the flag wins over the variable


@pytest.mark.parametrize(
    "flags", [("--language", "fr"), ("--source", "No Such Outlet"), ("--since", "2030-01-01")]
)
def test_ask_with_filters_that_admit_no_article_says_what_the_index_has(
    capsys, settings, no_real_reader, flags
):
    run(capsys, "index", *index_args(settings))
    argv = ["ask", "Who visited Seoul?", *flags, "--index", str(settings.index_dir), "--model", "fake"]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("error: no indexed article matches the filters")
    assert "languages de, en" in err and "published 20" in err


@pytest.mark.parametrize("question", ["🙂🙂🙂", "???"])
def test_ask_a_question_without_words_is_one_line_error(capsys, settings, no_real_reader, question):
    run(capsys, "index", *index_args(settings))
    argv = ["ask", question, "--index", str(settings.index_dir), "--model", "fake"]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith(f"error: the question {question!r} has no words (no letter or digit): ask in words")


def test_help_shows_the_defaults_in_use(capsys):
    from rag.query.pipeline import DEFAULT_THRESHOLD

    def help_of(command: str) -> str:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        return " ".join(capsys.readouterr().out.split())

    text = help_of("index")
    assert f"(default {Settings().chunk_tokens})" in text and f"(default {Settings().chunk_overlap})" in text
    for command in ("ask", "eval"):
        text = help_of(command)
        assert f"default {DEFAULT_THRESHOLD:g}" in text and "RAG_THRESHOLD; 0 never abstains" in text
