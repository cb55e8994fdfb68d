"""Answers for people and for programs: terminal text and a JSON-ready dict.

    print(format_answer(answer))
    json.dumps(answer_to_dict(answer), ensure_ascii=False)

``format_answer`` shows the quoted sentence(s) with ``[1]`` markers, the short
answer inside them between «guillemets», then the numbered citations
(title — outlet, date, location, characters start-end), the articles that also
report it, and the confidence. An abstention reads "The articles don't say."
followed by the closest passages. A title that is not the article's headline is
marked as a stand-in ("(no headline; its opening words)", "(no headline; named
after its file)"); an outlet or date the article does not give reads "outlet
unknown", "date unknown".

``answer_to_dict`` has stable keys (see :data:`ANSWER_KEYS`); every citation has
the same keys (:data:`CITATION_KEYS`), ``None`` where a value is unknown.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import textwrap

from rag.types import Answer, AnswerSentence, Citation, Hit, Span

LOG = logging.getLogger(__name__)

ANSWER_KEYS = (
    "question", "answer", "short_answer", "sentences", "also_reported", "closest",
    "confidence", "abstained", "hits",
)  # fmt: skip
CITATION_KEYS = (
    "article_id", "title", "title_kind", "outlet", "published", "language", "location", "url",
    "start", "end", "quote",
)  # fmt: skip
NO_ANSWER = "The articles don't say."
WIDTH = 100
QUOTE_PREVIEW = 300


def _emphasise(sentence: AnswerSentence) -> str:
    """The sentence text with its short answer wrapped in «»."""
    text, span = sentence.text, sentence.short_answer
    if span is None:
        return text
    start = span.start - sentence.citation.start
    end = span.end - sentence.citation.start
    if not (0 <= start < end <= len(text)) or text[start:end] != span.text:
        return text
    return f"{text[:start]}«{text[start:end]}»{text[end:]}"


UNKNOWN = "unknown"
STAND_IN_NOTES = {"lead": "no headline", "file": "file name"}
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def short_title(text: str, limit: int = 60) -> str:
    """A title cut at a word boundary.

    >>> short_title("A rather long headline about a summit in Seoul", 20)
    'A rather long…'
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:-") + "…"


def shown_title(title: str | None, kind: str = "headline", location: str = "", limit: int = 0) -> str:
    """A title as every view shows it (terminal, chat, articles list): a headline as it is; a
    stand-in marked as one, the opening words in quotes with "(no headline)", a file name with
    "(file name)". ``limit`` shortens the words.

    >>> shown_title("Am 19. Januar 2026 trafen sich", "lead")
    '“Am 19. Januar 2026 trafen sich…” (no headline)'
    >>> shown_title("Gipfeltreffen", "file", "2026-01-19-gipfeltreffen.de.txt")
    '2026-01-19-gipfeltreffen.de.txt (file name)'
    """
    words = " ".join((title or "").split())
    if not words and kind != "file":
        return location or "(untitled)"
    words = short_title(words, limit) if limit else words
    if kind == "lead":  # the opening words: marked as cut unless they end a sentence
        words = words if words.endswith((".", "!", "?", "…")) else words + "…"
        return f"“{words}” ({STAND_IN_NOTES['lead']})"
    if kind == "file":
        return f"{location.rsplit('/', 1)[-1] or words} ({STAND_IN_NOTES['file']})"
    return words


def nice_date(value: str | None) -> str:
    """A date as precise as it is known: '2026-01-19' -> '19 January 2026', '2026-01' ->
    'January 2026', '2026' -> '2026'; anything else is returned unchanged ('' for None).

    >>> nice_date("2026-01-19"), nice_date("2026-01"), nice_date("2026")
    ('19 January 2026', 'January 2026', '2026')
    """
    if not value:
        return ""
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}", value):
            return value
        if re.fullmatch(r"\d{4}-\d{2}", value):
            month = dt.date.fromisoformat(value + "-01")
            return f"{MONTHS[month.month - 1]} {month.year}"
        d = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def outlet_text(source: str | None) -> str:
    """The outlet, or "outlet unknown" when the article names none."""
    return source.strip() if source and source.strip() else f"outlet {UNKNOWN}"


def date_text(published: str | None) -> str:
    """The date as precise as it is known, or "date unknown"."""
    return nice_date(published) or f"date {UNKNOWN}"


def _where(c: Citation) -> str:
    """title — outlet, date, location, chars start-end"""
    parts = [outlet_text(c.source), c.published or f"date {UNKNOWN}"]  # ISO: "2026-01-19", "2026-01"
    if c.location:
        parts.append(c.location)
    parts.append(f"chars {c.start}-{c.end}")
    return f"{shown_title(c.title, c.title_kind, c.location)} — " + ", ".join(parts)


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_PREVIEW else text[: QUOTE_PREVIEW - 1].rstrip() + "…"


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent)


def format_answer(answer: Answer) -> str:
    """Readable terminal text for an answer or an abstention."""
    lines: list[str] = []
    if answer.abstained or not answer.sentences:
        lines.append(NO_ANSWER)
        if answer.closest:
            lines.append("")
            lines.append("Closest passages:")
            for i, c in enumerate(answer.closest, 1):
                lines.append(_wrap(f"[{i}] “{_preview(c.quote)}”", "  "))
                lines.append(_wrap(_where(c), "      "))
        lines.append("")
        lines.append(f"(confidence {answer.confidence:.2f})")
        return "\n".join(lines)
    quoted = " ".join(f"“{_emphasise(s)}” [{i}]" for i, s in enumerate(answer.sentences, 1))
    lines.append(_wrap(quoted))
    if answer.short_answer is not None:
        lines.append("")
        lines.append(f"Short answer: «{answer.short_answer.text}»")
    lines.append("")
    lines.append("Sources:")
    for i, s in enumerate(answer.sentences, 1):
        lines.append(_wrap(f"[{i}] {_where(s.citation)}", "  "))
    if answer.also_reported:
        lines.append("")
        lines.append("Also reported by:")
        for c in answer.also_reported:
            lines.append(_wrap(f"- {_where(c)}", "  "))
            lines.append(_wrap(f"“{_preview(c.quote)}”", "    "))
    lines.append("")
    lines.append(f"(confidence {answer.confidence:.2f})")
    return "\n".join(lines)


def citation_to_dict(c: Citation) -> dict:
    return {
        "article_id": c.article_id,
        "title": c.title,
        "title_kind": c.title_kind,
        "outlet": c.source,
        "published": c.published,
        "language": c.language,
        "location": c.location,
        "url": c.url,
        "start": c.start,
        "end": c.end,
        "quote": c.quote,
    }


def _span_to_dict(span: Span | None) -> dict | None:
    if span is None:
        return None
    return {"text": span.text, "start": span.start, "end": span.end}


def _hit_to_dict(h: Hit) -> dict:
    return {
        "article_id": h.chunk.article_id,
        "chunk_id": h.chunk.id,
        "start": h.chunk.start,
        "end": h.chunk.end,
        "score": round(float(h.score), 6),
        "dense": None if h.dense is None else round(float(h.dense), 6),
        "lexical": None if h.lexical is None else round(float(h.lexical), 6),
    }


def answer_to_dict(answer: Answer) -> dict:
    """A JSON-ready dict with the keys of :data:`ANSWER_KEYS`, in that order."""
    short = answer.short_answer
    return {
        "question": answer.question,
        "answer": answer.text,
        "short_answer": _span_to_dict(short),
        "sentences": [
            {
                "text": s.text,
                "score": round(float(s.score), 6),
                "short_answer": _span_to_dict(s.short_answer),
                "citation": citation_to_dict(s.citation),
            }
            for s in answer.sentences
        ],
        "also_reported": [citation_to_dict(c) for c in answer.also_reported],
        "closest": [citation_to_dict(c) for c in answer.closest],
        "confidence": round(float(answer.confidence), 6),
        "abstained": bool(answer.abstained),
        "hits": [_hit_to_dict(h) for h in answer.hits],
    }
