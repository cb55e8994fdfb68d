"""Candidate answer sentences for the reader, and the citations that quote them exactly.

    cands = sentence_candidates(retriever, ranked, query)    # best first
    cite(article, start, end)   -> Citation with quote == article.text[start:end] (asserted)

Every sentence of the best retrieved chunks is scored with a linear combination of features
whose weights are read from ``rag/models/sentence-weights-v2.json`` (fitted by
``eval/fit_sentences.py`` on the half of XQuAD the reader was trained on); the reader
(``rag.query.reader``) then reads the best few and picks the answer among them. A question in a
language none of the articles have uses the ``other_language`` weights.

* ``dense``: cosine of the question and the sentence (vectors precomputed at index time);
* ``symmetric``: cosine of the sentence and the question embedded as a passage, like the sentences;
* ``lexical_rel``: idf-weighted share of the question's terms that the sentence contains
  (the question read in the sentence's language, ``rag.query.lexical``), times how much lexical
  evidence means for this question (near 0 across languages);
* ``context``: the share the two neighbouring sentences add;
* ``passage`` / ``top``: the fused retrieval score of the sentence's chunk minus the
  best chunk's, and whether it is in the best chunk (or one within ``top_ramp`` of it).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import ModelError
from rag.query.question import Query
from rag.query.retrieve import Ranked, Retriever
from rag.types import Article, Citation

__all__ = ["Candidate", "cite", "neighbour_terms", "sentence_candidates", "sentence_weights"]

WEIGHTS_FILE = Path(__file__).resolve().parent.parent / "models" / "sentence-weights-v2.json"


def cite(article: Article, start: int, end: int) -> Citation:
    """The one place citations are made: the quote is sliced from the article text.

    >>> a = Article(id="a1", location="a.txt", title="T", text="Hello there. Bye.", language="en")
    >>> cite(a, 0, 12).quote
    'Hello there.'
    """
    if not 0 <= start < end <= len(article.text):
        raise ValueError(
            f"citation offsets {start}-{end} are outside article {article.id} ({len(article.text)} chars)"
        )
    quote = article.text[start:end]
    citation = Citation(
        article_id=article.id,
        title=article.title,
        location=article.location,
        start=start,
        end=end,
        quote=quote,
        source=article.source,
        published=article.published,
        language=article.language,
        url=article.url,
        title_kind=article.title_kind,
    )
    assert citation.quote == article.text[citation.start : citation.end]
    return citation


@functools.cache
def sentence_weights(path: Path = WEIGHTS_FILE) -> dict:
    """The versioned weights file, checked (``ModelError`` naming the file when it is damaged)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        features = list(data["features"])
        for key in ("same_language", "other_language"):
            if set(data[key]) != set(features):
                raise ValueError(f"{key} does not weigh exactly the features {features}")
        for key in ("top_ramp", "lexical_reliable", "candidate_chunks"):
            float(data[key])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(
            f"the sentence weights {path} cannot be read ({err}): "
            "restore it with `git checkout -- rag/models/`"
        ) from err
    return data


@dataclass
class Candidate:
    """A sentence that may answer, with its features and score."""

    sentence_id: int
    chunk_id: int
    features: dict[str, float]
    score: float = 0.0


def sentence_candidates(
    retriever: Retriever,
    ranked: Ranked,
    query: Query,
    *,
    passage_vector: np.ndarray | None = None,
    cross: bool = False,
) -> list[Candidate]:
    """The sentences of the best chunks with their features and scores, best first; titles,
    headings and bare references (``rag.index.sentences.can_answer``) are left out. ``cross`` (the
    question's language is none of the articles') picks the ``other_language`` weights."""
    config = sentence_weights()
    index, lex = retriever.index, retriever.lexical
    order = ranked.order[: int(config["candidate_chunks"])]
    if not order:
        return []
    top_score = float(ranked.fused[order[0]])
    ramp = float(config["top_ramp"])
    best_chunk: dict[int, int] = {}
    for cid in order:
        for sid in retriever.chunk_sentences[cid]:
            best_chunk.setdefault(sid, cid)
    reliability = min(1.0, float(np.max(ranked.lexical[order])) / float(config["lexical_reliable"]))
    q_weights: dict[str, tuple[dict[str, float], float]] = {}
    out: list[Candidate] = []
    for sid, cid in best_chunk.items():
        sentence = index.sentences[sid]
        if not retriever.answering[sid]:  # rag.index.sentences.can_answer, computed once per index
            continue
        language = index.articles[sentence.article_id].language
        if language not in q_weights:
            w = lex.question_weights(query.text, language, query.context)
            q_weights[language] = (w, sum(w.values()) or 1.0)
        qw, total = q_weights[language]
        terms = retriever.sentence_terms[sid]
        own = sum(v for t, v in qw.items() if t in terms)
        neighbours = neighbour_terms(retriever, sid)
        around = sum(v for t, v in qw.items() if t in neighbours and t not in terms)
        dense = float(ranked.sentence_cos[sid])
        symmetric = (
            dense if passage_vector is None else float(retriever.sentence_vectors[sid] @ passage_vector)
        )
        features = {
            "dense": dense,
            "symmetric": symmetric,
            "lexical_rel": reliability * own / total,
            "context": around / total,
            "passage": float(ranked.fused[cid]) - top_score,
            "top": max(0.0, 1.0 + (float(ranked.fused[cid]) - top_score) / ramp),
        }
        out.append(Candidate(sid, cid, features))
    weights = config["other_language" if cross else "same_language"]
    for c in out:
        c.score = sum(w * c.features[f] for f, w in weights.items())
    out.sort(key=lambda c: -c.score)
    return out


def neighbour_terms(retriever: Retriever, sentence_id: int, excluded: Set[int] = frozenset()) -> set[str]:
    """The lexical terms of the sentences just before and after one, in the same article; those in
    ``excluded`` count as absent."""
    index = retriever.index
    ids = index.sentence_ids(index.sentences[sentence_id].article_id)
    out: set[str] = set()
    for nid in (sentence_id - 1, sentence_id + 1):
        if nid in ids and nid not in excluded:
            out |= retriever.sentence_terms[nid]
    return out
