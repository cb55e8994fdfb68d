"""Fit the short-answer weights of ``rag.spans`` on XQuAD: held-out F1 first, then the weights.

    .venv/bin/python eval/fit_spans.py              # ENGLISH_SPAN_WEIGHTS: every feature, parse included
    .venv/bin/python eval/fit_spans.py --no-syntax  # SPAN_WEIGHTS: the features without the parse
    .venv/bin/python eval/fit_spans.py --out w.json # also write the weights as JSON

The questions are XQuAD English -> English, German -> German and German -> English, read from
``../shared/bench`` (the data stays there). For each, the pipeline answers at the default threshold
(indexes under ``~/.cache/rag-news/eval-index/``, as ``rag eval`` builds them); its answer sentences
give the candidate phrases and their features (``rag.spans.span_candidates``; the parse's columns
only for English questions on English sentences). The target of a question is the set of its
candidates with the best token F1 against the gold answers (questions with no overlapping candidate
are left out). The model is a softmax over each question's candidates, with an L2 penalty, fitted by
L-BFGS. Short-answer F1 is then measured with ``rag.spans.best_span`` and its rules, over all
questions of each set (no answer counting 0): in 2-fold cross-validation by article (an article's
English and German questions fall in the same fold) and in-sample for the weights fitted on all.
The product scores German and German -> English answers with SPAN_WEIGHTS (``--no-syntax``), so
their figures in a run with the parse are for comparison only. Takes about five minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from rag import spans  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embed import load_embedder  # noqa: E402
from rag.evaluate import eval_index_settings  # noqa: E402
from rag.metrics import token_f1  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402

SETS = (("en", "en", "en"), ("de", "de", "de"), ("de-en", "de", "en"))  # name, questions, articles


@dataclass
class Item:
    """One question of one set: what best_span needs, and its candidates' features and targets."""

    set: str
    question: str
    question_language: str
    gold: list[str]
    fold: int
    sentences: list[str]
    language: str = ""
    is_common: object = None
    features: np.ndarray | None = None  # one row per candidate, columns in SPAN_FEATURES order
    best: np.ndarray | None = None  # the candidates with the best F1


def read_questions(bench: Path, language: str) -> list[dict]:
    with open(bench / f"xquad-{language}" / "questions.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def collect(bench: Path) -> list[Item]:
    base = Settings()
    embedder = load_embedder(base)
    gold = {lang: {q["id"]: q["answers"] for q in read_questions(bench, lang)} for lang in ("en", "de")}
    items = []
    for name, q_lang, a_lang in SETS:
        settings = eval_index_settings(base, bench / f"xquad-{a_lang}" / "corpus", embedder=embedder)
        pipeline = Pipeline.from_settings(settings, embedder=embedder)
        is_common = pipeline._state.retriever.lexical.is_common
        for q in read_questions(bench, q_lang):
            answer = pipeline.ask(q["question"])
            order = sorted(range(len(answer.sentences)), key=lambda k: -answer.sentences[k].score)
            item = Item(
                set=name,
                question=q["question"],
                question_language=q_lang,
                gold=gold[a_lang][q["id"]],
                fold=zlib.crc32(q["source"].split(".")[0].encode()) % 2,
                sentences=[answer.sentences[k].text for k in order],
                is_common=is_common,
            )
            if item.sentences:
                item.language = answer.sentences[order[0]].citation.language
                cands, feats, _ = spans.span_candidates(
                    item.question,
                    item.sentences,
                    item.language,
                    is_common=is_common,
                    question_language=q_lang,
                )
                f1 = np.array([token_f1(p.text, item.gold) for _, p in cands])
                if len(f1) and f1.max() > 0:
                    item.features, item.best = feats, f1 >= f1.max() - 1e-9
            items.append(item)
        print(
            f"{name}: {sum(i.features is not None for i in items if i.set == name)} questions with a target"
        )
    return items


def fit_weights(items: list[Item], features: list[str], l2: float) -> dict[str, float]:
    """The weights of a softmax over each item's candidates that maximise the probability of its
    best candidates, minus ``l2`` times the squared weights."""
    cols = [spans.SPAN_FEATURES.index(f) for f in features]
    used = [i for i in items if i.features is not None]
    x = np.vstack([i.features[:, cols] for i in used])
    target = np.concatenate([i.best for i in used]).astype(np.float64)
    sizes = np.array([len(i.best) for i in used])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = x @ w
        e = np.exp(s - np.repeat(np.maximum.reduceat(s, starts), sizes))
        z, z_best = np.add.reduceat(e, starts), np.add.reduceat(e * target, starts)
        p, p_best = e / np.repeat(z, sizes), e * target / np.repeat(z_best, sizes)
        return float(np.sum(np.log(z) - np.log(z_best)) + l2 * w @ w), x.T @ (p - p_best) + 2 * l2 * w

    w = minimize(loss, np.zeros(len(cols)), jac=True, method="L-BFGS-B", options={"maxiter": 2000}).x
    return {f: round(float(v), 2) for f, v in zip(features, w, strict=True)}


def f1_sum(items: list[Item], weights: dict[str, float]) -> float:
    """Short-answer token F1 summed over the items, with best_span and its rules."""
    total = 0.0
    for i in items:
        if not i.sentences:
            continue
        found = spans.best_span(
            i.question,
            i.sentences,
            i.language,
            is_common=i.is_common,
            weights=weights,
            question_language=i.question_language,
        )
        total += token_f1(found[1].text if found else i.sentences[0], i.gold)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=PROJECT_DIR.parent / "shared" / "bench")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--no-syntax", action="store_true", help="leave out the parse's columns")
    parser.add_argument("--out", type=Path, help="also write the weights fitted on all questions here")
    args = parser.parse_args(argv)
    if not (args.bench / "xquad-en" / "questions.jsonl").is_file():
        print(f"fit_spans: no XQuAD data in {args.bench} (expected xquad-en/ and xquad-de/)", file=sys.stderr)
        return 2
    features = [f for f in spans.SPAN_FEATURES if not (args.no_syntax and f in spans.SYNTAX_FEATURES)]
    items = collect(args.bench)
    names = [name for name, _, _ in SETS]
    count = {n: sum(i.set == n for i in items) for n in names}
    held = dict.fromkeys(names, 0.0)
    for fold in (0, 1):
        weights = fit_weights([i for i in items if i.fold != fold], features, args.l2)
        for n in names:
            held[n] += f1_sum([i for i in items if i.set == n and i.fold == fold], weights)
    print("held-out F1 " + " / ".join(f"{n} {held[n] / count[n]:.4f}" for n in names))
    weights = fit_weights(items, features, args.l2)
    print(
        "in-sample F1 "
        + " / ".join(f"{n} {f1_sum([i for i in items if i.set == n], weights) / count[n]:.4f}" for n in names)
    )
    print(json.dumps(weights))
    if args.out:
        args.out.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
