"""Answers for people and for programs: terminal text and a JSON-ready dict.

    print(format_answer(answer))
    json.dumps(answer_to_dict(answer), ensure_ascii=False)

``format_answer`` shows the quoted sentence(s) with ``[1]`` markers, the short
answer inside them between «guillemets», then the numbered citations
(title — outlet, date, location, characters start-end), the articles that also
report it, and the confidence. An abstention reads "The articles don't say."
followed by the closest passages.

``answer_to_dict`` has stable keys (see :data:`ANSWER_KEYS`); every citation has
the same keys (:data:`CITATION_KEYS`), ``None`` where a value is unknown.
"""

from __future__ import annotations

import logging
import textwrap

from rag.types import Answer, AnswerSentence, Citation, Hit, Span

LOG = logging.getLogger(__name__)

ANSWER_KEYS = (
    "question", "answer", "short_answer", "sentences", "also_reported", "closest",
    "confidence", "abstained", "hits",
)  # fmt: skip
CITATION_KEYS = (
    "article_id", "title", "title_kind", "outlet", "published", "language", "location", "url", "start", "end", "quote",
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


def _where(c: Citation) -> str:
    """title — outlet, date, location, chars start-end"""
    parts = [p for p in (c.source, c.published, c.location) if p]
    parts.append(f"chars {c.start}-{c.end}")
    return f"{c.title or '(untitled)'} — " + ", ".join(parts)


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
