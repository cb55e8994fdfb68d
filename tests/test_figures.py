"""eval/figures.py: baselines kept from reports, and the README's table generated from them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("figures", ROOT / "eval" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(n_unanswerable: int = 0) -> dict:
    metrics = {
        "recall@1": 0.9,
        "answer_hit@1": 0.8,
        "f1": 0.7,
        "exact_match": 0.6,
        "answerable_abstained": 0.02,
    }
    metrics |= {"n_unanswerable": n_unanswerable, "unanswerable_abstained": 0.5 if n_unanswerable else None}
    unseen = {"group": {"reader_articles": "unseen"}, "n": 566, "f1": 0.66, "exact_match": 0.53}
    return {"metrics": metrics, "breakdowns": {"reader_articles": [unseen]}, "records": [{"id": "q1"}]}


def test_a_benchmark_s_baseline_keeps_its_figures_and_not_its_questions(figures, tmp_path):
    (tmp_path / "reports").mkdir()
    for name in ("xquad-en", "seed"):
        (tmp_path / "reports" / f"{name}.json").write_text(json.dumps(report()), encoding="utf-8")
    kept = figures.keep(tmp_path / "reports" / "xquad-en.json", tmp_path)
    assert "records" not in json.loads(kept.read_text(encoding="utf-8"))
    seed = figures.keep(tmp_path / "reports" / "seed.json", tmp_path)
    assert json.loads(seed.read_text(encoding="utf-8"))["records"] == [{"id": "q1"}]  # the project's own set


def test_the_table_has_one_row_per_baseline_with_the_unseen_articles_column(figures, tmp_path):
    (tmp_path / "xquad-en.json").write_text(json.dumps(report()), encoding="utf-8")
    (tmp_path / "seed.json").write_text(json.dumps(report(n_unanswerable=14)), encoding="utf-8")
    lines = figures.table(tmp_path).splitlines()
    assert len(lines) == 4 and lines[0].startswith("| questions -> articles")
    label = "XQuAD English -> English (1,190)"
    assert lines[2] == f"| {label} | 0.900 | 0.800 | 0.700 / 0.600 | 0.660 / 0.530 (566) | 2.0% | – |"
    assert lines[3].endswith("| 2.0% | 7 of 14 |")


def test_the_readme_shows_the_table_of_the_committed_baselines(figures):
    assert figures.table() in (ROOT / "README.md").read_text(encoding="utf-8")
