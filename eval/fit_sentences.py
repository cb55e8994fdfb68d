"""Fit the weights that rank a question's candidate sentences (``rag.query.answer``), on questions
nobody reports figures on.

    .venv/bin/python eval/fit_sentences.py              # fit; write rag/models/sentence-weights-v2.json
    .venv/bin/python eval/fit_sentences.py --dry-run    # print only

The reader reads the first few candidates (``reading.windows`` in the reader's manifest), so
their order decides what can be answered at all. For every XQuAD question of the articles the
reader was trained on (``xquad_articles.trained``; the held-out half is what figures are reported
on), asked three ways (English on the English corpus, German on the German corpus, German on the
English corpus), the pipeline's candidate sentences and their features
(``rag.query.answer.sentence_candidates``) are collected once. A listwise softmax is fitted per
weight set: the sentences holding a gold answer against the other candidates of their question,
maximising the log of their share of ``exp(score)`` (L2-penalised, L-BFGS). ``same_language``
is fitted on the English and German questions, ``other_language`` on German questions on the
English corpus (the pipeline's ``cross``).

Printed for the held-out half, old weights against new: the share of questions whose first
candidate holds an answer, whose first ``windows`` do, and whose answer the reader picks among
them (``rag.query.reader.choose``, as ``ask`` does). ``top_ramp``, ``lexical_reliable`` and
``candidate_chunks`` are carried over from the file read, not fitted. Figures: eval/NOTES.md,
"Sentence weights refitted with the reader".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.fit_reading import in_half, xquad_sets  # noqa: E402
from rag.config import READER_MANIFEST  # noqa: E402
from rag.evaluate import Question  # noqa: E402
from rag.metrics import contains_answer  # noqa: E402
from rag.query.answer import WEIGHTS_FILE, sentence_weights  # noqa: E402
from rag.query.question import Query  # noqa: E402
from rag.query.reader import choose  # noqa: E402

SHARED = ROOT.parent / "shared"
OUT = WEIGHTS_FILE.with_name("sentence-weights-v2.json")
L2 = 1e-4


def collect(pipeline, questions: list[Question], features: list[str]) -> list[dict]:
    """Per question: its candidates' feature matrix (best-first as now), which hold a gold answer,
    their sentence texts, and whether the pipeline scored them as ``cross``."""
    rows = []
    for q in questions:
        query = Query.build(q.question, ())
        state, _, _, candidates = pipeline.candidates(query)
        if not candidates:
            continue
        texts = [state.index.sentences[c.sentence_id].text for c in candidates]
        rows.append(
            {
                "id": q.id,
                "question": query.text,
                "x": np.array([[c.features[f] for f in features] for c in candidates]),
                "gold": np.array([contains_answer(t, q.answers) for t in texts]),
                "texts": texts,
            }
        )
    return rows


def fit(rows: list[dict], l2: float = L2) -> np.ndarray:
    """Weights maximising the mean log share of the gold sentences in each question's softmax."""
    from scipy.optimize import minimize

    usable = [r for r in rows if r["gold"].any() and not r["gold"].all()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(w)
        for r in usable:
            s = r["x"] @ w
            m = s.max()
            e = np.exp(s - m)
            p_all = e / e.sum()
            g = r["gold"]
            p_gold = e[g] / e[g].sum()
            total -= np.log(e[g].sum()) - np.log(e.sum())
            grad -= p_gold @ r["x"][g] - p_all @ r["x"]
        n = len(usable)
        return total / n + l2 * float(w @ w), grad / n + 2 * l2 * w

    w0 = np.zeros(usable[0]["x"].shape[1])
    result = minimize(loss, w0, jac=True, method="L-BFGS-B")
    return result.x


def order(row: dict, w: np.ndarray) -> np.ndarray:
    return np.argsort(-(row["x"] @ w), kind="stable")


def report(pipeline, rows: list[dict], weights: dict[str, np.ndarray], windows: int) -> dict[str, dict]:
    """For each weight set: first candidate holds an answer, one of the first ``windows`` does, and
    the reader's pick among them (readings cached per sentence: both sets share most)."""
    out: dict[str, dict] = {name: {"first": 0, "within": 0, "picked": 0} for name in weights}
    for row in rows:
        cache: dict[int, object] = {}
        for name, w in weights.items():
            top = order(row, w)[:windows]
            for k in top:
                if k not in cache:
                    cache[k] = pipeline.reader.read(row["question"], [row["texts"][k]])[0]
            gold = row["gold"]
            picked = choose(iter([cache[k] for k in top]), pipeline.reader.rank_penalty)
            out[name]["first"] += int(gold[top[0]])
            out[name]["within"] += int(gold[top].any())
            out[name]["picked"] += int(picked is not None and gold[top[picked[0]]])
    n = len(rows)
    return {name: {k: round(v / n, 4) for k, v in c.items()} | {"questions": n} for name, c in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=SHARED / "bench" / "xquad-en")
    parser.add_argument("--other", type=Path, default=SHARED / "bench" / "xquad-de")
    parser.add_argument("--manifest", type=Path, default=READER_MANIFEST)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_FILE, help="the weights file now used")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--l2", type=float, default=L2, help="penalty on the squared weights")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)

    manifest = json.loads(args.manifest.read_text(encoding="utf-8"))
    trained = set(manifest["xquad_articles"]["trained"])
    windows = int(manifest["reading"]["windows"])
    config = sentence_weights(args.weights)
    features = list(config["features"])

    sets = xquad_sets(args.manifest, args.bench, args.other)
    groups = {"same_language": ("en", "de"), "other_language": ("de->en",)}

    fitted = {}
    for group, names in groups.items():
        rows = [r for n in names for r in collect(sets[n][0], in_half(sets[n][1], trained), features)]
        w = fit(rows, args.l2)
        fitted[group] = {f: round(float(v), 2) for f, v in zip(features, w, strict=True)}
        print(f"{group}: {len(rows)} questions -> {fitted[group]}")

    figures = {}
    for name, (pipe, qs) in sets.items():
        group = "other_language" if name == "de->en" else "same_language"
        old = np.array([config[group][f] for f in features])
        new = np.array([fitted[group][f] for f in features])
        rows = collect(pipe, in_half(qs, trained, seen=False), features)
        figures[name] = report(pipe, rows, {"old": old, "new": new}, windows)
        print(f"held out, {name}: {json.dumps(figures[name])}")

    if not args.dry_run:
        data = dict(config)
        data["fitted_by"] = (
            "eval/fit_sentences.py: a listwise softmax over each question's candidate sentences "
            "(answer-bearing vs the rest) on the trained half of XQuAD en->en, de->de (same_language) "
            "and de->en (other_language); top_ramp, lexical_reliable and candidate_chunks carried over"
        )
        data.update(fitted)
        data["held_out"] = figures
        args.out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
