"""The confidence that decides abstention: the reader's probability weighed with what retrieval found.

    model = Confidence.from_manifest(reader.manifest)     # the manifest's "confidence" entry, or None
    x = evidence(retriever, query, candidate, reading)     # the named features of one answer
    model.probability(x)                                   # in [0, 1]; below the threshold: abstain

The reader sees one window; it cannot tell that the question's main word ("population",
"ambassador") is nowhere near the sentence it read. A logistic model over four features,
fitted by ``eval/fit_reading.py`` on questions nobody reports figures on (its figures:
eval/NOTES.md, "Confidence from the reader and the evidence"), combines:

* ``reader``: the logit of the reader's calibrated probability for the chosen window;
* ``coverage``: the idf-weighted share of the question's terms (read in the sentence's language,
  ``rag.query.lexical``) that the sentence or the sentences just before and after it hold; 0 when
  the question and the sentence are in two languages (their words cannot match);
* ``symmetric``: the cosine of the sentence and the question embedded as a passage;
* ``two_languages``: 1 when the question and the sentence are in two languages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from rag.errors import ModelError
from rag.query.answer import Candidate, neighbour_terms
from rag.query.question import Query
from rag.query.reader import Reading
from rag.query.retrieve import Retriever

__all__ = ["FEATURES", "Confidence", "coverage", "evidence", "two_languages"]

FEATURES = ("reader", "coverage", "symmetric", "two_languages")
_LOGIT_CLIP = 1e-4  # a probability of exactly 0 or 1 has no logit


def two_languages(question_language: str, sentence_language: str) -> bool:
    """Whether a question and a sentence are in two known languages ("und" counts as the same)."""
    return "und" not in (question_language, sentence_language) and question_language != sentence_language


def coverage(retriever: Retriever, query: Query, sentence_id: int, excluded: Set[int] = frozenset()) -> float:
    """The idf-weighted share of the question's terms that sentence ``sentence_id`` or its
    neighbours in the same article hold; sentences in ``excluded`` count as absent (the fit
    removes the answer's sentences to make questions the articles cannot answer)."""
    index = retriever.index
    sentence = index.sentences[sentence_id]
    language = index.articles[sentence.article_id].language
    weights = retriever.lexical.question_weights(query.text, language, query.context)
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    near = neighbour_terms(retriever, sentence_id, excluded)
    if sentence_id not in excluded:
        near |= retriever.sentence_terms[sentence_id]
    return sum(w for t, w in weights.items() if t in near) / total


def evidence(
    retriever: Retriever,
    query: Query,
    candidate: Candidate,
    reading: Reading,
    *,
    excluded: Set[int] = frozenset(),
) -> dict[str, float]:
    """The features of :data:`FEATURES` for the sentence ``candidate`` as the reader read it."""
    index = retriever.index
    sentence = index.sentences[candidate.sentence_id]
    two = two_languages(query.language, index.articles[sentence.article_id].language)
    p = min(max(float(reading.probability), _LOGIT_CLIP), 1.0 - _LOGIT_CLIP)
    return {
        "reader": math.log(p / (1.0 - p)),
        "coverage": 0.0 if two else coverage(retriever, query, candidate.sentence_id, excluded),
        "symmetric": float(candidate.features["symmetric"]),
        "two_languages": float(two),
    }


@dataclass(frozen=True)
class Confidence:
    """A fitted logistic model over :data:`FEATURES`."""

    weights: Mapping[str, float]
    bias: float

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any] | None) -> Confidence | None:
        """The model of the reader manifest's ``confidence`` entry; None when it has none (the
        reader's probability is then the confidence). ``ModelError`` when the entry is damaged."""
        entry = (manifest or {}).get("confidence")
        if entry is None:
            return None
        try:
            weights = {str(k): float(v) for k, v in dict(entry["weights"]).items()}
            bias = float(entry["bias"])
            if set(weights) != set(FEATURES) or not all(map(math.isfinite, [*weights.values(), bias])):
                raise ValueError(f"it must weigh exactly {', '.join(FEATURES)} with finite numbers")
        except (KeyError, TypeError, ValueError) as err:
            raise ModelError(
                f"the reader's manifest has a bad 'confidence' entry ({err}): "
                "restore it with `git checkout -- rag/models/`"
            ) from err
        return cls(weights, bias)

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * float(features[name]) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
