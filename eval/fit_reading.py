"""Fit how the pipeline uses the shipped reader, on questions nobody reports figures on.

    .venv/bin/python eval/fit_reading.py            # fit, and write into rag/models/reader-v1.json
    .venv/bin/python eval/fit_reading.py --dry-run  # print only

Two things are fitted, with the whole pipeline (retrieval + reader) over the XQuAD English corpus:

1. The reading rule (``rag.query.reader.choose``): how many candidate sentences a question may read
   (``windows``) and what each step down the candidate ranking costs (``rank_penalty``). Grid
   search on XQuAD's English questions of the articles the reader was trained on
   (``xquad_articles.trained`` in the manifest; the held-out half is what figures are reported
   on): the best short-answer F1, and of the rules within ``--slack`` of it the one that reads the
   fewest windows on average (each costs about 20 ms).
2. The confidence model (``rag.query.confidence``): a logistic regression of "the chosen sentence
   holds a gold answer" on the reader's probability and the evidence around the sentence, over the
   trained half's English questions (English corpus), German questions (German corpus) and German
   questions on the English corpus, each asked once as it is and once with every sentence that
   holds its answer taken out of the corpus (a question the articles cannot answer, on their
   topic, as the seed set's unanswerable questions are), plus SQuAD 2.0's unanswerable questions
   (``is_impossible``) of the held-out articles from ../shared/qa-train/ (never trained on), on
   the sentence the reading rule picks by the reader's probability, as ``ask`` does.
3. The abstention thresholds on that confidence: the highest that refuses at most
   ``--max-refused`` of the answerable questions whose question and sentence share a language
   (English and German above), and the same for those in two languages (German on English). A
   refused answerable question is a lost answer; balanced accuracy is printed for the record.

Figures: eval/NOTES.md, "Reader windows" and "Confidence from the reader and the evidence".
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import READER_MANIFEST, Settings  # noqa: E402
from rag.evaluate import Question, eval_index_settings, load_dataset  # noqa: E402
from rag.metrics import (  # noqa: E402
    abstention_rates,
    calibrate_threshold,
    contains_answer,
    exact_match,
    token_f1,
)
from rag.query.confidence import FEATURES, Confidence, evidence  # noqa: E402
from rag.query.question import Query  # noqa: E402
from rag.query.reader import Reading, choose  # noqa: E402

SHARED = ROOT.parent / "shared"
N_UNANSWERABLE = 600
MAX_WINDOWS = 6
WINDOWS = range(1, MAX_WINDOWS + 1)
PENALTIES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def unanswerable(data: Path, articles: set[str], n: int, seed: int = 0) -> list[Question]:
    doc = json.loads((data / "squad-v2.0-dev.minus-xquad.json").read_text(encoding="utf-8"))
    out = [
        Question(q["id"], q["question"], "en", (), (), False, "")
        for a in doc["data"]
        if slug(a["title"]) in articles
        for p in a["paragraphs"]
        for q in p["qas"]
        if q.get("is_impossible")
    ]
    random.Random(seed).shuffle(out)
    return out[:n]


def read_all(pipeline, questions: list[Question]) -> list[list[Reading]]:
    """The readings of each question's first MAX_WINDOWS candidate sentences, best first."""
    out = []
    for q in questions:
        query = Query.build(q.question)
        state, _, _, candidates = pipeline.candidates(query)
        texts = [state.index.sentences[c.sentence_id].text for c in candidates[:MAX_WINDOWS]]
        out.append([pipeline.reader.read(query.text, [t])[0] for t in texts])
    return out


def apply(readings: list[Reading], windows: int, penalty: float) -> tuple[Reading | None, int]:
    """(the reading ``ask`` would choose, how many windows it read)."""
    drawn: list[Reading] = []

    def lazy():
        for r in readings[:windows]:
            drawn.append(r)
            yield r

    chosen = choose(lazy(), penalty)
    return (None if chosen is None else chosen[1]), len(drawn)


def sweep(readings: list[list[Reading]], golds: list[tuple[str, ...]]) -> list[dict]:
    rows = []
    for windows in WINDOWS:
        for penalty in PENALTIES:
            f1 = em = read = 0.0
            for rs, g in zip(readings, golds, strict=True):
                r, n = apply(rs, windows, penalty)
                text = r.text if r is not None else ""
                f1, em, read = f1 + token_f1(text, g), em + exact_match(text, g), read + n
            n = max(len(golds), 1)
            rows.append(
                {"windows": windows, "rank_penalty": penalty, "f1": f1 / n, "em": em / n, "read": read / n}
            )
    return rows


def refusing(share: float, answerable: list[float]) -> float:
    """The highest threshold (4 decimals) below which at most ``share`` of these confidences lie."""
    kept = sorted(answerable)
    return math.floor(kept[int(share * len(kept))] * 10000) / 10000


def refused_per_language(
    share: float, values: list[float], rows: list[dict]
) -> tuple[float, float, list[bool]]:
    """(threshold for one language, threshold for two, which rows they refuse): each threshold
    refuses at most ``share`` of the answerable rows of its kind (``two``), on ``values``."""
    same = refusing(share, [v for v, r in zip(values, rows, strict=True) if r["answerable"] and not r["two"]])
    two = refusing(share, [v for v, r in zip(values, rows, strict=True) if r["answerable"] and r["two"]])
    return same, two, [v < (two if r["two"] else same) for v, r in zip(values, rows, strict=True)]


def evidence_rows(
    pipeline, questions: list[Question], windows: int, *, remove_answers: bool = False
) -> list[list[dict]]:
    """Per question, one row per window ``ask`` may read (its first ``windows`` candidates): the
    confidence features of the sentence (``x``), the reader's probability (``p``), ``holds`` (the
    sentence holds a gold answer), ``answerable`` and ``two`` (question and sentence in two
    languages). ``remove_answers``: the sentences holding a gold answer are taken out first
    (candidates and evidence), so the question becomes one the corpus cannot answer."""
    out = []
    for q in questions:
        query = Query.build(q.question)
        state, _, _, candidates = pipeline.candidates(query)
        sentences = state.index.sentences
        excluded: frozenset[int] = frozenset()
        if remove_answers:
            excluded = frozenset(i for i, s in enumerate(sentences) if contains_answer(s.text, q.answers))
            candidates = [c for c in candidates if c.sentence_id not in excluded]
        answerable = q.answerable and not remove_answers
        rows = []
        for c in candidates[:windows]:
            text = sentences[c.sentence_id].text
            reading = pipeline.reader.read(query.text, [text])[0]
            x = evidence(state.retriever, query, c, reading, excluded=excluded)
            holds = answerable and contains_answer(text, q.answers)
            rows.append({"x": x, "p": reading.probability, "holds": holds, "answerable": answerable})
        if rows:
            out.append(rows)
    return out


def chosen_rows(questions: list[list[dict]], penalty: float, score) -> list[dict]:
    """The row ``choose`` picks for each question when a window's probability is ``score(row)``,
    with ``two``: question and sentence in two languages."""
    out = []
    for rows in questions:
        as_read = (Reading(0, 0, "", score(r), 0.0) for r in rows)
        k, _ = choose(as_read, penalty)
        out.append({**rows[k], "two": bool(rows[k]["x"]["two_languages"])})
    return out


def fit_confidence(rows: list[dict]) -> Confidence:
    """Logistic regression (scikit-learn, L2, C=1) of ``holds`` on :data:`FEATURES`."""
    from sklearn.linear_model import LogisticRegression

    X = [[r["x"][f] for f in FEATURES] for r in rows]
    y = [int(r["holds"]) for r in rows]
    model = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
    weights = {f: round(float(w), 6) for f, w in zip(FEATURES, model.coef_[0], strict=True)}
    return Confidence(weights, round(float(model.intercept_[0]), 6))


def in_half(questions: list[Question], trained: set[str], seen: bool = True) -> list[Question]:
    """The questions of the articles the reader was trained on (``seen``), or of the others."""
    return [q for q in questions if q.sources and (q.sources[0].split(".")[0] in trained) == seen]


def xquad_sets(manifest: Path, bench: Path, other: Path) -> dict[str, tuple[object, list[Question]]]:
    """The three ways XQuAD is asked, name -> (pipeline with threshold 0, all its questions):
    ``en`` (``bench`` on its own corpus), ``de`` (``other`` on its own) and ``de->en`` (``other``'s
    questions on ``bench``'s corpus, gold answers from ``bench``; the ``en`` pipeline)."""
    from rag.query.pipeline import Pipeline

    base = Settings.from_env(reader=manifest)
    corpus, questions = load_dataset(bench)
    other_corpus, other_questions = load_dataset(other)
    _, across = load_dataset(other, corpus)
    en = Pipeline.from_settings(eval_index_settings(base, corpus), threshold=0.0)
    de = Pipeline.from_settings(eval_index_settings(base, other_corpus), threshold=0.0)
    return {"en": (en, questions), "de": (de, other_questions), "de->en": (en, across)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", type=Path, default=READER_MANIFEST)
    parser.add_argument("--data", type=Path, default=SHARED / "qa-train")
    parser.add_argument("--bench", type=Path, default=SHARED / "bench" / "xquad-en")
    parser.add_argument(
        "--other", type=Path, default=SHARED / "bench" / "xquad-de", help="questions in another language"
    )
    parser.add_argument("--unanswerable", type=int, default=N_UNANSWERABLE)
    parser.add_argument("--slack", type=float, default=0.005, help="F1 given up for fewer windows read")
    parser.add_argument(
        "--max-refused", type=float, default=0.02, help="share of answerable questions refused"
    )
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)

    manifest = json.loads(args.manifest.read_text(encoding="utf-8"))
    split = manifest["xquad_articles"]
    trained = set(split["trained"])
    every = xquad_sets(args.manifest, args.bench, args.other)
    sets = {name: (pipe, in_half(qs, trained)) for name, (pipe, qs) in every.items()}  # the trained half
    pipeline, positives = sets["en"]
    negatives = unanswerable(args.data, set(split["held_out"]), args.unanswerable)

    pos = read_all(pipeline, positives)
    rows = sweep(pos, [q.answers for q in positives])
    for row in rows:
        print(" ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    top = max(r["f1"] for r in rows)
    rule = min((r for r in rows if r["f1"] >= top - args.slack), key=lambda r: (r["read"], -r["f1"]))
    windows, penalty = rule["windows"], rule["rank_penalty"]
    print(f"reading rule: windows {windows}, rank_penalty {penalty} (F1 {rule['f1']:.3f}, best {top:.3f})")

    asked: list[list[dict]] = []
    counts = {}
    for name, (pipe, qs) in sets.items():
        for remove in (False, True):
            got = evidence_rows(pipe, qs, windows, remove_answers=remove)
            counts[f"{name} {'answer removed' if remove else 'answerable'}"] = len(got)
            asked += got
    got = evidence_rows(pipeline, negatives, windows)
    counts["squad-2.0 unanswerable"] = len(got)
    asked += got
    rows = chosen_rows(asked, penalty, lambda r: r["p"])  # the sentences ask() answers with
    model = fit_confidence(rows)
    conf = [model.probability(r["x"]) for r in rows]
    answerable = [r["answerable"] for r in rows]
    threshold, other_threshold, refused = refused_per_language(args.max_refused, conf, rows)
    balanced = calibrate_threshold(conf, answerable)
    print(
        f"balanced-accuracy threshold {balanced:.4f}: "
        f"{abstention_rates(answerable, [c < balanced for c in conf])}"
    )
    rates = abstention_rates(answerable, refused)
    _, _, alone = refused_per_language(args.max_refused, [r["p"] for r in rows], rows)
    by_set = {"this model": rates, "the reader alone": abstention_rates(answerable, alone)}
    print(f"at most {args.max_refused:.0%} of answerable refused: {json.dumps(by_set)}")
    fit = {
        "fitted_by": "eval/fit_reading.py",
        "questions": counts,
        "f1": round(rule["f1"], 4),
        "windows_read": round(rule["read"], 3),
        "max_refused": args.max_refused,
        "answerable_refused": round(rates["answerable_abstained"], 4),
        "unanswerable_refused": round(rates["unanswerable_abstained"], 4),
    }
    print(json.dumps({"threshold": threshold, "threshold_other_language": other_threshold, **fit}))
    if not args.dry_run:
        manifest["reading"] = {"windows": windows, "rank_penalty": penalty}
        manifest["threshold"] = threshold
        manifest["threshold_other_language"] = other_threshold
        manifest["confidence"] = {
            "features": list(FEATURES),
            "weights": dict(model.weights),
            "bias": model.bias,
            "target": "the chosen sentence holds a gold answer",
            "fitted_by": "eval/fit_reading.py",
        }
        manifest["reading_fit"] = fit
        manifest.pop("threshold_fit", None)
        args.manifest.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        print(f"wrote the reading rule and the threshold into {args.manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
