"""Run a question set through the answer pipeline and report how good the answers are: ``rag eval``.

    questions = load_questions(Path("eval/questions.jsonl"))       # or load_dataset(bench folder)
    result = run_eval(Pipeline.from_settings(settings), questions)  # asks each question once
    write_reports(result, Path("eval/results"), "seed")            # seed.json, seed.md, seed.png
    text, ok = compare(result.to_dict(), Path("eval/results/old.json"), tolerance=0.01)

What is measured, per question (the metric functions themselves are in ``rag.metrics``):

- Retrieval, answerable questions only: a retrieved passage (one of ``Answer.hits``,
  top 10, in rank order) is a *hit* when it comes from a gold article and contains a
  gold answer (``contains_answer``); with no gold answer text, the gold article alone
  counts. A gold article is one whose file name (``Article.location``, or any file
  that holds the same article) is among the gold ``sources``. Then recall@1/3/5/10 and
  the reciprocal rank.
- Answers, answerable questions only: ``answer_hit@1`` = the answer (its one or two
  quoted sentences, ``Answer.text``) contains a gold answer; ``exact_match`` / ``f1``
  (SQuAD normalisation) of the short answer span, or of the first answer sentence when
  there is no span; an abstention scores 0 on all three.
- Citations: ``citation_validity`` = every citation of the answer (answer sentences,
  ``also_reported`` and ``closest``) quotes exactly ``article.text[start:end]`` of the
  loaded index (None when the answer has no citation); ``citation_correctness`` = the
  first answer sentence cites a gold article (answered, answerable questions only).
- Abstention, over all questions: ``rag.metrics.abstention_rates``, plus the thresholds
  ``calibrate_threshold`` would choose from the confidences (balanced accuracy, and
  abstaining on at least 90 % of unanswerable questions); None without both kinds.
- Latency of each ``ask`` (wall clock, ms): p50 and p95.

Every figure is also broken down by question language, by corpus language (the
language(s) of the gold articles, "de+en" when the answer is in both, "none" for
unanswerable questions) and by both. Shortcuts: one run, no warm-up, so the first
question's latency includes lazy loading; a question the pipeline refuses with a
``RagError`` counts as an abstention and its message is kept in the record.

``rag eval --feedback FILE`` reports on the chat's 👍/👎 instead (``rag.present.feedback``; the file is
``feedback.jsonl`` in the index folder): the verdicts counted, bad lines named and skipped, and for
each 👎 what was answered and a diagnosis from asking the question again, with its history and
filters, on the current index (:data:`DIAGNOSES`: the cited article is gone, it abstains now, the
answer changed, low confidence, ...). The index is used as it is, not brought up to date first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.config import PROJECT_DIR, Settings
from rag.errors import ConfigError, RagError
from rag.metrics import (
    abstention_rates,
    calibrate_threshold,
    contains_answer,
    exact_match,
    percentile,
    recall_at_k,
    reciprocal_rank,
    summarize,
    token_f1,
)
from rag.types import Answer, Article, Citation

LOG = logging.getLogger(__name__)

REPORT_FORMAT = "rag-news-eval"
REPORT_VERSION = 1
KS = (1, 3, 5, 10)
SEED_QUESTIONS = PROJECT_DIR / "eval" / "questions.jsonl"
DEFAULT_OUT = PROJECT_DIR / "eval" / "results"
N_WORST = 15
STRICT_ABSTAIN = 0.9  # the share of unanswerable questions the strict calibrated threshold abstains on

# Per-question metrics that ``summarize`` averages (None = not defined for that question).
RECORD_METRICS = (
    *(f"recall@{k}" for k in KS),
    "mrr",
    "answer_hit@1",
    "exact_match",
    "f1",
    "citation_validity",
    "citation_correctness",
    "unanswerable_abstained",
    "answerable_abstained",
    "decision_accuracy",
    "latency_ms",
)
# Headline metrics for ``compare``: quality metrics where higher is better, and lower is better.
HIGHER_IS_BETTER = (
    *(f"recall@{k}" for k in KS),
    "mrr",
    "answer_hit@1",
    "exact_match",
    "f1",
    "citation_validity",
    "citation_correctness",
    "unanswerable_abstained",
    "decision_accuracy",
)
LOWER_IS_BETTER = ("answerable_abstained",)
INFORMATIONAL = ("latency_p50_ms", "latency_p95_ms", "threshold", "threshold_balanced", "threshold_strict")

_LANG = re.compile(r"[a-z]{2,3}")


# --- questions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One evaluation question. ``answers`` are gold strings (any one counts), ``sources`` the
    file names of the articles that answer it; both empty when ``answerable`` is False."""

    id: str
    question: str
    language: str
    answers: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    answerable: bool = True
    note: str | None = None


def _read_jsonl(path: Path, what: str) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line; RagError naming the line otherwise."""
    path = Path(path)
    if not path.is_file():
        raise RagError(
            f"{what} {path} does not exist" if not path.exists() else f"{what} {path} is not a file"
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise RagError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise RagError(f"cannot read {path}: {e.strerror}") from None
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise RagError(f"{path} line {n}: not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(obj, dict):
            raise RagError(f"{path} line {n}: expected a JSON object, got {type(obj).__name__}")
        rows.append((n, obj))
    if not rows:
        raise RagError(f"{what} {path} holds no questions")
    return rows


def _str_list(obj: dict, key: str, where: str) -> tuple[str, ...]:
    value = obj.get(key)
    if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
        raise RagError(f"{where}: {key!r} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _question(obj: dict, where: str, *, lang_key: str, dataset: bool) -> Question:
    for key in ("id", "question"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise RagError(f"{where}: {key!r} must be a non-empty string, got {obj.get(key)!r}")
    language = obj.get(lang_key)
    if not isinstance(language, str) or not _LANG.fullmatch(language):
        raise RagError(f"{where}: {lang_key!r} must be a language code such as 'en', got {language!r}")
    if "answers" not in obj:
        raise RagError(f"{where}: 'answers' is missing")
    answers = _str_list(obj, "answers", where)
    if dataset:
        source = obj.get("source")
        if not isinstance(source, str) or not source.strip():
            raise RagError(f"{where}: 'source' must be the corpus file name, got {source!r}")
        sources, answerable = (source,), True
    else:
        if "sources" not in obj:
            raise RagError(f"{where}: 'sources' is missing")
        sources = _str_list(obj, "sources", where)
        answerable = obj.get("answerable")
        if not isinstance(answerable, bool):
            raise RagError(f"{where}: 'answerable' must be true or false, got {answerable!r}")
    if answerable and not (answers or sources):
        raise RagError(f"{where}: an answerable question needs gold answers or sources")
    if not answerable and (answers or sources):
        raise RagError(f"{where}: an unanswerable question must have empty 'answers' and 'sources'")
    note = obj.get("note")
    return Question(
        id=obj["id"],
        question=obj["question"].strip(),
        language=language,
        answers=answers,
        sources=sources,
        answerable=answerable,
        note=note if isinstance(note, str) else None,
    )


def _unique(questions: list[tuple[int, Question]], path: Path) -> list[Question]:
    seen: dict[str, int] = {}
    for n, q in questions:
        if q.id in seen:
            raise RagError(f"{path} line {n}: id {q.id!r} is already used on line {seen[q.id]}")
        seen[q.id] = n
    return [q for _, q in questions]


def load_questions(path: Path) -> list[Question]:
    """Read a question set in the format of ``eval/README.md`` (id, question, language, answers,
    sources, answerable, optional note). Raises RagError naming the line of a bad entry."""
    path = Path(path)
    rows = _read_jsonl(path, "question file")
    return _unique(
        [(n, _question(obj, f"{path} line {n}", lang_key="language", dataset=False)) for n, obj in rows], path
    )


def _load_dataset_questions(path: Path) -> list[Question]:
    rows = _read_jsonl(path, "question file")
    return _unique(
        [(n, _question(obj, f"{path} line {n}", lang_key="lang", dataset=True)) for n, obj in rows], path
    )


def _check_corpus(corpus: Path) -> None:
    if not corpus.is_dir():
        raise RagError(
            f"corpus folder {corpus} does not exist" if not corpus.exists() else f"{corpus} is not a folder"
        )


def load_dataset(dataset_dir: Path, corpus_dir: Path | None = None) -> tuple[Path, list[Question]]:
    """A benchmark folder (``corpus/`` + ``questions.jsonl``, see ``/work/shared/bench/README.md``)
    -> (corpus folder, questions). Every question is answerable; its source is its corpus file.

    With ``corpus_dir`` the questions are asked against that corpus instead: the gold answers
    and sources come from the ``questions.jsonl`` beside it (matched by question id, as XQuAD's
    languages share ids), the question text and language from ``dataset_dir``. Questions with
    no counterpart there are left out with a warning.
    """
    dataset_dir = Path(dataset_dir)
    if not dataset_dir.is_dir():
        raise RagError(
            f"dataset folder {dataset_dir} does not exist"
            if not dataset_dir.exists()
            else f"{dataset_dir} is not a folder"
        )
    questions = _load_dataset_questions(dataset_dir / "questions.jsonl")
    if corpus_dir is None:
        corpus = dataset_dir / "corpus"
        _check_corpus(corpus)
        return corpus, questions
    corpus = Path(corpus_dir)
    _check_corpus(corpus)
    gold_file = corpus.parent / "questions.jsonl"
    if not gold_file.is_file():
        raise RagError(
            f"no questions.jsonl beside the corpus {corpus} (looked for {gold_file}): the gold answers "
            "for another corpus come from that file"
        )
    gold = {q.id: q for q in _load_dataset_questions(gold_file)}
    out, missing = [], []
    for q in questions:
        g = gold.get(q.id)
        if g is None:
            missing.append(q.id)
            continue
        out.append(Question(q.id, q.question, q.language, g.answers, g.sources, True, q.note))
    if not out:
        raise RagError(
            f"none of the question ids of {dataset_dir} occur in {gold_file}: not a parallel dataset"
        )
    if missing:
        LOG.warning(
            "%d of %d questions of %s have no counterpart in %s and are left out (first: %s)",
            len(missing),
            len(questions),
            dataset_dir,
            gold_file,
            ", ".join(missing[:3]),
        )
    return corpus, out


# --- index for a corpus ------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "corpus"


def eval_index_settings(
    base: Settings, corpus_dir: Path, *, embedder: Any = None, progress: bool = False
) -> Settings:
    """Settings whose index holds ``corpus_dir``: a folder of ``base.cache_dir / "eval-index"``
    named after the corpus and a hash of its resolved path, built (or brought up to date,
    near-instant when nothing changed) with ``base``'s model and chunking."""
    from rag.index.indexer import build_index

    corpus = Path(corpus_dir).expanduser()
    _check_corpus(corpus)
    resolved = corpus.resolve()
    parts = [resolved.parent.name, resolved.name] if resolved.name == "corpus" else [resolved.name]
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:10]
    index_dir = base.cache_dir / "eval-index" / f"{_slug('-'.join(parts))}-{digest}"
    settings = base.with_(articles_dir=resolved, index_dir=index_dir)
    report = build_index(settings, embedder=embedder, progress=progress)
    for err in report.errors:
        LOG.warning("skipped %s", err)
    LOG.info("eval index %s: %s", index_dir, report.summary())
    return settings


# --- running -----------------------------------------------------------------------------------------


@dataclass
class EvalResult:
    """Per-question ``records`` (plain dicts, JSON-ready), headline ``metrics``, ``breakdowns``
    (lists of group rows by "language", "corpus_language", "language_corpus") and run ``settings``."""

    records: list[dict]
    metrics: dict[str, float | int | None]
    breakdowns: dict[str, list[dict]]
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "format": REPORT_FORMAT,
            "version": REPORT_VERSION,
            "settings": self.settings,
            "metrics": self.metrics,
            "breakdowns": self.breakdowns,
            "records": self.records,
        }


def _file_names(index: Any) -> dict[str, set[str]]:
    """File name -> ids of the articles it holds (Article.location, and every file of a duplicate)."""
    names: dict[str, set[str]] = {}
    for aid, art in index.articles.items():
        names.setdefault(Path(art.location.split("#", 1)[0]).name, set()).add(aid)
    for relpath, aid, _loc in getattr(index, "source_articles", None) or ():
        names.setdefault(Path(relpath).name, set()).add(aid)
    return names


def citation_valid(citation: Citation, articles: Mapping[str, Article]) -> bool:
    """Whether the citation's quote is exactly the text of its article between its offsets."""
    art = articles.get(citation.article_id)
    if art is None:
        return False
    start, end = citation.start, citation.end
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(art.text)):
        return False
    return art.text[start:end] == citation.quote


def _all_citations(answer: Answer) -> list[Citation]:
    return [
        *(s.citation for s in answer.sentences),
        *answer.also_reported,
        *answer.closest,
    ]


def reader_articles(sources: Sequence[str], split: Mapping[str, Sequence[str]]) -> str:
    """Whether the reader's training saw other paragraphs of a question's gold article: "unseen"
    (held out by article), "seen", or "other" (not in the reader manifest's ``xquad_articles``).

    >>> reader_articles(["super-bowl-50.en.md"], {"held_out": ["super-bowl-50"], "trained": []})
    'unseen'
    """
    slugs = {s.split(".")[0] for s in sources}
    if slugs and slugs <= set(split.get("held_out", ())):
        return "unseen"
    if slugs and slugs <= set(split.get("trained", ())):
        return "seen"
    return "other"


def score_question(
    q: Question,
    answer: Answer,
    articles: Mapping[str, Article],
    names: Mapping[str, set[str]],
    split: Mapping[str, Sequence[str]] | None = None,
) -> dict:
    """The per-question record: what was asked, answered and retrieved, and every metric.
    ``split`` is the reader's ``xquad_articles`` (which gold articles its training saw)."""
    gold_ids: set[str] = set()
    for s in q.sources:
        gold_ids |= names.get(s, set())
    langs = sorted({articles[a].language for a in gold_ids})
    if not q.answerable:
        corpus_language = "none"
    elif q.sources and not gold_ids:
        corpus_language = "missing"
    else:
        corpus_language = "+".join(langs) if langs else "any"

    hits = list(answer.hits)[: max(KS)]
    ranked: list[bool] = []
    for h in hits if q.answerable else ():
        chunk = h.chunk
        in_gold = chunk.article_id in gold_ids if q.sources else True
        has_answer = contains_answer(chunk.text, q.answers) if q.answers else True
        ranked.append(in_gold and has_answer)

    sentences = list(answer.sentences)
    first = sentences[0] if sentences else None
    abstained = bool(answer.abstained) or first is None
    short = answer.short_answer
    prediction = None if abstained else (short.text if short is not None else first.text)

    rec: dict = {
        "id": q.id,
        "question": q.question,
        "language": q.language,
        "corpus_language": corpus_language,
        "answerable": q.answerable,
        "cross_lingual": bool(q.answerable and langs and q.language not in langs),
        "reader_articles": reader_articles(q.sources, split or {}),
        "gold_answers": list(q.answers),
        "gold_sources": list(q.sources),
        "abstained": abstained,
        "confidence": float(answer.confidence),
        "answer": None if abstained else answer.text,
        "short_answer": short.text if short is not None and not abstained else None,
        "prediction": prediction,
        "cited": first.citation.location if first is not None else None,
        "retrieved": [
            articles[h.chunk.article_id].location if h.chunk.article_id in articles else h.chunk.article_id
            for h in hits
        ],
        "retrieved_hits": ranked,
        "gold_rank": ranked.index(True) + 1 if any(ranked) else None,
    }
    for k in KS:
        rec[f"recall@{k}"] = recall_at_k(ranked, k) if q.answerable else None
    rec["mrr"] = reciprocal_rank(ranked) if q.answerable else None
    if q.answerable and q.answers:
        rec["answer_hit@1"] = float(not abstained and contains_answer(answer.text, q.answers))
        rec["exact_match"] = exact_match(prediction, q.answers) if prediction is not None else 0.0
        rec["f1"] = token_f1(prediction, q.answers) if prediction is not None else 0.0
    else:
        rec["answer_hit@1"] = rec["exact_match"] = rec["f1"] = None

    cites = _all_citations(answer)
    bad = [c for c in cites if not citation_valid(c, articles)]
    rec["n_citations"] = len(cites)
    rec["invalid_citations"] = [
        {"article_id": c.article_id, "start": c.start, "end": c.end, "quote": c.quote} for c in bad
    ]
    rec["citation_validity"] = (0.0 if bad else 1.0) if cites else None
    rec["citation_correctness"] = (
        float(first.citation.article_id in gold_ids)
        if q.answerable and q.sources and first is not None and not abstained
        else None
    )
    rec["unanswerable_abstained"] = float(abstained) if not q.answerable else None
    rec["answerable_abstained"] = float(abstained) if q.answerable else None
    rec["decision_accuracy"] = float(abstained != q.answerable)
    return rec


def _group_rows(records: Sequence[dict], by: Sequence[str]) -> list[dict]:
    rows = []
    for g in summarize(records, by=by, metrics=RECORD_METRICS):
        members = [r for r in records if all(r.get(k) == v for k, v in g.group)]
        lat = [r["latency_ms"] for r in members]
        row = {"group": dict(g.group), "label": g.label(), "n": g.n, **g.means}
        row["n_answerable"] = sum(1 for r in members if r["answerable"])
        row["latency_p50_ms"] = percentile(lat, 50)
        row["latency_p95_ms"] = percentile(lat, 95)
        rows.append(row)
    return rows


def _calibration(records: Sequence[dict]) -> dict[str, float | None]:
    conf = [r["confidence"] for r in records]
    ans = [r["answerable"] for r in records]
    out: dict[str, float | None] = {}
    if all(ans) or not any(ans):
        return {k: None for k in ("threshold_balanced", "threshold_strict")} | {
            f"{k}_{m}": None for k in ("balanced", "strict") for m in ("kept", "refused")
        }
    for key, share in (("balanced", None), ("strict", STRICT_ABSTAIN)):
        t = calibrate_threshold(conf, ans, min_unanswerable_abstained=share)
        rates = abstention_rates(ans, [c < t for c in conf])
        out[f"threshold_{key}"] = t
        out[f"{key}_kept"] = 1.0 - rates["answerable_abstained"]
        out[f"{key}_refused"] = rates["unanswerable_abstained"]
    return out


def aggregate(records: Sequence[dict]) -> tuple[dict, dict[str, list[dict]]]:
    """Headline metrics and breakdowns from per-question records (with ``latency_ms``)."""
    if not records:
        raise RagError("no questions were asked: nothing to evaluate")
    overall = summarize(records, metrics=RECORD_METRICS)[0].means
    lat = [r["latency_ms"] for r in records]
    rates = abstention_rates([r["answerable"] for r in records], [r["abstained"] for r in records])
    metrics: dict = {
        "n_questions": len(records),
        "n_answerable": int(rates["n_answerable"]),
        "n_unanswerable": int(rates["n_unanswerable"]),
        "n_cross_lingual": sum(1 for r in records if r["cross_lingual"]),
        **{m: overall[m] for m in RECORD_METRICS if m != "latency_ms"},
        "n_citations": sum(r["n_citations"] for r in records),
        "n_invalid_citations": sum(len(r["invalid_citations"]) for r in records),
        "n_errors": sum(1 for r in records if r.get("error")),
        "latency_p50_ms": percentile(lat, 50),
        "latency_p95_ms": percentile(lat, 95),
        **_calibration(records),
    }
    breakdowns = {
        "language": _group_rows(records, ["language"]),
        "corpus_language": _group_rows(records, ["corpus_language"]),
        "language_corpus": _group_rows(records, ["language", "corpus_language"]),
        "reader_articles": _group_rows(records, ["reader_articles"]),
    }
    return metrics, breakdowns


def run_eval(
    pipeline: Any,
    questions: Sequence[Question],
    *,
    progress: bool = True,
    limit: int | None = None,
    dataset: Mapping[str, object] | None = None,
) -> EvalResult:
    """Ask every question once (``limit``: only the first N) and score the answers.

    ``pipeline`` needs ``ask(question) -> Answer``, ``index`` (with ``articles``) and
    ``threshold``; ``dataset`` is copied into ``settings`` (name, paths) for the reports.
    """
    from tqdm import tqdm

    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit must be at least 1, got {limit}")
        questions = list(questions)[:limit]
    index = pipeline.index
    articles = index.articles
    names = _file_names(index)
    wanted = {s for q in questions for s in q.sources}
    absent = sorted(wanted - names.keys())
    if absent:
        LOG.warning(
            "%d gold source file(s) are not in the index (%s%s): their questions cannot score; "
            "is this the right index?",
            len(absent),
            ", ".join(absent[:3]),
            ", ..." if len(absent) > 3 else "",
        )
    reader_manifest = getattr(getattr(pipeline, "reader", None), "manifest", None) or {}
    split = reader_manifest.get("xquad_articles") or {}
    records = []
    for q in tqdm(questions, desc="eval", unit="q", disable=not progress, file=sys.stderr):
        t0 = time.perf_counter()
        error = None
        try:
            answer = pipeline.ask(q.question)
        except RagError as e:
            answer, error = Answer(question=q.question, abstained=True), str(e)
        latency = (time.perf_counter() - t0) * 1000
        rec = score_question(q, answer, articles, names, split)
        rec["latency_ms"] = latency
        if error:
            rec["error"] = error
        records.append(rec)
    metrics, breakdowns = aggregate(records)
    threshold = getattr(pipeline, "threshold", None)
    metrics["threshold"] = float(threshold) if threshold is not None else None
    manifest = getattr(index, "manifest", None) or {}
    settings = {
        "model": getattr(index, "model_id", None) or manifest.get("model", {}).get("id"),
        "index_build": getattr(index, "build_id", None),
        "index_built_at": manifest.get("built_at"),
        "chunking": manifest.get("chunking"),
        "threshold": metrics["threshold"],
        "reader": reader_manifest.get("version"),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "limit": limit,
        "missing_sources": absent,
        **dict(dataset or {}),
    }
    return EvalResult(records=records, metrics=metrics, breakdowns=breakdowns, settings=settings)


# --- reports -----------------------------------------------------------------------------------------


def _fmt(v: object, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _cell(text: object, width: int = 140) -> str:
    s = " ".join(str(text if text is not None else "–").split())
    if len(s) > width:
        s = s[: width - 1] + "…"
    return s.replace("|", "\\|")


def worst_misses(records: Sequence[dict], n: int = N_WORST) -> list[dict]:
    """The ``n`` most instructive failures, taken in turn from three kinds:
    confident wrong answers (answerable, answered, no gold answer in the answer text;
    most confident first), wrongful abstentions (answerable; those whose gold passage was
    retrieved highest first, then the closest to answering), and answered unanswerable
    questions (most confident first)."""
    wrong = [r for r in records if r["answerable"] and not r["abstained"] and r["answer_hit@1"] == 0.0]
    refused = [r for r in records if r["answerable"] and r["abstained"]]
    answered = [r for r in records if not r["answerable"] and not r["abstained"]]
    wrong.sort(key=lambda r: -r["confidence"])
    refused.sort(key=lambda r: (-(r["mrr"] or 0.0), -r["confidence"]))
    answered.sort(key=lambda r: -r["confidence"])
    kinds = [("wrong answer", wrong), ("abstained", refused), ("answered unanswerable", answered)]
    out: list[dict] = []
    i = 0
    while len(out) < n and any(i < len(rs) for _, rs in kinds):
        for kind, rs in kinds:
            if i < len(rs) and len(out) < n:
                out.append({"kind": kind, **rs[i]})
        i += 1
    return out


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += [
        "| " + " | ".join(_cell(c) if isinstance(c, str) else _fmt(c) for c in row) + " |" for row in rows
    ]
    return lines


_GROUP_COLS = (
    ("n", "n"),
    ("recall@1", "R@1"),
    ("recall@5", "R@5"),
    ("mrr", "MRR"),
    ("answer_hit@1", "hit@1"),
    ("exact_match", "EM"),
    ("f1", "F1"),
    ("citation_correctness", "cites gold"),
    ("unanswerable_abstained", "unans. abst."),
    ("answerable_abstained", "ans. abst."),
    ("latency_p50_ms", "p50 ms"),
)

_HEADLINE = (
    ("recall@1", "retrieval recall@1"),
    ("recall@3", "retrieval recall@3"),
    ("recall@5", "retrieval recall@5"),
    ("recall@10", "retrieval recall@10"),
    ("mrr", "retrieval MRR"),
    ("answer_hit@1", "answer hit@1"),
    ("exact_match", "short answer EM"),
    ("f1", "short answer F1"),
    ("citation_validity", "citation validity"),
    ("citation_correctness", "citation correctness"),
    ("unanswerable_abstained", "unanswerable abstained"),
    ("answerable_abstained", "answerable abstained (lower is better)"),
    ("decision_accuracy", "answer/abstain decision accuracy"),
    ("threshold", "confidence threshold in use"),
    ("threshold_balanced", "calibrated threshold (balanced accuracy)"),
    ("threshold_strict", f"calibrated threshold (>= {STRICT_ABSTAIN:.0%} unanswerable abstained)"),
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
)


def _group_label(row: Mapping[str, object]) -> str:
    """ "de" for one key, "de → en" for question language and corpus language, "all" for none."""
    group = row.get("group") or {}
    return " → ".join(str(v) for v in group.values()) or str(row.get("label", "all"))


def _ms(v: object) -> object:
    return f"{v:.0f}" if isinstance(v, float) else v


def _group_table(rows: Sequence[dict], title: str) -> list[str]:
    header = [title, *(label for _, label in _GROUP_COLS)]
    body = [
        [_group_label(row), *(_ms(row[k]) if k.endswith("_ms") else row[k] for k, _ in _GROUP_COLS)]
        for row in rows
    ]
    return _table(header, body)


def render_markdown(result: EvalResult, name: str) -> str:
    m, s = result.metrics, result.settings
    lines = [f"# Evaluation: {name}", ""]
    source = f" from {s['questions']}" if s.get("questions") else ""
    lines += [
        f"- date: {s.get('date')}",
        f"- questions: {m['n_questions']} ({m['n_answerable']} answerable, "
        f"{m['n_unanswerable']} unanswerable, {m['n_cross_lingual']} cross-lingual){source}",
        f"- corpus: {s.get('corpus', '–')}",
        f"- model: {s.get('model')}, index build {s.get('index_build')}, "
        f"threshold {_fmt(s.get('threshold'))}",
        f"- citations checked: {m['n_citations']}, invalid: {m['n_invalid_citations']}; "
        f"questions refused with an error: {m['n_errors']}",
        "",
        "Retrieval, answer hit@1, EM and F1 are over answerable questions; abstention over all.",
        "",
        "## Summary",
        "",
    ]
    lines += _table(
        ["metric", "value"],
        [[label, _ms(m.get(k)) if k.endswith("_ms") else m.get(k)] for k, label in _HEADLINE],
    )
    if m.get("threshold_balanced") is not None:
        lines += [
            "",
            f"At the balanced threshold {m['threshold_balanced']:.3f}: {m['balanced_kept']:.0%} of "
            f"answerable questions answered, {m['balanced_refused']:.0%} of unanswerable refused. "
            f"At the strict threshold {m['threshold_strict']:.3f}: {m['strict_kept']:.0%} answered, "
            f"{m['strict_refused']:.0%} refused.",
        ]
    for key, title, column in (
        ("language", "By question language", "question"),
        ("corpus_language", "By corpus language (of the gold articles)", "corpus"),
        ("language_corpus", "By question and corpus language", "question → corpus"),
        ("reader_articles", "By whether the reader's training saw the article", "articles"),
    ):
        lines += ["", f"## {title}", ""] + _group_table(result.breakdowns[key], column)
    misses = worst_misses(result.records)
    lines += ["", f"## Worst misses ({len(misses)})", ""]
    if misses:
        rows = [
            [
                r["kind"],
                r["id"],
                r["language"],
                r["question"],
                " / ".join(r["gold_answers"][:3]) or "(none)",
                r["answer"] or "(abstained)",
                r["cited"] or "–",
                r["confidence"],
                r["gold_rank"],
            ]
            for r in misses
        ]
        lines += _table(
            ["kind", "id", "lang", "question", "gold", "answered", "cited article", "conf.", "gold rank"],
            rows,
        )
    else:
        lines.append("None: every answerable question was answered right and every unanswerable one refused.")
    return "\n".join(lines) + "\n"


def render_plot(result: EvalResult, path: Path) -> None:
    """Recall@k curves per question language and per-language bars of hit@1 and F1 (Agg, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [r for r in result.breakdowns["language"] if r["n_answerable"]]
    overall = {"label": "all", **{k: result.metrics.get(k) for k in RECORD_METRICS}}
    fig = Figure(figsize=(11, 4.5))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    for row in [*rows, overall]:
        ys = [row.get(f"recall@{k}") for k in KS]
        if any(y is None for y in ys):
            continue
        label = _group_label(row)
        ax1.plot(KS, ys, marker="o", label=label, linestyle="--" if label == "all" else "-")
    ax1.set(
        xlabel="k (passages)", ylabel="recall@k", title="Retrieval: gold passage in top k", ylim=(0, 1.02)
    )
    ax1.set_xticks(KS)
    ax1.legend(title="question language", loc="lower right")
    labels = [_group_label(r) for r in rows] + ["all"]
    width = 0.38
    for j, (key, name) in enumerate((("answer_hit@1", "answer hit@1"), ("f1", "short answer F1"))):
        vals = [r.get(key) or 0.0 for r in rows] + [overall.get(key) or 0.0]
        xs = [i + (j - 0.5) * width for i in range(len(labels))]
        bars = ax2.bar(xs, vals, width, label=name)
        ax2.bar_label(bars, fmt="%.2f", fontsize=8)
    ax2.set_xticks(range(len(labels)), labels)
    ax2.set(ylabel="share of answerable questions", title="Answers by question language", ylim=(0, 1.1))
    ax2.legend()
    fig.suptitle(f"{result.settings.get('name', '')}  ({result.settings.get('model')})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _report_json(data: dict) -> str:
    """Indented JSON, except that each per-question record is one line (smaller, diff-friendly)."""
    head = json.dumps({k: v for k, v in data.items() if k != "records"}, indent=1, ensure_ascii=False)
    records = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in data["records"])
    return head[:-2] + ',\n "records": [\n' + records + "\n ]\n}\n"


def write_reports(result: EvalResult, out_dir: Path = DEFAULT_OUT, name: str = "eval") -> dict[str, Path]:
    """Write ``<name>.json`` (metrics, breakdowns, per-question records, settings), ``<name>.md``
    (tables and worst misses) and ``<name>.png`` into ``out_dir``; returns {"json"|"md"|"png": path}."""
    if not re.fullmatch(r"[\w.+-]+", name):
        raise RagError(f"report name {name!r} may only hold letters, digits, '.', '+', '-' and '_'")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RagError(f"cannot create the report folder {out_dir}: {e.strerror}") from None
    result.settings.setdefault("name", name)
    paths = {ext: out_dir / f"{name}.{ext}" for ext in ("json", "md", "png")}
    try:
        paths["json"].write_text(_report_json(result.to_dict()), encoding="utf-8")
        paths["md"].write_text(render_markdown(result, name), encoding="utf-8")
        render_plot(result, paths["png"])
    except OSError as e:
        raise RagError(f"cannot write the reports into {out_dir}: {e.strerror}") from None
    return paths


# --- comparing ---------------------------------------------------------------------------------------


def _check_tolerance(tolerance: float) -> None:
    if not 0 <= tolerance < 1:
        raise ConfigError(f"tolerance must be at least 0 and below 1, got {tolerance}")


def read_report(path: Path) -> dict:
    """A report JSON written by ``write_reports``; RagError when missing or not such a report."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RagError(f"previous report {path} does not exist") from None
    except (OSError, ValueError) as e:
        raise RagError(f"cannot read the previous report {path}: {e}") from None
    if not isinstance(data, dict) or data.get("format") != REPORT_FORMAT or "metrics" not in data:
        raise RagError(f"{path} is not a `rag eval` report JSON")
    return data


def compare(current: dict, previous_json: Path, tolerance: float) -> tuple[str, bool]:
    """Differences of every headline metric, previous -> current, and whether quality held.

    ``ok`` is False when a quality metric where higher is better dropped by more than
    ``tolerance`` (absolute, on the 0..1 scale), or ``answerable_abstained`` (lower is
    better) rose by more. Latency and thresholds are shown but never fail: timings on a
    shared machine are too noisy for a gate.
    """
    _check_tolerance(tolerance)
    previous_json = Path(previous_json)
    previous = read_report(previous_json)
    old, new = previous["metrics"], current["metrics"]
    lines = [f"compared with {previous_json} (tolerance {tolerance:g}):"]
    po, pn = previous.get("settings", {}), current.get("settings", {})
    if (po.get("name"), old.get("n_questions")) != (pn.get("name"), new.get("n_questions")):
        lines.append(
            f"note: different question sets ({po.get('name')}, {old.get('n_questions')} questions -> "
            f"{pn.get('name')}, {new.get('n_questions')}): differences need not be regressions"
        )
    ok = True
    for key in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER, *INFORMATIONAL):
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            if a is not None or b is not None:
                lines.append(f"  {key:<24} {_fmt(a):>9} -> {_fmt(b):>9}")
            continue
        delta = b - a
        flag = ""
        if key in HIGHER_IS_BETTER and delta < -tolerance or key in LOWER_IS_BETTER and delta > tolerance:
            flag, ok = "  REGRESSION", False
        elif key in INFORMATIONAL:
            flag = "  (not checked)"
        digits = 1 if key.endswith("_ms") else 3
        lines.append(f"  {key:<24} {a:>9.{digits}f} -> {b:>9.{digits}f}  {delta:+.{digits}f}{flag}")
    lines.append("ok: no quality metric dropped beyond the tolerance" if ok else "FAILED: quality dropped")
    return "\n".join(lines), ok


# --- the command -------------------------------------------------------------------------------------


def _dataset_name(folder: Path) -> str:
    folder = Path(folder).resolve()
    return folder.parent.name if folder.name == "corpus" else folder.name


_SHORT = (
    ("recall@1", "R@1"),
    ("recall@5", "R@5"),
    ("mrr", "MRR"),
    ("answer_hit@1", "hit@1"),
    ("exact_match", "EM"),
    ("f1", "F1"),
    ("citation_validity", "cite ok"),
    ("citation_correctness", "cite gold"),
    ("unanswerable_abstained", "unans abst"),
    ("answerable_abstained", "ans abst"),
    ("latency_p50_ms", "p50 ms"),
)


def summary_table(result: EvalResult) -> str:
    """A short plain-text table: overall and per question language."""
    m = result.metrics
    lines = [f"{'questions':<12}{'n':>6}" + "".join(f"{label:>11}" for _, label in _SHORT)]
    rows = [{"label": "all", "n": m["n_questions"], **m}, *result.breakdowns["language"]]
    for row in rows:
        cells = "".join(f"{_fmt(row.get(k), 0 if k.endswith('_ms') else 3):>11}" for k, _ in _SHORT)
        lines.append(f"{_group_label(row):<12}{row['n']:>6}" + cells)
    lines.append(
        f"latency p95 {m['latency_p95_ms']:.0f} ms; threshold {_fmt(m['threshold'])}, calibrated "
        f"{_fmt(m['threshold_balanced'])} (balanced) / {_fmt(m['threshold_strict'])} "
        f"(>= {STRICT_ABSTAIN:.0%} unanswerable abstained); invalid citations {m['n_invalid_citations']}"
    )
    return "\n".join(lines)


def cmd_eval(args: argparse.Namespace) -> int:
    """``rag eval``: run a question set, write reports, optionally compare with an earlier report."""
    progress = sys.stderr.isatty()
    settings = Settings.from_env(
        index_dir=getattr(args, "index_dir", None),
        model=getattr(args, "model", None),
        threshold=getattr(args, "threshold", None),  # reaches the Pipeline, and the report's "threshold"
        store=getattr(args, "store", None),
    )
    if getattr(args, "feedback", None) is not None:
        return cmd_feedback(args, settings)
    questions_path, dataset_dir, corpus_arg = args.questions, args.dataset, args.corpus
    if questions_path is not None and dataset_dir is not None:
        raise RagError("give either --questions or --dataset, not both")
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {args.limit}")
    if args.compare is not None:  # fail before the long run, not after it
        _check_tolerance(args.tolerance)
        read_report(args.compare)
    if dataset_dir is not None:
        corpus, questions = load_dataset(dataset_dir, corpus_arg)
        name = _dataset_name(dataset_dir)
        if corpus_arg is not None:
            name = f"{name}-on-{_dataset_name(corpus_arg)}"
        questions_path = Path(dataset_dir) / "questions.jsonl"
    else:
        questions_path = Path(questions_path) if questions_path is not None else SEED_QUESTIONS
        questions = load_questions(questions_path)
        name = "seed" if questions_path.resolve() == SEED_QUESTIONS.resolve() else _slug(questions_path.stem)
        corpus = Path(corpus_arg) if corpus_arg is not None else None
        if corpus is not None:
            name = f"{name}-on-{_dataset_name(corpus)}"
    if corpus is not None:
        settings = eval_index_settings(settings, corpus, progress=progress)
    else:
        corpus = settings.articles_dir
        from rag.index.indexer import build_index

        # Measure the articles as they are now: an up-to-date index is left as it is (well under a second).
        report = build_index(settings, progress=progress)
        if report.wrote:
            print(f"note: index brought up to date first: {report.summary()}", file=sys.stderr)

    from rag.query.pipeline import Pipeline

    pipeline = Pipeline.from_settings(settings)
    dataset = {
        "name": name,
        "questions": str(questions_path),
        "corpus": str(corpus),
        "index": str(settings.index_dir),
    }
    result = run_eval(pipeline, questions, progress=progress, limit=args.limit, dataset=dataset)
    out = Path(args.out) if args.out is not None else DEFAULT_OUT
    paths = write_reports(result, out, name)
    print(summary_table(result))
    for kind, path in paths.items():
        print(f"{kind:>4}: {path}")
    if args.compare is not None:
        text, ok = compare(result.to_dict(), args.compare, args.tolerance)
        print(text)
        if not ok:
            return 1
    return 0


# --- feedback: rag eval --feedback -------------------------------------------------------------------

LOW_CONFIDENCE = 0.5  # below even odds of the calibrated reader: "low confidence"
# The diagnoses of a 👎, in the order the report lists them.
DIAGNOSES = {
    "article_gone": "the cited article is no longer indexed",
    "abstains_now": "answered, but the articles don't support it: abstains now",
    "answer_changed": "answer changed since",
    "low_confidence": "low confidence",
    "same_answer": "answers the same, confidently: check the quote against the question",
    "answers_now": "no answer given; answers now",
    "no_answer": "no answer given, and still none",
    "cannot_ask": "cannot be asked again",
}


@dataclass(frozen=True)
class Diagnosis:
    """What went wrong with one 👎: its entry, a key of :data:`DIAGNOSES` and the message."""

    entry: Any  # rag.present.feedback.FeedbackEntry
    category: str
    message: str


def _short(text: object, limit: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quoted(sentence_or_citation: Mapping[str, Any]) -> str:
    """“quote” — title [file] of a recorded answer sentence or citation (dicts of ``answer_to_dict``);
    a title that is not the article's headline is marked as a stand-in."""
    citation = sentence_or_citation.get("citation", sentence_or_citation)
    quote = _short(sentence_or_citation.get("text") or citation.get("quote"), 160)
    title = _short(citation.get("title") or "(untitled)", 80)
    if citation.get("title_kind", "headline") != "headline":
        title += " (stand-in title)"
    return f"“{quote}” — {title} [{citation.get('location') or '?'}]"


def answered_text(answer: Mapping[str, Any]) -> str:
    """What a recorded answer said: the first quote, its article and the confidence, or "no answer"."""
    confidence = answer.get("confidence")
    conf = f"confidence {confidence:.2f}" if isinstance(confidence, int | float) else "confidence unknown"
    sentences = answer.get("sentences") or []
    if answer.get("abstained") or not sentences or not isinstance(sentences[0], Mapping):
        return f"no answer ({conf})"
    return f"{_quoted(sentences[0])} ({conf})"


def _now_text(answer: Answer) -> str:
    from rag.present.render import answer_to_dict

    return answered_text(answer_to_dict(answer))


def _first_cite(answer: Mapping[str, Any]) -> tuple | None:
    sentences = answer.get("sentences") or []
    if answer.get("abstained") or not sentences or not isinstance(sentences[0], Mapping):
        return None
    c = sentences[0].get("citation") or {}
    return c.get("article_id"), c.get("start"), c.get("end")


def _gone(answer: Mapping[str, Any], index: Any) -> list[str]:
    """The cited articles (title [file]) that the current index holds neither by id nor by file."""
    locations = {a.location for a in index.articles.values()}
    out = []
    for s in answer.get("sentences") or []:
        c = s.get("citation") if isinstance(s, Mapping) else None
        if (
            isinstance(c, Mapping)
            and c.get("article_id") not in index.articles
            and c.get("location") not in locations
        ):
            out.append(f"{c.get('title') or '(untitled)'} [{c.get('location') or '?'}]")
    return out


def _filters_of(recorded: Mapping[str, Any] | None) -> Any:
    """The recorded filters as ``Filters`` (unknown names are an error: ``RagError``)."""
    import dataclasses

    from rag.query.retrieve import Filters

    if not recorded:
        return None
    known = {f.name for f in dataclasses.fields(Filters)}
    unknown = sorted(set(recorded) - known)
    if unknown:
        raise RagError(f"the recorded filters name {', '.join(unknown)}, which this version does not know")
    return Filters(**recorded)


def diagnose_feedback(pipeline: Any, entry: Any) -> Diagnosis:
    """Ask a 👎's question again on the pipeline's current index (with its history and filters) and say
    what went wrong: a key of :data:`DIAGNOSES` and a message."""
    before = entry.answer
    answered = not before.get("abstained") and bool(before.get("sentences"))
    gone = _gone(before, pipeline.index) if answered else []
    try:
        now = pipeline.ask(entry.question, filters=_filters_of(entry.filters), history=entry.history)
    except RagError as e:
        if gone:
            return Diagnosis(
                entry, "article_gone", f"the cited article is no longer indexed: {'; '.join(gone)}"
            )
        return Diagnosis(entry, "cannot_ask", f"cannot be asked again: {e}")
    if gone:
        message = f"the cited article is no longer indexed: {'; '.join(gone)}; now: {_now_text(now)}"
        return Diagnosis(entry, "article_gone", message)
    if not answered:
        if not now.abstained:
            return Diagnosis(entry, "answers_now", f"no answer given; answers now: {_now_text(now)}")
        closest = before.get("closest") or []
        shown = "; ".join(_quoted(c) for c in closest[:2] if isinstance(c, Mapping)) or "none"
        return Diagnosis(entry, "no_answer", f"no answer given; the closest passages were: {shown}")
    if now.abstained:
        message = (
            f"answered, but the articles don't support it: abstains now (confidence {now.confidence:.2f})"
        )
        return Diagnosis(entry, "abstains_now", message)
    cited = now.sentences[0].citation
    if _first_cite(before) != (cited.article_id, cited.start, cited.end):
        return Diagnosis(entry, "answer_changed", f"answer changed since: {_now_text(now)}")
    confidence = before.get("confidence")
    if isinstance(confidence, int | float) and confidence < LOW_CONFIDENCE:
        return Diagnosis(
            entry, "low_confidence", f"low confidence ({confidence:.2f}; now {now.confidence:.2f})"
        )
    return Diagnosis(
        entry,
        "same_answer",
        f"answers the same, confidently ({now.confidence:.2f}): the quote may not answer the question; "
        "check it against the question and the article",
    )


def feedback_report(
    path: Path, entries: Sequence[Any], problems: Sequence[str], diagnoses: Sequence[Diagnosis]
) -> str:
    """The text report of a feedback file: counts, 👎 by diagnosis, skipped lines, then each 👎."""
    ups = sum(1 for e in entries if e.verdict == "up")
    downs = len(entries) - ups
    lines = [f"Feedback in {path}"]
    skipped = f"; {len(problems)} line(s) skipped" if problems else ""
    if not entries:
        lines.append(f"  no verdicts{skipped}" if problems else "  no verdicts yet: the file is empty")
    else:
        lines.append(f"  {len(entries)} verdict(s): {ups} 👍, {downs} 👎{skipped}")
    if diagnoses:
        lines += ["", "👎 by diagnosis:"]
        counts = {k: sum(1 for d in diagnoses if d.category == k) for k in DIAGNOSES}
        lines += [f"  {n:>4}  {DIAGNOSES[k]}" for k, n in counts.items() if n]
    if problems:
        lines += ["", "Skipped lines:"] + [f"  {p}" for p in problems]
    for i, d in enumerate(diagnoses, 1):
        e = d.entry
        when = f", {e.time}" if e.time else ""
        lines += ["", f"👎 {i} (line {e.line}{when}): {e.question}"]
        if e.history:
            lines.append(f"   after:    {' / '.join(e.history)}")
        if e.filters:
            lines.append(f"   filters:  {', '.join(f'{k}={v}' for k, v in e.filters.items())}")
        lines.append(f"   answered: {answered_text(e.answer)}")
        lines.append(f"   now:      {d.message}")
        if e.comment:
            lines.append(f"   comment:  {e.comment}")
    return "\n".join(lines)


def run_feedback(path: Path, settings: Settings, pipeline: Any = None) -> tuple[str, list[Diagnosis]]:
    """Read a feedback file and diagnose its 👎 on the current index (the pipeline is loaded from
    ``settings`` only when there is a 👎). Returns (the text report, the diagnoses)."""
    from rag.present.feedback import read_feedback

    entries, problems = read_feedback(path)
    downs = [e for e in entries if e.verdict == "down"]
    diagnoses: list[Diagnosis] = []
    if downs:
        if pipeline is None:
            from rag.query.pipeline import Pipeline

            pipeline = Pipeline.from_settings(settings)
        diagnoses = [diagnose_feedback(pipeline, e) for e in downs]
    return feedback_report(path, entries, problems, diagnoses), diagnoses


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    """``rag eval --feedback FILE``: the report of a feedback file on the current index (left as it is)."""
    others = [
        f"--{name}" for name in ("questions", "dataset", "corpus", "out", "compare", "limit")
        if getattr(args, name, None) is not None
    ]  # fmt: skip
    if others:
        raise RagError(
            f"--feedback reports on the chat's verdicts; it does not combine with {', '.join(others)}"
        )
    text, _ = run_feedback(Path(args.feedback), settings)
    print(text)
    return 0
