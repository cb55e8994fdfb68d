"""Tests for eval/fit_spans.py: the softmax fit behind the short-answer weights."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np

from rag import spans
from rag.config import PROJECT_DIR


def _module():
    spec = importlib.util.spec_from_file_location("fit_spans", PROJECT_DIR / "eval" / "fit_spans.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def _item(fit, rows: list[dict[str, float]], best: list[bool]):
    features = np.zeros((len(rows), len(spans.SPAN_FEATURES)))
    for k, row in enumerate(rows):
        for name, value in row.items():
            features[k, spans.SPAN_FEATURES.index(name)] = value
    return fit.Item(set="en", question="q", question_language="en", gold=[], fold=0, sentences=["s"],
                    features=features, best=np.array(best))  # fmt: skip


def test_the_fit_weighs_up_the_feature_of_the_best_candidates_and_down_the_other():
    fit = _module()
    items = [
        _item(fit, [{"type_exact": 1.0}, {"commas": 1.0}, {}], [True, False, False]),
        _item(fit, [{"commas": 1.0}, {"type_exact": 1.0, "len1": 1.0}], [False, True]),
        _item(fit, [{}, {"type_exact": 1.0, "len2": 1.0}, {"commas": 1.0}], [False, True, False]),
    ]
    weights = fit.fit_weights(items, ["type_exact", "commas", "len1", "len2"], l2=0.1)
    assert weights["type_exact"] > 1.0 and weights["commas"] < 0.0
    assert set(weights) == {"type_exact", "commas", "len1", "len2"}


def test_a_stronger_penalty_gives_smaller_weights_and_items_without_a_target_are_left_out():
    fit = _module()
    items = [_item(fit, [{"type_exact": 1.0}, {}], [True, False]), fit.Item("en", "q", "en", [], 0, [])]
    weak = fit.fit_weights(items, ["type_exact"], l2=0.01)["type_exact"]
    strong = fit.fit_weights(items, ["type_exact"], l2=10.0)["type_exact"]
    assert weak > strong > 0.0


def test_without_the_benchmark_data_it_says_where_it_looked(tmp_path, capsys):
    assert _module().main(["--bench", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err
