"""eval/fit_sentences.py: the listwise softmax that fits the sentence weights, on synthetic questions."""

from __future__ import annotations

import importlib.util
import json

import numpy as np

from rag.config import PROJECT_DIR
from rag.query.answer import WEIGHTS_FILE, sentence_weights

_spec = importlib.util.spec_from_file_location("fit_sentences", PROJECT_DIR / "eval" / "fit_sentences.py")
fit_sentences = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fit_sentences)


def _questions(weights: np.ndarray, n: int = 400, seed: int = 0) -> list[dict]:
    """Questions of 12 candidates whose gold sentence is drawn from softmax(x @ weights)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        x = rng.normal(size=(12, len(weights)))
        p = np.exp(x @ weights)
        gold = np.zeros(12, dtype=bool)
        gold[rng.choice(12, p=p / p.sum())] = True
        rows.append({"x": x, "gold": gold})
    return rows


def test_the_listwise_fit_recovers_the_weights_that_made_the_choices():
    true = np.array([2.0, -1.0, 0.5])
    got = fit_sentences.fit(_questions(true, n=1500), l2=0.0)
    assert np.allclose(got, true, atol=0.25), got


def test_questions_with_no_gold_candidate_or_only_gold_ones_teach_nothing():
    true = np.array([1.5, 0.0])
    rows = _questions(true, n=300)
    useless = [{"x": r["x"], "gold": np.zeros(12, dtype=bool)} for r in rows[:50]]
    useless += [{"x": r["x"], "gold": np.ones(12, dtype=bool)} for r in rows[50:100]]
    assert np.allclose(fit_sentences.fit(rows + useless), fit_sentences.fit(rows))


def test_the_shipped_weights_name_their_fit_script_and_held_out_figures():
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    assert data["fitted_by"].startswith("eval/fit_sentences.py")
    assert set(data["held_out"]) == {"en", "de", "de->en"}
    assert sentence_weights() == data
