"""Retrieval: rank the chunks of a loaded index for a question, fusing dense and lexical evidence.

    retriever = Retriever(index, LexicalIndex(index))
    ranked = retriever.rank(query_vector, "Who visited Seoul?", filters=Filters(language="en"))
    ranked.hits(10)          # [Hit(chunk, score, dense, lexical), ...] best first, near-duplicates removed

Every chunk is scored (the corpora this tool is for hold thousands of chunks: a
matrix product, not an approximate search), after the filters have removed the
chunks they exclude. The fused score is

    0.35 * dense + 0.65 * sentence + 0.08 * coverage + 0.08 * window

* ``dense``: cosine of the question and the chunk;
* ``sentence``: the largest cosine of the question and one of the chunk's sentences,
  titles and headings left out (``rag.index.sentences.can_answer``; sentence vectors are
  precomputed at index time, so this costs one more matrix product). It is the
  strongest single signal: a long chunk's vector is an average, a question is
  usually answered by one sentence;
* ``coverage``: BM25 over chunks divided by the largest score the question could
  get, so in [0, 1] and comparable between questions (``rag.query.lexical``). It knows by
  itself when lexical evidence means something: a German question against English
  chunks has most of its terms unseen there, so its coverage is near 0 everywhere
  and it barely moves the ranking, where rank fusion (RRF) would hand BM25's
  arbitrary order the same say as the dense one;
* ``window``: the idf-weighted share of the question's terms found in the best two
  adjacent sentences of the chunk (only for the 50 best chunks of the first three).

In a corpus of several languages, chunks in another language than the question's get
:data:`OTHER_LANGUAGE_BONUS` on top: coverage and window only reach chunks in the question's
language, so without it an article in another language that holds the answer loses to
same-language chunks that merely share the question's words (measured: eval/NOTES.md,
"Other-language bonus" (2026-11-26)).

The weights were fitted on XQuAD (2-fold cross-validation by article); the rankings compared
and the figures: eval/NOTES.md, "Fused ranking weights" (2026-11-25).

Near-duplicates: a chunk whose vector has cosine > :data:`DUPLICATE_COSINE` with a
better-ranked chunk of another article (the same wire story in two outlets) is
dropped from the hits, so it cannot crowd out other evidence; it still counts as
corroboration when answers are built.

Speed: a warm ``rank`` is two matrix-vector products, BM25 and Python over the 50 best
chunks (about 2 ms on XQuAD-en). Building a ``Retriever`` makes numpy's BLAS run on one
thread for the whole process (:func:`limit_blas_threads`): with two, OpenBLAS splits a product
between the cores and, on a busy machine, waits for a time slice of the other one (measured:
eval/NOTES.md, "BLAS on one thread" (2026-11-26)). The per-chunk and per-sentence
tables (sentences of a chunk, article of a row, filter masks) are computed once per index.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from rag.errors import ConfigError
from rag.index.sentences import can_answer
from rag.index.store import Index
from rag.query.lexical import LexicalIndex
from rag.types import Article, Hit

LOG = logging.getLogger(__name__)

W_DENSE, W_SENTENCE, W_COVERAGE, W_WINDOW = 0.35, 0.65, 0.08, 0.08
WINDOW_CANDIDATES = 50
DUPLICATE_COSINE = 0.95
CONTEXT_WEIGHT = 0.5  # weight of a follow-up question's context (the previous question)
# For chunks in another language than the question's: eval/NOTES.md, "Other-language bonus" (2026-11-26).
OTHER_LANGUAGE_BONUS = 0.01
# Two float32 cosines of unit vectors of 384 dimensions computed in different orders differ by
# at most 384 * 2**-24 * 2 ~ 5e-5 (measured: 2e-7); the near-duplicate screen allows twice that.
_SCREEN_MARGIN = 1e-4

_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
UNKNOWN = "unknown"  # Filters(source=UNKNOWN): the articles that name no outlet


@dataclass(frozen=True)
class Filters:
    """Which articles may answer: all fields optional.

    * ``language``: an ISO 639-1 code; "und" for the articles whose language is unknown.
    * ``source``: a case-insensitive substring of the outlet; :data:`UNKNOWN` ("unknown")
      for the articles that name no outlet.
    * ``since``/``until``: ISO dates of day, month or year precision (``2026-01-19``,
      ``2026-01``, ``2026``), inclusive. A date is an interval: "2026-01" is 2026-01-01 to
      2026-01-31 as a bound and as an article's date. An article passes when its interval
      overlaps the filter's range, so "since 2026-01-15" keeps an article dated "2026-01"
      or "2026" (it may be from after the 15th) and "until 2025" drops both.
    * ``include_undated``: articles with no date pass a date bound too (by default a date
      bound leaves them out: nothing says they are in the range).
    """

    language: str | None = None
    source: str | None = None
    since: str | None = None
    until: str | None = None
    include_undated: bool = False

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is None:
                continue
            value = str(value).strip()
            if not _DATE.match(value) or not _valid_date(value):
                raise ConfigError(
                    f"--{name} must be a date like 2026-01-19 (or 2026-01, 2026), got {value!r}"
                )
            object.__setattr__(self, name, value)
        if self.since and self.until and date_span(self.since)[0] > date_span(self.until)[1]:
            raise ConfigError(f"--since {self.since} is after --until {self.until}: no article can match")
        for name in ("language", "source"):
            value = getattr(self, name)
            if value is not None:
                value = str(value).strip()
                object.__setattr__(self, name, value or None)
        object.__setattr__(self, "include_undated", bool(self.include_undated))

    @property
    def empty(self) -> bool:
        return not (self.language or self.source or self.since or self.until)

    def admits(self, language: str, source: str | None, published: str | None) -> bool:
        """Whether an article with these fields passes the filters."""
        if self.language and language.casefold().split("-")[0] != self.language.casefold().split("-")[0]:
            return False
        if self.source:
            if self.source.casefold() == UNKNOWN:
                if source:
                    return False
            elif not source or self.source.casefold() not in source.casefold():
                return False
        if self.since or self.until:
            span = date_span(published)
            if span is None:
                return self.include_undated
            if self.since and span[1] < date_span(self.since)[0]:
                return False
            if self.until and span[0] > date_span(self.until)[1]:
                return False
        return True


@functools.lru_cache(maxsize=4096)
def date_span(value: str | None) -> tuple[date, date] | None:
    """The first and last day an ISO date of day, month or year precision stands for:
    "2026-01" -> (2026-01-01, 2026-01-31), "2026" -> (2026-01-01, 2026-12-31); None for no
    date or one that is not such a date (an article's unreadable date counts as no date)."""
    if not value or not _DATE.match(value := value.strip()) or not _valid_date(value):
        return None
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        day = date(*parts)
        return day, day
    if len(parts) == 2:
        last_day = calendar.monthrange(parts[0], parts[1])[1]
        return date(parts[0], parts[1], 1), date(parts[0], parts[1], last_day)
    return date(parts[0], 1, 1), date(parts[0], 12, 31)


def unmatched(filters: Filters | None, articles: Mapping[str, Article]) -> str | None:
    """None when ``filters`` admit at least one of ``articles``; otherwise what the articles offer,
    for the message that says so: "languages de, en; outlets AJP, Yonhap, unknown (3 articles name
    none); published 2023 to 2026-01-19; 1 article without a date (a date filter leaves it out
    unless undated articles are included)"."""
    if filters is None or filters.empty:
        return None
    if any(filters.admits(a.language, a.source, a.published) for a in articles.values()):
        return None
    languages = sorted({a.language for a in articles.values()})
    outlets = sorted({a.source for a in articles.values() if a.source}, key=str.casefold)
    no_outlet = sum(1 for a in articles.values() if not a.source)
    if no_outlet:
        outlets.append(f"{UNKNOWN} ({_articles(no_outlet)} name{'s' if no_outlet == 1 else ''} none)")
    spans = {a.published.strip(): span for a in articles.values() if (span := date_span(a.published))}
    undated = sum(1 for a in articles.values() if date_span(a.published) is None)
    offer = [f"languages {', '.join(languages) or 'none'}", f"outlets {', '.join(outlets) or 'none known'}"]
    if spans:
        first = min(spans, key=lambda d: spans[d][0])
        last = max(spans, key=lambda d: spans[d][1])
        offer.append(f"published {first}" + (f" to {last}" if last != first else ""))
    if undated:
        offer.append(
            f"{_articles(undated)} without a date (a date filter leaves "
            f"{'it' if undated == 1 else 'them'} out unless undated articles are included)"
        )
    return "; ".join(offer)


def _articles(n: int) -> str:
    return f"{n} article{'s' if n != 1 else ''}"


def _valid_date(value: str) -> bool:
    parts = [int(p) for p in value.split("-")] + [1, 1]
    try:
        date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return True


@dataclass
class Ranked:
    """The scores of one question over every chunk, and the order they give."""

    retriever: Retriever
    fused: np.ndarray  # per chunk; -inf for chunks the filters exclude
    dense: np.ndarray
    lexical: np.ndarray
    sentence_cos: np.ndarray  # per sentence of the index
    order: list[int]  # chunk ids, best first, near-duplicates removed, filtered out excluded
    query_vector: np.ndarray

    def hits(self, k: int = 10) -> list[Hit]:
        chunks = self.retriever.index.chunks
        return [
            Hit(
                chunk=chunks[i],
                score=float(self.fused[i]),
                dense=float(self.dense[i]),
                lexical=float(self.lexical[i]),
            )
            for i in self.order[:k]
        ]


class Retriever:
    """Scores the chunks of one loaded index. Read-only after construction: safe to share between threads."""

    def __init__(self, index: Index, lexical: LexicalIndex | None = None) -> None:
        self.index = index
        self.lexical = lexical if lexical is not None else LexicalIndex(index)
        # Sentences overlapping each chunk (a chunk cut out of an over-long sentence has none inside it).
        flat: list[int] = []
        offsets: list[int] = []
        self.chunk_sentences: list[list[int]] = []
        # The "sentence" score of a chunk is the best of its sentences that can answer: not a title
        # (whose cosine with any question about the article is high, rag.index.sentences.can_answer).
        # rag.query.answer reads the same list: those sentences are never answer candidates either.
        # An article's own title line is not an answer either, however long it is.
        titles = {a.id: _folded(a.title) for a in index.articles.values()}
        self.answering: list[bool] = [
            can_answer(s.text) and _folded(s.text) != titles.get(s.article_id) for s in index.sentences
        ]
        no_sentence: list[bool] = []
        for chunk in index.chunks:
            ids = _overlapping(index, chunk.article_id, chunk.start, chunk.end)
            self.chunk_sentences.append(ids)
            scored = [i for i in ids if self.answering[i]]
            offsets.append(len(flat))
            flat.extend(scored or [-1])
            no_sentence.append(not scored)
        self._flat = np.asarray(flat, dtype=np.int64)
        self._offsets = np.asarray(offsets, dtype=np.int64)
        self._no_sentence = np.asarray(no_sentence, dtype=bool)
        self.sentence_terms = [frozenset(t) for t in self.lexical.sentence_terms]
        # Articles as small integers, per chunk and per sentence, for array comparisons.
        codes: dict[str, int] = {}
        self._chunk_article = np.asarray(
            [codes.setdefault(c.article_id, len(codes)) for c in index.chunks], dtype=np.int64
        )
        self._sentence_article = np.asarray(
            [codes.setdefault(s.article_id, len(codes)) for s in index.sentences], dtype=np.int64
        )
        self._chunk_language = [index.articles[c.article_id].language for c in index.chunks]
        self.languages = frozenset(a.language for a in index.articles.values())
        # Per language of a corpus of several: 1.0 for the chunks in another language (OTHER_LANGUAGE_BONUS).
        self._other_language = (
            {
                lang: np.asarray([c != lang for c in self._chunk_language], dtype=np.float32)
                for lang in self.languages
            }
            if len(self.languages) > 1
            else {}
        )
        self._mask_cache: dict[Filters, np.ndarray] = {}
        self._sentence_mask_cache: dict[Filters, np.ndarray] = {}
        self.chunk_vectors, self.sentence_vectors = self._language_centred()
        limit_blas_threads()

    def _language_centred(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk and sentence vectors minus their language's offset from the corpus mean.

        Multilingual embeddings score a question higher against any text in its own language;
        subtracting each language's mean direction (relative to the whole corpus) removes that
        bias, so an English question can be answered from a German article. With one language
        the vectors are unchanged. Means are over sentences.
        """
        index = self.index
        chunks, sentences = index.chunk_vectors, index.sentence_vectors
        if not len(sentences):
            return chunks, sentences
        language_of = {aid: a.language for aid, a in index.articles.items()}
        s_lang = np.asarray([language_of.get(s.article_id, "und") for s in index.sentences])
        languages = sorted(set(s_lang.tolist()))
        if len(languages) < 2:
            return chunks, sentences
        overall = sentences.mean(axis=0)
        offsets = {lang: sentences[s_lang == lang].mean(axis=0) - overall for lang in languages}
        c_lang = [language_of.get(c.article_id, "und") for c in index.chunks]
        chunks = chunks - np.stack([offsets.get(lang, 0 * overall) for lang in c_lang]).astype(np.float32)
        sentences = sentences - np.stack([offsets[lang] for lang in s_lang]).astype(np.float32)
        return np.ascontiguousarray(chunks, np.float32), np.ascontiguousarray(sentences, np.float32)

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of the chunks the filters admit (None: no filter)."""
        if filters is None or filters.empty:
            return None
        cached = self._mask_cache.get(filters)
        if cached is not None:
            return cached
        admitted = {
            aid for aid, a in self.index.articles.items() if filters.admits(a.language, a.source, a.published)
        }
        mask = np.asarray([c.article_id in admitted for c in self.index.chunks], dtype=bool)
        if len(self._mask_cache) > 64:
            self._mask_cache.clear()
        self._mask_cache[filters] = mask
        return mask

    def sentence_mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of the sentences the filters admit (None: no filter): those of the
        articles that have an admitted chunk."""
        chunk_mask = self.mask(filters)
        if chunk_mask is None:
            return None
        cached = self._sentence_mask_cache.get(filters)  # type: ignore[arg-type]
        if cached is not None:
            return cached
        mask = np.isin(self._sentence_article, self._chunk_article[chunk_mask])
        if len(self._sentence_mask_cache) > 64:
            self._sentence_mask_cache.clear()
        self._sentence_mask_cache[filters] = mask  # type: ignore[index]
        return mask

    def rank(
        self,
        query_vector: np.ndarray,
        question: str,
        *,
        filters: Filters | None = None,
        context: str | None = None,
        depth: int = WINDOW_CANDIDATES,
        language: str | None = None,
    ) -> Ranked:
        """Score every chunk for a (normalised) query vector and the question text.

        ``context`` is extra text whose terms count ``CONTEXT_WEIGHT`` times as much as the
        question's (the previous question of a conversation, for a follow-up). ``depth`` is
        how many chunks get the second-stage window feature and can appear in ``order``.
        ``language`` is the question's: in a corpus of several languages, one of them, the chunks
        of the others get OTHER_LANGUAGE_BONUS.
        """
        index = self.index
        n = len(index.chunks)
        q = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        if n == 0:
            empty = np.zeros(0, dtype=np.float32)
            return Ranked(self, empty, empty, empty, np.zeros(len(index.sentences), np.float32), [], q)
        dense = self.chunk_vectors @ q
        sentence_cos = self.sentence_vectors @ q if len(index.sentences) else np.zeros(0, np.float32)
        if len(sentence_cos):
            best_sentence = np.maximum.reduceat(sentence_cos[np.maximum(self._flat, 0)], self._offsets)
            best_sentence = np.where(self._no_sentence, dense, best_sentence)
        else:
            best_sentence = dense
        coverage = self.lexical.coverage(question, extra=context, extra_weight=CONTEXT_WEIGHT)
        fused = W_DENSE * dense + W_SENTENCE * best_sentence + W_COVERAGE * coverage
        other = self._other_language.get(language)
        if other is not None:
            fused = fused + OTHER_LANGUAGE_BONUS * other
        mask = self.mask(filters)
        if mask is not None:
            fused = np.where(mask, fused, -np.inf)
        # Second stage: the window feature for the best chunks only.
        top = _top(fused, max(depth, 1))
        window = self._window_share(question, context, top)
        fused = fused.astype(np.float32)
        for i, w in zip(top, window, strict=True):
            fused[i] += W_WINDOW * w
        candidates = sorted(top, key=lambda i: -fused[i])
        order = self._dedupe(candidates)
        return Ranked(self, fused, dense, coverage, sentence_cos, order, q)

    def _window_share(self, question: str, context: str | None, chunk_ids: list[int]) -> list[float]:
        """Per chunk: idf-weighted share of the question's terms in its best two adjacent sentences.

        A sentence's question terms are kept as a bit set (bit k: the k-th term of the
        question's weights), computed once per sentence; a window's share is the sum of the
        weights of its bits, in the weights' order, computed once per distinct bit set.
        """
        lex = self.lexical
        per_language: dict[str, tuple[list[tuple[str, float]], float, dict[int, int], dict[int, float]]] = {}
        out = []
        for cid in chunk_ids:
            language = self._chunk_language[cid]
            if language not in per_language:
                weights = lex.question_weights(question, language, context, CONTEXT_WEIGHT)
                per_language[language] = (list(weights.items()), sum(weights.values()), {}, {})
            items, total, bits_of, share_of = per_language[language]
            best = 0.0
            prev = 0
            for sid in self.chunk_sentences[cid]:
                bits = bits_of.get(sid)
                if bits is None:
                    terms = self.sentence_terms[sid]
                    bits = sum(1 << k for k, (t, _w) in enumerate(items) if t in terms)
                    bits_of[sid] = bits
                window = bits | prev
                share = share_of.get(window)
                if share is None:
                    share = sum(w for k, (_t, w) in enumerate(items) if window >> k & 1)
                    share_of[window] = share
                best = max(best, share)
                prev = bits
            out.append(best / total if total > 0 else 0.0)
        return out

    def _dedupe(self, ranked: list[int]) -> list[int]:
        """Drop chunks nearly identical (cosine > DUPLICATE_COSINE) to a better one of another article.

        One product of the candidates with each other first: when no pair of different articles
        comes within _SCREEN_MARGIN of the threshold (the usual case), nothing is dropped.
        Otherwise the chunks are checked one by one, the decision made on the same products
        as always (the margin is far above the rounding difference between the two products).
        """
        vectors = self.index.chunk_vectors
        article = self._chunk_article
        if len(ranked) < 2:
            return list(ranked)
        rows = np.asarray(ranked, dtype=np.int64)
        sims = vectors[rows] @ vectors[rows].T
        near = (sims > DUPLICATE_COSINE - _SCREEN_MARGIN) & (article[rows][:, None] != article[rows][None, :])
        if not near.any():
            return list(ranked)
        kept: list[int] = []
        for i in ranked:
            if kept:
                sims = vectors[kept] @ vectors[i]
                if np.any((sims > DUPLICATE_COSINE) & (article[kept] != article[i])):
                    LOG.debug("chunk %d is a near-duplicate of a better hit; dropped", i)
                    continue
            kept.append(i)
        return kept


@functools.cache
def limit_blas_threads() -> None:
    """Make numpy's BLAS (OpenBLAS) use one thread in this process; done once, by ``Retriever``.

    Every product at question time is small (a vector against a few thousand rows: 0.1 ms on
    one core); a second thread gains nothing and, on a busy machine, costs a wait for the other
    core (see the module docstring). Torch, which embeds documents, has its own thread pool
    and is not affected. Without ``threadpoolctl`` nothing changes.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        LOG.info("threadpoolctl is not installed: numpy's BLAS keeps its threads (pip install threadpoolctl)")
        return
    threadpool_limits(limits=1, user_api="blas")


def _top(scores: np.ndarray, k: int) -> list[int]:
    """Ids of the k best finite scores, best first."""
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) == 0:
        return []
    if len(finite) > k:
        part = np.argpartition(-scores[finite], k - 1)[:k]
        finite = finite[part]
    return [int(i) for i in finite[np.argsort(-scores[finite], kind="stable")]]


def _folded(text: str) -> str:
    """Text compared without case and runs of spaces: "Korea, Italy  Agree" ~ "korea, italy agree"."""
    return " ".join(text.split()).casefold()


def _overlapping(index: Index, article_id: str, start: int, end: int) -> list[int]:
    """Ids of the sentences of an article that overlap [start, end)."""
    ids = index.sentence_ids(article_id)
    if not len(ids):
        return []
    starts = [index.sentences[i].start for i in ids]
    lo = max(0, bisect.bisect_right(starts, start) - 1)
    out = []
    for k in range(lo, len(ids)):
        s = index.sentences[ids[k]]
        if s.start >= end:
            break
        if s.end > start:
            out.append(ids[k])
    return out
