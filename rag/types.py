"""The records that flow between the stages of the pipeline.

    Article -> Sentence / Chunk -> Hit -> Answer (with Citation)

All of them are small frozen dataclasses. Every offset is a character offset
into ``Article.text``, the *cleaned* article text that the index stores, so for
any record ``r`` that carries ``start``/``end`` and a text,
``article.text[r.start:r.end] == r.text`` holds. ``rag.citations`` checks that
invariant; a citation that breaks it is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One cleaned article.

    ``id`` is derived from the cleaned text (see ``rag.index.ingest.article_id``), so
    the same article saved twice gets one id and is stored once. ``location`` is
    where it came from: a path relative to the articles folder, with
    ``#L<n>`` for a line of a JSONL feed, or the article's URL when it has one.
    """

    id: str
    location: str
    title: str
    text: str
    language: str  # ISO 639-1 code ("en", "de", "ko", ...) or "und"
    published: str | None = None  # ISO date of day, month or year precision: "2026-01-19", "2026-01", "2026"
    byline: str | None = None
    source: str | None = None  # the outlet, "Korea Herald"
    url: str | None = None
    # Where the title comes from: "headline" (the article's own), "lead" (its first words: it has no
    # headline) or "file" (its file name). Anything but "headline" is shown marked as a stand-in.
    title_kind: str = "headline"
    # Text of the article that is not its prose: (start, end, role) ranges into ``text``, role one
    # of "caption", "credit", "byline", "dateline", "related". Shown, marked, in the full
    # article; never quoted as an answer.
    furniture: tuple[tuple[int, int, str], ...] = ()

    @property
    def published_precision(self) -> str | None:
        """The precision of ``published``: "day", "month" or "year" of ``published``; None when undated."""
        if not self.published:
            return None
        return {10: "day", 7: "month", 4: "year"}.get(len(self.published))


@dataclass(frozen=True)
class Sentence:
    """A sentence of an article: ``article.text[start:end] == text``."""

    article_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article, the unit that is embedded."""

    article_id: str
    start: int
    end: int
    text: str
    n_tokens: int
    id: int = -1  # the row id in the index (and the FAISS id); -1 before storing


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the scores it came from."""

    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None


@dataclass(frozen=True)
class Citation:
    """Where a quote comes from: ``quote == article.text[start:end]``."""

    article_id: str
    title: str
    location: str
    start: int
    end: int
    quote: str
    source: str | None = None
    published: str | None = None
    language: str = "und"
    url: str | None = None
    title_kind: str = "headline"  # as ``Article.title_kind``: anything else is a stand-in title


@dataclass(frozen=True)
class Span:
    """A short answer phrase inside an answer sentence (offsets in the article)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class AnswerSentence:
    """One quoted sentence of an answer and the citation that backs it."""

    text: str
    citation: Citation
    short_answer: Span | None = None
    score: float = 0.0


@dataclass(frozen=True)
class Answer:
    """The reply to a question. "No answer" is a value: ``abstained`` is True,
    ``sentences`` is empty and ``closest`` holds the nearest passages."""

    question: str
    sentences: tuple[AnswerSentence, ...] = ()
    also_reported: tuple[Citation, ...] = ()
    closest: tuple[Citation, ...] = ()
    confidence: float = 0.0
    abstained: bool = False
    hits: tuple[Hit, ...] = field(default=(), repr=False)

    @property
    def text(self) -> str | None:
        """The answer as one string of quoted sentences, or None when abstaining."""
        if not self.sentences:
            return None
        return " ".join(s.text for s in self.sentences)

    @property
    def short_answer(self) -> Span | None:
        for s in self.sentences:
            if s.short_answer is not None:
                return s.short_answer
        return None

    @property
    def citations(self) -> tuple[Citation, ...]:
        return tuple(s.citation for s in self.sentences)
