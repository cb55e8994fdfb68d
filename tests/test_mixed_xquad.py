"""Tests for eval/mixed_xquad.py: mixed-language data sets built from two parallel benchmark sets."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR
from rag.evaluate import load_dataset


def _module():
    spec = importlib.util.spec_from_file_location("mixed_xquad", PROJECT_DIR / "eval" / "mixed_xquad.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench(root: Path) -> Path:
    """Two parallel sets of three articles, one question each, answers differing by language."""
    for lang in ("en", "de"):
        corpus = root / f"xquad-{lang}" / "corpus"
        corpus.mkdir(parents=True)
        rows = []
        for i, article in enumerate(("alpha", "beta", "gamma")):
            text = f"# {article}\n\n{lang} text {i}.\n"
            (corpus / f"{article}.{lang}.md").write_text(text, encoding="utf-8")
            rows.append({
                "id": f"q{i}", "question": f"{lang} question {i}?", "answers": [f"{lang}-answer-{i}"],
                "source": f"{article}.{lang}.md", "lang": lang,
            })  # fmt: skip
        (root / f"xquad-{lang}" / "questions.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
        )
    return root


def test_each_article_is_in_one_language_and_gold_answers_follow_it(tmp_path):
    bench = _bench(tmp_path / "bench")
    written = _module().make(bench, tmp_path / "out")
    assert written == {"mix-a": 6, "mix-b": 6}
    corpora = {}
    for name in ("mix-a", "mix-b"):
        corpus, questions = load_dataset(tmp_path / "out" / name)
        files = sorted(p.name for p in corpus.iterdir())
        corpora[name] = set(files)
        assert len(files) == 3  # each article once
        for q in questions:
            (source,) = q.sources
            assert source in files
            article_language = source.split(".")[1]
            assert q.answers == (f"{article_language}-answer-{q.id[-1]}",)
        assert sum(q.language != q.sources[0].split(".")[1] for q in questions) == 3  # half cross-lingual
    # the two sets are complementary: every article in the other language
    assert corpora["mix-a"].isdisjoint(corpora["mix-b"])
    assert {"alpha.de.md", "beta.en.md", "gamma.de.md"} == corpora["mix-a"]


def test_output_inside_the_project_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _module().main([str(PROJECT_DIR / "eval" / "mixed"), "--bench", str(tmp_path)])
    assert "inside the project" in capsys.readouterr().err


def test_a_missing_benchmark_folder_is_named(tmp_path):
    with pytest.raises(SystemExit, match="xquad-en"):
        _module().make(tmp_path, tmp_path / "out")
