"""The question-answering pipeline: question -> retrieval -> reader -> quoted answer with citations.

    pipeline = Pipeline.from_settings(Settings())            # loads the models and the index once
    answer = pipeline.ask("Who visited Seoul in January 2026?")
    answer.text, answer.citations, answer.short_answer, answer.also_reported
    pipeline.ask("When did she arrive?", history=["Who visited Seoul in January 2026?"])
    pipeline.reload_if_changed()                              # after `rag index` rebuilt it
    pipeline.reload_problem                                   # why a new build is not served, or None

Steps of ``ask`` (no file is read and no model loaded on a warm call):

1. ``Query.build`` (``rag.query.question``) cleans and checks the question, reads a follow-up's
   context from the conversation and detects the language, once.
2. ``rag.query.retrieve`` ranks the chunks (a follow-up's context blended into the query vector);
   the 10 best are ``Answer.hits``.
3. ``rag.query.answer`` ranks the sentences of the best chunks; the reader (``rag.query.reader``) reads the
   best of them (at most ``reader.windows``), each as its own window, and gives each a span and a
   calibrated probability that it answers the question.
4. The answer is the sentence of highest probability less ``reader.rank_penalty`` per step down
   the ranking (``rag.query.reader.choose``, which stops reading once no later sentence can win), with
   its span as the short answer. ``Answer.confidence`` is its probability weighed with what retrieval
   found (``rag.query.confidence``: how much of the question the sentence and its neighbours hold,
   how close it is to the question). Below the threshold
   (``threshold``, or ``threshold_other_language`` when the question and the sentence are in two
   languages) the pipeline abstains and ``closest`` holds the best sentence of each of the three best chunks.
5. Corroboration: sentences of *other* articles whose vector has cosine at least
   :data:`ALSO_REPORTED_COSINE` with the answer sentence (any language).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.config import DEFAULT_THRESHOLD, Settings, check_threshold, reader_thresholds
from rag.errors import QuestionError, RagError
from rag.index.embed import Embedder
from rag.index.store import Index, open_store
from rag.query import answer as ans
from rag.query.confidence import Confidence, evidence, two_languages
from rag.query.lexical import LexicalIndex
from rag.query.question import MAX_QUESTION_CHARS, Query, clean_question, followup_context
from rag.query.reader import Reading, choose
from rag.query.retrieve import CONTEXT_WEIGHT, Filters, Ranked, Retriever
from rag.types import Answer, AnswerSentence, Article, Citation, Hit, Span

LOG = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_QUESTION_CHARS",
    "Filters",
    "Pipeline",
    "clean_question",
    "followup_context",
]

N_HITS = 10
N_CLOSEST = 3
MAX_ALSO_REPORTED = 5
# Sentences of two articles "report the same thing" from this cosine: eval/NOTES.md, "Also reported by".
ALSO_REPORTED_COSINE = 0.9


class ReaderLike(Protocol):
    windows: int  # candidate sentences a question may read
    rank_penalty: float  # what each step down the candidate ranking costs (rag.query.reader.choose)

    def read(self, question: str, windows: list[str]) -> list[Reading]: ...


@dataclass(frozen=True)
class _State:
    """What one index build needs in memory; replaced whole by ``reload_if_changed``."""

    index: Index
    retriever: Retriever


class Pipeline:
    """Loads the models and the index once; answers questions. Thread-safe."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        index: Index,
        reader: ReaderLike,
        *,
        threshold: float | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.reader = reader
        if threshold is None:  # the argument, then the settings, then the reader's calibrated defaults
            threshold = settings.threshold
        if threshold is None:
            threshold, other = reader_thresholds(settings.reader)
        else:
            other = threshold
        self.threshold = check_threshold(threshold)  # question and answer sentence in one language
        self.threshold_other_language = check_threshold(other)  # in two
        # The reader's probability weighed with the evidence (rag.query.confidence), if it has a model.
        self.confidence = Confidence.from_manifest(getattr(reader, "manifest", None))
        self._state = _State(index, Retriever(index, LexicalIndex(index)))
        self._reload_lock = threading.Lock()
        self._store = open_store(settings)
        self._failed: tuple[tuple[str, int | None], str] | None = None  # (build identity, its error)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        reader: ReaderLike | None = None,
        threshold: float | None = None,
    ) -> Pipeline:
        """Load the embedding model (``rag.index.embed.load_embedder``), the reader
        (``rag.query.reader``) and the index in ``settings.index_dir``. The abstention threshold is
        ``threshold``, else ``settings.threshold``, else the reader's own two
        (``rag.config.reader_thresholds``)."""
        t0 = time.perf_counter()
        if embedder is None:
            from rag.index.embed import load_embedder

            embedder = load_embedder(settings)
        index = open_store(settings).open(model_id=embedder.model_id)
        if reader is None:
            from rag.query.reader import Reader

            reader = Reader.load(
                settings.cache_dir, manifest_path=settings.reader, word_embeddings=embedder.word_embeddings()
            )
        pipeline = cls(settings, embedder, index, reader, threshold=threshold)
        LOG.info("pipeline ready in %.2f s (build %s)", time.perf_counter() - t0, index.build_id)
        return pipeline

    @property
    def index(self) -> Index:
        """The build in use (a request in flight keeps the one it started with)."""
        return self._state.index

    # --- reloading -----------------------------------------------------------------------------------

    def reload_if_changed(self) -> bool:
        """Load the build that ``CURRENT`` names if it is not the one in use, and swap it in.

        Cheap when nothing changed (one small file read). Returns True when a new build was
        swapped in. A build that cannot be loaded leaves the one in use and raises its error once:
        that build is not tried again (and nothing is raised) until ``CURRENT`` names another build
        or its manifest is rewritten; meanwhile :attr:`reload_problem` holds the error.
        """
        name = self._store.current()
        if name is None or name == self._state.index.build_id:
            self._failed = None
            return False
        if self._failed is not None and self._failed[0] == self._store.identity(name):
            return False
        with self._reload_lock:
            name = self._store.current()
            if name is None or name == self._state.index.build_id:
                return False
            identity = self._store.identity(name)
            if self._failed is not None and self._failed[0] == identity:
                return False
            t0 = time.perf_counter()
            try:
                index = self._store.open(model_id=self.embedder.model_id)
            except RagError as e:
                self._failed = (identity, str(e))
                raise
            state = _State(index, Retriever(index, LexicalIndex(index)))
            self._state = state  # one reference assignment: readers see the old or the new state whole
            self._failed = None
            LOG.info("switched to index build %s in %.2f s", index.build_id, time.perf_counter() - t0)
        return True

    @property
    def reload_problem(self) -> str | None:
        """Why the build ``CURRENT`` names is not served (the error it raised when loaded), or None."""
        failed = self._failed
        return None if failed is None else failed[1]

    # --- asking ----------------------------------------------------------------------------------------

    def _vectors(self, query: Query) -> tuple[np.ndarray, np.ndarray]:
        """(retrieval vector, the question embedded as a passage): the retrieval vector blends in
        the context of a follow-up; the passage form scores answer sentences."""
        texts = [query.text] + ([query.context] if query.context else [])
        vectors, passage = self.embedder.embed_queries_and_documents(texts, [query.text])
        q = vectors[0]
        if not query.context:
            return q, passage[0]
        blended = q + CONTEXT_WEIGHT * vectors[1]
        return blended / max(float(np.linalg.norm(blended)), 1e-12), passage[0]

    def retrieve(self, question: str, *, k: int = N_HITS, filters: Filters | None = None) -> list[Hit]:
        """The ``k`` best chunks for a question, best first (near-duplicates removed)."""
        query = Query.build(question)
        if not isinstance(k, int) or k < 1:
            raise QuestionError(f"k must be a whole number of at least 1, got {k!r}")
        q = self.embedder.embed_queries([query.text])[0]
        ranked = self._state.retriever.rank(
            q, query.text, filters=filters, depth=max(k, 50), language=query.language
        )
        return ranked.hits(k)

    def candidates(
        self, query: Query, filters: Filters | None = None
    ) -> tuple[_State, Ranked, tuple[Hit, ...], list[ans.Candidate]]:
        """Steps 2 and 3 of ``ask`` up to the reader: (the build used, its chunk ranking, the best
        chunks, the candidate sentences best first)."""
        state = self._state  # the whole request uses this build
        retrieval_vector, passage_vector = self._vectors(query)
        ranked = state.retriever.rank(
            retrieval_vector, query.text, filters=filters, context=query.context, language=query.language
        )
        hits = tuple(ranked.hits(N_HITS))
        if not hits:
            return state, ranked, hits, []
        cross = query.language != "und" and query.language not in state.retriever.languages
        candidates = ans.sentence_candidates(
            state.retriever, ranked, query, passage_vector=passage_vector, cross=cross
        )
        return state, ranked, hits, candidates

    def threshold_for(self, query: Query, article: Article) -> float:
        """The abstention threshold for an answer from ``article``: the reader reads a question and a
        sentence in two languages with less confidence (eval/NOTES.md, "Reader threshold across
        languages")."""
        return (
            self.threshold_other_language
            if two_languages(query.language, article.language)
            else self.threshold
        )

    def ask(self, question: str, *, filters: Filters | None = None, history: Sequence[str] = ()) -> Answer:
        """Answer a question from the articles, or abstain. Raises ``QuestionError`` for bad input."""
        query = Query.build(question, history or ())
        state, ranked, hits, candidates = self.candidates(query, filters)
        if not candidates:
            return Answer(question=query.text, abstained=True, confidence=0.0, hits=hits)
        read = candidates[: self.reader.windows]
        texts = [state.index.sentences[c.sentence_id].text for c in read]
        readings = (self.reader.read(query.text, [t])[0] for t in texts)  # one at a time: see choose()
        chosen = choose(readings, self.reader.rank_penalty)
        assert chosen is not None  # there was a candidate to read
        k, reading = chosen
        best = read[k]
        confidence = float(reading.probability)
        if self.confidence is not None:  # not used to choose: eval/NOTES.md, "Confidence from the reader"
            confidence = self.confidence.probability(evidence(state.retriever, query, best, reading))
        if confidence < self.threshold_for(
            query, state.index.articles[state.index.sentences[best.sentence_id].article_id]
        ):
            return Answer(
                question=query.text,
                abstained=True,
                confidence=confidence,
                closest=_closest(state, ranked, candidates),
                hits=hits,
            )
        return Answer(
            question=query.text,
            sentences=(_answer_sentence(state, best, reading),),
            also_reported=_also_reported(state, best.sentence_id, filters),
            confidence=confidence,
            abstained=False,
            hits=hits,
        )


def _answer_sentence(state: _State, c: ans.Candidate, reading: Reading) -> AnswerSentence:
    """The chosen sentence with its citation, and the reader's span as the short answer."""
    index = state.index
    sentence = index.sentences[c.sentence_id]
    article = index.articles[sentence.article_id]
    citation = ans.cite(article, sentence.start, sentence.end)
    short = None
    if reading.end > reading.start:
        start, end = sentence.start + reading.start, sentence.start + reading.end
        short = Span(start, end, article.text[start:end])
        assert short.text == reading.text
    return AnswerSentence(text=citation.quote, citation=citation, short_answer=short, score=float(c.score))


def _closest(state: _State, ranked: Ranked, candidates: list[ans.Candidate]) -> tuple[Citation, ...]:
    """The best sentence of each of the best chunks, as citations (for an abstention)."""
    out: list[Citation] = []
    seen_chunks: set[int] = set()
    for c in candidates:
        if c.chunk_id in seen_chunks:
            continue
        seen_chunks.add(c.chunk_id)
        s = state.index.sentences[c.sentence_id]
        out.append(ans.cite(state.index.articles[s.article_id], s.start, s.end))
        if len(out) == N_CLOSEST:
            break
    return tuple(out)


def _also_reported(state: _State, sentence_id: int, filters: Filters | None) -> tuple[Citation, ...]:
    """Sentences of other articles that state the same thing (cosine >= ALSO_REPORTED_COSINE), the
    best one per article, most similar first."""
    index = state.index
    vectors = index.sentence_vectors
    if not len(vectors):
        return ()
    article_id = index.sentences[sentence_id].article_id
    sims = vectors @ vectors[sentence_id]
    mask = state.retriever.sentence_mask(filters)
    best: dict[str, tuple[float, int]] = {}
    for sid in np.flatnonzero(sims >= ALSO_REPORTED_COSINE):
        sid = int(sid)
        other = index.sentences[sid].article_id
        if other == article_id or (mask is not None and not mask[sid]):
            continue
        if other not in best or sims[sid] > best[other][0]:
            best[other] = (float(sims[sid]), sid)
    out = []
    for _, sid in sorted(best.values(), reverse=True)[:MAX_ALSO_REPORTED]:
        s = index.sentences[sid]
        out.append(ans.cite(index.articles[s.article_id], s.start, s.end))
    return tuple(out)
