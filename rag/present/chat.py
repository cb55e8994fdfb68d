"""The chat app: what the web UI shows and does, around one shared ``Pipeline``.

``app.py`` only parses flags and calls ``open_pipeline(settings)`` (which builds the index on
first run), ``build_app(pipeline, settings, update=...)``, starts the index update in the
background and calls ``launch(app, ...)``. Everything the user sees is made here, from plain
functions that tests call without a browser:

    reply = answer_question(pipeline, "Who visited Seoul?", history=(), filters=None)
    reply.html           # the chat message: "Answer: <short answer>", the quotes with it marked
                         # and [1] [2] markers linking to the cards ("Not sure: the closest the
                         # articles come is ..." below the confidence needed to answer)
    reply.sources_html   # the sources panel: one card per cited article (a stand-in title
                         # marked as one, outlet and date or "unknown", a link to the original),
                         # quote in <mark>, the whole article in an expander with the quote
                         # marked in place and its captions, credits, ... marked as such
    copy_text(answer)    # what the copy button copies: '"quote" — Outlet, date [file]' lines
    status_html(pipeline, settings)   # articles, chunks, model, build time, files waiting

The page's script (:data:`HEAD_JS`) does what sanitised chat messages cannot: a marker scrolls to
its card and highlights it, the copy button copies the plain text, messages get readable
accessible names. Input problems (empty question, a bad date) are brief notices, never chat
bubbles; Ask is disabled while the box is empty or a question is being answered; 👍/👎 on an
answer are saved by ``rag.present.feedback``. On a phone the header stacks and the sources fold
right under the chat as "Sources (n)".

The app also has filters (language, outlet or "unknown", dates, undated articles in or out), an
"Update index" button (an incremental ``rag index`` in the app) and one JSON endpoint for programs,
``/ask`` (``gradio_client.Client(url).predict(question, api_name="/ask")``, the
same dict as ``rag ask --json``); the UI's own events are not exposed as API.

Article text, titles, outlets, file names and questions are untrusted: every piece
of text that goes into HTML here passes through ``html.escape``, links are kept only
for http(s) URLs, and Gradio's own sanitising stays on. Offsets: a citation's
``start``/``end`` and a short answer's span are offsets into ``Article.text``, so
the short answer's place in a quote is ``span.start - citation.start``.

Shortcuts: the sources panel shows the sources of the answer last given (or of the
answer clicked in the chat); follow-up questions are sent as the conversation's
previous questions (the pipeline decides how to use them); the status is polled
every 30 s rather than pushed.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import logging
import re
import threading
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.config import Settings
from rag.errors import IndexCorruptError, IndexMismatchError, QuestionError, RagError
from rag.present.render import (
    STAND_IN_NOTES,
    UNKNOWN,
    date_text,
    nice_date,
    outlet_text,
    shown_title,
)
from rag.types import Answer, Article, Citation, Span

if TYPE_CHECKING:
    from rag.query.pipeline import Filters, Pipeline

LOG = logging.getLogger(__name__)

TITLE = "rag-news"
NO_ANSWER = "The articles don't say."
NOT_SURE = "Not sure: the closest the articles come is"
STATUS_EVERY = 30.0  # seconds between status polls (which also pick up a new index)
UPLOAD_CACHE_CLEANUP = (600, 3600)  # seconds: how often Gradio's temporary files are swept, and their age
PASSAGE_CHARS = 260  # context shown on each side of a quote in a source card
LANGUAGE_NAMES = {"en": "English", "de": "German", "ko": "Korean", "und": "unknown language"}

# Shown before the first question; each is answered from the seed articles.
EXAMPLES = (
    ("English", "Who visited Seoul in January 2026?"),
    ("Deutsch", "Wie viele Absichtserklärungen wurden unterzeichnet?"),
    ("한국어", "이탈리아 총리가 한국을 공식 방문한 것은 몇 년 만인가요?"),
)


# ---------------------------------------------------------------------------
# HTML pieces


def esc(text: object) -> str:
    """``html.escape`` for any value, quotes included: safe in text and in attributes."""
    return html.escape("" if text is None else str(text), quote=True)


def language_name(code: str | None) -> str:
    """The English name of a language code.

    >>> language_name("de")
    'German'
    """
    if not code:
        return LANGUAGE_NAMES["und"]
    return LANGUAGE_NAMES.get(code, code)


def title_html(title: str | None, kind: str = "headline", location: str = "", limit: int = 0) -> str:
    """:func:`rag.present.render.shown_title` as HTML: a stand-in title in its own style, its note muted."""
    text = shown_title(title, kind, location, limit)
    if kind not in STAND_IN_NOTES:
        return esc(text)
    words, _, note = text.rpartition(" (")
    return (
        f'<span class="rag-standin" title="This article has no headline: a stand-in is shown">{esc(words)}'
        f'</span> <span class="rag-standin-note">({esc(note)}</span>'
    )


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) link, else None (no ``javascript:`` links)."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def highlight(
    text: str,
    marks: Sequence[tuple[int, int]] = (),
    strong: Sequence[tuple[int, int]] = (),
    *,
    base: int = 0,
    mark_class: str = "rag-quote",
    strong_tag: str = "strong",
) -> str:
    """Escape ``text`` (which starts at article offset ``base``) and wrap the article ranges
    ``marks`` in ``<mark>`` and the ranges ``strong`` inside them in ``<strong>``.

    >>> highlight("a <b> c d", [(2, 5)], [(3, 4)])
    'a <mark class="rag-quote">&lt;<strong>b</strong>&gt;</mark> c d'

    Overlapping marks are merged; ``strong`` is clipped to the marks (tags always nest).
    """
    n = len(text)

    def clip(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        out = []
        for s, e in ranges:
            s, e = max(s - base, 0), min(e - base, n)
            if s < e:
                out.append((s, e))
        return sorted(out)

    merged: list[list[int]] = []
    for s, e in clip(marks):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    bold = [(max(s, ms), min(e, me)) for s, e in clip(strong) for ms, me in merged if max(s, ms) < min(e, me)]
    points = sorted({0, n, *(p for r in merged for p in r), *(p for r in bold for p in r)})
    open_tag, close_tag = f"<{strong_tag}>", f"</{strong_tag}>"
    out: list[str] = []
    for a, b in zip(points, points[1:], strict=False):
        in_mark = any(s <= a and b <= e for s, e in merged)
        in_bold = any(s <= a and b <= e for s, e in bold)
        piece = esc(text[a:b])
        if in_bold:
            piece = open_tag + piece + close_tag
        if in_mark:
            piece = f'<mark class="{mark_class}">{piece}</mark>'
        out.append(piece)
    # Adjacent pieces of one mark were wrapped separately; join them into one element.
    joined = "".join(out)
    joined = joined.replace(f'</mark><mark class="{mark_class}">', "")
    return joined.replace(close_tag + open_tag, "")


FURNITURE_NAMES = {
    "caption": "photo caption",
    "credit": "credit",
    "byline": "byline",
    "dateline": "dateline",
    "related": "related articles",
}


def article_html(
    text: str,
    marks: Sequence[tuple[int, int]] = (),
    strong: Sequence[tuple[int, int]] = (),
    furniture: Sequence[tuple[int, int, str]] = (),
    *,
    base: int = 0,
) -> str:
    """:func:`highlight` for a stretch of an article (``text`` starts at offset ``base``), with its
    furniture (captions, credits, bylines, datelines, related links) wrapped in a muted
    ``<span class="rag-furniture">`` whose role ("photo caption", ...) the CSS shows before it:
    visible, marked, never a quote. The text itself is unchanged.
    """
    n = len(text)
    cuts: list[tuple[int, int, str]] = []
    for start, end, role in sorted(furniture):
        s, e = max(start - base, 0), min(end - base, n)
        if s < e and (not cuts or s >= cuts[-1][1]):
            cuts.append((s, e, FURNITURE_NAMES.get(role, role)))
    out, at = [], 0
    for s, e, name in [*cuts, (n, n, "")]:
        if at < s:
            out.append(highlight(text[at:s], marks, strong, base=base + at))
        if s < e:
            inner = highlight(text[s:e], marks, strong, base=base + s)
            out.append(
                f'<span class="rag-furniture" data-role="{esc(name)}" '
                f'title="{esc(name)}: not the article\'s own text, never quoted as an answer">{inner}</span>'
            )
        at = max(at, e)
    return "".join(out)


def short_in_quote(citation: Citation, span: Span | None) -> tuple[int, int] | None:
    """The short answer's article range when it lies inside the quote, else where its text
    occurs in the quote, else None."""
    if span is None:
        return None
    if citation.start <= span.start < span.end <= citation.end:
        return span.start, span.end
    at = citation.quote.find(span.text) if span.text else -1
    if at >= 0:
        return citation.start + at, citation.start + at + len(span.text)
    return None


def passage_bounds(text: str, start: int, end: int, width: int = PASSAGE_CHARS) -> tuple[int, int]:
    """The paragraph around ``text[start:end]``, cut at word boundaries ``width`` characters
    either side when the paragraph is longer."""
    p0 = text.rfind("\n", 0, start) + 1
    p1 = text.find("\n", end)
    p1 = len(text) if p1 < 0 else p1
    lo, hi = max(p0, start - width), min(p1, end + width)
    if lo > p0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else lo
    if hi < p1:
        space = text.rfind(" ", end, hi)
        hi = space if space >= 0 else hi
    return lo, hi


# ---------------------------------------------------------------------------
# Answers


@dataclass
class SourceEntry:
    """One numbered source of a reply: an article and the quotes taken from it."""

    number: int
    role: str  # "answer", "also" or "closest"
    citations: list[Citation] = field(default_factory=list)
    shorts: list[tuple[int, int]] = field(default_factory=list)

    @property
    def first(self) -> Citation:
        return self.citations[0]


def number_sources(answer: Answer) -> list[SourceEntry]:
    """Number the cited articles in reading order: answer sentences first, then the other
    reports, then (when abstaining) the closest passages. One number per article and role."""
    entries: list[SourceEntry] = []
    by_key: dict[tuple[str, str], SourceEntry] = {}

    def add(role: str, c: Citation, short: tuple[int, int] | None = None) -> None:
        key = (role, c.article_id)
        if key not in by_key:
            by_key[key] = SourceEntry(len(entries) + 1, role)
            entries.append(by_key[key])
        entry = by_key[key]
        if c not in entry.citations:
            entry.citations.append(c)
        if short is not None:
            entry.shorts.append(short)

    for s in answer.sentences:
        add("answer", s.citation, short_in_quote(s.citation, s.short_answer))
    for c in answer.also_reported:
        add("also", c)
    if answer.abstained or not answer.sentences:
        for c in answer.closest:
            add("closest", c)
    return entries


def _byline(c: Citation) -> str:
    """'Korea Herald · 19 January 2026', "outlet unknown" / "date unknown" where the article gives none."""
    return f"{esc(outlet_text(c.source))} · {esc(date_text(c.published))}"


def quoted(text_html: str, raw: str) -> str:
    """Curly quotes around a quote, unless it is already a quotation from end to end (a quote
    that only ends with one, '... a “global pivotal state.”', is still wrapped)."""
    if raw[:1] in "\"“„«'‘" and raw[-1:] in "\"”“»'’":
        return text_html
    return f"“{text_html}”"


def _marker(number: int) -> str:
    """A citation marker: a link to source card ``number`` (the page's script scrolls to it and
    highlights it; without the script the link still jumps to it)."""
    return (
        f'<sup class="rag-cite"><a class="rag-cite-link" href="#rag-src-{number}" '
        f'title="Show source {number}">[{number}]</a></sup>'
    )


def copy_line(c: Citation) -> str:
    """One quote as plain text: ``"quote" — Outlet, date [file]`` ("unknown" where not known)."""
    quote = " ".join(c.quote.split())
    return f'"{quote}" — {c.source or UNKNOWN}, {nice_date(c.published) or UNKNOWN} [{c.location}]'


def copy_text(answer: Answer) -> str:
    """What the copy button copies: plain text, one line per quote (the answer's quotes, then the
    other reports); an abstention says so first, then gives the closest passages."""
    if answer.sentences and not answer.abstained:
        return "\n".join(copy_line(c) for c in (*answer.citations, *answer.also_reported))
    lines = [NO_ANSWER + (" Closest passages:" if answer.closest else "")]
    return "\n".join(lines + [copy_line(c) for c in answer.closest])


def answer_label(answer: Answer) -> str:
    """A short, readable accessible name for an answer message (no markup)."""
    entries = number_sources(answer)
    if answer.sentences and not answer.abstained:
        short = answer.short_answer
        head = f"Answer: {short.text}." if short is not None else "Answer quoted from the articles."
        first = answer.sentences[0].citation
        n = len(entries)
        return (
            f"{head} Quoted from {outlet_text(first.source)}, {date_text(first.published)}; "
            f"{n} source{'s' if n != 1 else ''}; confidence {answer.confidence:.2f}."
        )
    if answer.closest:
        c = answer.closest[0]
        return (
            f"No answer: {NO_ANSWER} Closest passage from {outlet_text(c.source)}, {date_text(c.published)}."
        )
    return f"No answer: {NO_ANSWER}"


def answer_html(answer: Answer, key: str = "") -> str:
    """The chat message for an answer: the short answer as a headline, the quoted sentences with
    the short answer marked and a numbered marker each (a link to its source card), then "Also
    reported by"; or, below the confidence needed to answer, the no-answer reply saying in words
    what the closest passage is. ``key`` names the answer (its sources panel carries the same).
    Hidden in the message: its plain-text copy and its accessible name, which the page's script
    gives the copy button and the message."""
    entries = number_sources(answer)
    number_of = {(e.role, e.first.article_id): e.number for e in entries}

    def citation_list(title: str, role: str, citations: Sequence[Citation]) -> str:
        items = "".join(
            f"<li>{_marker(number_of[(role, c.article_id)])} <b>{_byline(c)}</b>, "
            f"{title_html(c.title, c.title_kind, c.location, 60)}: {quoted(esc(c.quote), c.quote)}</li>"
            for c in citations
        )
        return f'<div class="rag-also"><div class="rag-also-title">{title}</div><ul>{items}</ul></div>'

    anchor = f' id="rag-answer-{esc(key)}"' if key else ""
    parts: list[str] = [f'<div class="rag-answer"{anchor}>']
    if answer.sentences and not answer.abstained:
        if answer.short_answer is not None:
            parts.append(
                f'<p class="rag-headline"><span class="rag-headline-label">Answer:</span> '
                f"<strong>{esc(answer.short_answer.text)}</strong></p>"
            )
        for s in answer.sentences:
            c = s.citation
            short = short_in_quote(c, s.short_answer)
            quote = highlight(
                c.quote,
                strong=[short] if short else (),
                marks=[short] if short else (),
                base=c.start,
                mark_class="rag-short",
                strong_tag="strong",
            )
            n = number_of[("answer", c.article_id)]
            parts.append(
                f'<blockquote class="rag-said">{quoted(quote, c.quote)} {_marker(n)}'
                f'<span class="rag-by">— {_byline(c)}</span></blockquote>'
            )
        if answer.also_reported:
            parts.append(citation_list("Also reported by", "also", answer.also_reported))
        parts.append(f'<div class="rag-foot">confidence {answer.confidence:.2f}</div>')
    else:
        parts.append(f'<p class="rag-none">{esc(NO_ANSWER)}</p>')
        if answer.closest:
            c = answer.closest[0]
            parts.append(
                f'<p class="rag-not-sure">{esc(NOT_SURE)} {quoted(esc(c.quote), c.quote)} '
                f'{_marker(number_of[("closest", c.article_id)])} <span class="rag-by-inline">— '
                f"{_byline(c)}</span> (confidence {answer.confidence:.2f}, too low to answer).</p>"
            )
            if answer.closest[1:]:
                parts.append(citation_list("Other close passages", "closest", answer.closest[1:]))
    parts.append(f'<span class="rag-copy-text" hidden>{esc(copy_text(answer))}</span>')
    parts.append(f'<span class="rag-label" hidden>{esc(answer_label(answer))}</span>')
    parts.append("</div>")
    return "".join(parts)


def error_html(message: str) -> str:
    return f'<div class="rag-answer rag-error">{esc(message)}</div>'


def notice_html(message: str) -> str:
    return f'<div class="rag-answer rag-notice">{esc(message)}</div>'


SECTION_TITLES = {
    "answer": "Quoted in the answer",
    "also": "Also reported by",
    "closest": "Closest passages (they do not answer the question)",
}


def source_card(entry: SourceEntry, article: Article | None) -> str:
    """One source card: title (a stand-in marked as one), a link to the original where its URL is
    known, outlet, date, language, the passage with the quote marked, and the whole article (when
    the quote can be checked against it) with every quote marked and its furniture (captions,
    credits, ...) shown muted and named."""
    c = entry.first
    spans = [(x.start, x.end) for x in entry.citations]
    checked = article is not None and all(article.text[x.start : x.end] == x.quote for x in entry.citations)
    url = safe_url(c.url or (article.url if article else None))
    kind = c.title_kind if c.title_kind in STAND_IN_NOTES or not article else article.title_kind
    title = title_html(c.title or (article.title if article else ""), kind, c.location)
    link = (
        f'<a class="rag-original" href="{esc(url)}" target="_blank" rel="noopener noreferrer">'
        "Open the original ↗</a>"
        if url
        else ""
    )
    meta = [
        esc(outlet_text(c.source)),
        esc(date_text(c.published)),
        esc(language_name(c.language)),
        f'<span class="rag-loc">{esc(c.location)}</span>' if c.location and c.location != url else "",
    ]
    furniture = article.furniture if article is not None else ()
    out = [
        f'<article class="rag-card rag-{esc(entry.role)}" id="rag-src-{entry.number}" tabindex="-1" '
        f'data-article="{esc(c.article_id)}">',
        f'<header><span class="rag-num">{entry.number}</span><div><div class="rag-title">{title}</div>'
        f'<div class="rag-meta">{" · ".join(m for m in meta if m)}</div>{link}</div></header>',
    ]
    if checked:
        assert article is not None
        text = article.text
        for x in entry.citations:
            lo, hi = passage_bounds(text, x.start, x.end)
            body = article_html(text[lo:hi], [(x.start, x.end)], entry.shorts, furniture, base=lo)
            before = "…" if lo > 0 and text[lo - 1] != "\n" else ""
            after = "…" if hi < len(text) and text[hi] != "\n" else ""
            out.append(f'<p class="rag-passage">{before}{body}{after}</p>')
        whole = article_html(text, spans, entry.shorts, furniture)
        out.append(
            '<details class="rag-full"><summary>Read the whole article</summary>'
            f'<div class="rag-article">{whole}</div></details>'
        )
    else:
        for x in entry.citations:
            out.append(f'<p class="rag-passage"><mark class="rag-quote">{esc(x.quote)}</mark></p>')
    out.append("</article>")
    return "".join(out)


def sources_html(answer: Answer, articles: Mapping[str, Article], key: str = "") -> str:
    """The sources panel for one answer (``articles`` is the index's id -> Article); ``key`` is
    the answer's, as given to :func:`answer_html`, so that its markers find this panel."""
    entries = number_sources(answer)
    if not entries:
        return empty_sources_html("No passage of the articles comes close to this question.")
    out = [
        f'<div class="rag-sources" data-answer="{esc(key)}" data-count="{len(entries)}">',
        f'<div class="rag-asked">“{esc(answer.question)}”</div>',
    ]
    role = None
    for e in entries:
        if e.role != role:
            role = e.role
            out.append(f'<h4 class="rag-section">{esc(SECTION_TITLES[role])}</h4>')
        out.append(source_card(e, articles.get(e.first.article_id)))
    out.append("</div>")
    return "".join(out)


def source_count(panel: str | None) -> int:
    """How many source cards a sources panel holds."""
    return (panel or "").count('<article class="rag-card ')


def empty_sources_html(message: str | None = None) -> str:
    message = message or (
        "Ask a question. The articles quoted in the answer appear here, with the quote "
        "highlighted and the whole article one click away."
    )
    return f'<div class="rag-sources rag-empty"><p>{esc(message)}</p></div>'


@dataclass(frozen=True)
class Reply:
    """What one question produces in the UI."""

    html: str  # the chat message
    sources_html: str  # the sources panel
    asked: str | None  # the question to remember for follow-ups; None when it was refused
    answer: Answer | None = None
    refused: str | None = None  # why the question or the filters were refused (the app's notice)
    key: str = ""  # names the answer and its sources panel (citation markers find their cards)


_ANSWER_KEYS = itertools.count(1)


def answer_question(
    pipeline: Pipeline,
    question: str,
    *,
    history: Sequence[str] = (),
    filters: Filters | None = None,
) -> Reply:
    """Ask the pipeline and render the reply. Never raises for a bad question or a failure:
    a ``RagError`` becomes its message, anything else a short apology (and a log line)."""
    from rag.query.question import HISTORY_TURNS

    try:
        _reload(pipeline)
        index = pipeline.index  # one index for the whole reply, even if a new one is swapped in
        message = no_match_message(filters, index.articles) if question.strip() else None
        if message:
            return Reply(notice_html(message), empty_sources_html(), None)
        answer = pipeline.ask(question, filters=filters, history=tuple(history)[-HISTORY_TURNS:])
    except QuestionError as e:  # empty, too long, no words, ...
        return Reply(error_html(str(e)), empty_sources_html(), None, refused=str(e))
    except RagError as e:  # a problem with the index
        return Reply(error_html(str(e)), empty_sources_html(), None)
    except Exception:
        LOG.exception("answering %r failed", question)
        return Reply(
            error_html(
                "Something went wrong while answering this question; it was logged. Please try again."
            ),
            empty_sources_html(),
            None,
        )
    # A new index may have been swapped in while answering: look articles up in both.
    articles = ChainMap(pipeline.index.articles, index.articles)
    key = str(next(_ANSWER_KEYS))
    return Reply(
        answer_html(answer, key), sources_html(answer, articles, key), answer.question, answer, key=key
    )


def no_match_message(filters: Filters | None, articles: Mapping[str, Article]) -> str | None:
    """The message when the filters admit none of the articles (what they offer instead), else None."""
    from rag.query.retrieve import unmatched

    offer = unmatched(filters, articles)
    if offer is None or filters is None:
        return None
    described = describe_filters(filters)
    return (
        f"No indexed article matches the filters ({described}). Change or clear them. In the index: {offer}."
    )


API_ERROR = "Something went wrong while answering this question; it was logged. Please try again."


def api_ask(
    pipeline: Pipeline,
    question: object,
    language: object = "",
    outlet: object = "",
    since: object = "",
    until: object = "",
    history: object = None,
    include_undated: object = False,
) -> dict:
    """The ``/ask`` API: the answer as ``rag ask --json`` gives it, or ``{"error": message}``.

    Every parameter comes from a program and is checked before use: the question and the history
    by ``Query.build`` (``rag.query.question``), the filters by :func:`make_filters`. A bad value
    gets a message naming the parameter and what it takes; a failure nobody caused gets a short
    apology (and a log line), never a traceback.
    """
    from rag.present.render import answer_to_dict

    try:
        _reload(pipeline)
        if not isinstance(include_undated, bool):
            raise QuestionError(f"include_undated must be true or false, got {include_undated!r:.40}")
        filters = make_filters(language, outlet, since, until, include_undated)
        message = no_match_message(filters, pipeline.index.articles)
        if message:
            return {"error": message}
        answer = pipeline.ask(question, filters=filters, history=() if history is None else history)
    except RagError as e:
        return {"error": str(e)}
    except Exception:
        LOG.exception("answering %.200r through /ask failed", question)
        return {"error": API_ERROR}
    return answer_to_dict(answer)


def describe_filters(filters: Filters) -> str:
    """The filters in words, e.g. 'German, from 2026-01-01'."""
    parts = []
    if filters.language:
        parts.append(language_name(filters.language))
    if filters.source:
        parts.append(f"outlet {UNKNOWN}" if filters.source.casefold() == UNKNOWN else filters.source)
    if filters.since:
        parts.append(f"from {filters.since}")
    if filters.until:
        parts.append(f"until {filters.until}")
    if filters.since or filters.until:
        parts.append("undated included" if getattr(filters, "include_undated", False) else "undated left out")
    return ", ".join(parts)


def _reload(pipeline: Pipeline) -> str | None:
    """Serve a newly built index if there is one; returns why a new build is not served, or None.

    A damaged new build keeps the old one in use and is logged once: the pipeline tries it again
    only when the build changes (``Pipeline.reload_if_changed``)."""
    try:
        pipeline.reload_if_changed()
    except RagError as e:
        LOG.warning("could not load the new index, still serving the previous one: %s", e)
    return pipeline.reload_problem


# ---------------------------------------------------------------------------
# Filters


MAX_OUTLET_CHARS = 200
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?", re.IGNORECASE)
_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?", re.DOTALL)
DATE_RULE = "a date like 2026-01-19 (or a Unix time in seconds), or empty for any"


def _date(value: object, name: str) -> str | None:
    """A date filter value as YYYY-MM-DD: a date or date-time string, or a Unix time; None when
    empty. Anything else is a QuestionError naming the filter (``name``) and what it takes."""
    label = {"since": "since (published from)", "until": "until (published until)"}.get(name, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise QuestionError(f"{label} must be {DATE_RULE}, got {type(value).__name__} {value!r:.40}")
    if isinstance(value, str):
        raw = value.strip()
        if _DATE_PREFIX.fullmatch(raw):
            try:
                return dt.date.fromisoformat(raw[:10]).isoformat()
            except ValueError:
                pass
        raise QuestionError(f"{label}: {raw!r:.40} is not a date like 2026-01-19")
    try:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        raise QuestionError(
            f"{label}: {value!r:.40} is not the Unix time of a day in the years 1 to 9999; "
            f"it must be {DATE_RULE}"
        ) from None


def _choice(value: object, name: str, rule: str) -> str | None:
    """A language or outlet filter value: text (stripped, None when empty), or a QuestionError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise QuestionError(f"{name} must be {rule}, got {type(value).__name__} {value!r:.40}")
    text = value.strip()
    if len(text) > MAX_OUTLET_CHARS:
        raise QuestionError(f"{name} is too long ({len(text):,} characters); it must be {rule}")
    return text or None


def make_filters(
    language: object = None,
    source: object = None,
    since: object = None,
    until: object = None,
    include_undated: object = False,
) -> Filters | None:
    """The UI's (or the ``/ask`` API's) filter values ("" or None means any) as ``Filters``, or None
    when nothing is set. A value of the wrong type or form (a language that is not a code, a date
    that is not YYYY-MM-DD), or a range that ends before it starts, is a QuestionError that names
    the filter and says what it takes. Values of the right form that no article has are left to
    :func:`no_match_message`, which says what the index has. The outlet "unknown" means the
    articles that name none; ``include_undated`` lets undated articles pass a date bound."""
    from rag.query.pipeline import Filters

    language_rule = 'a language code such as en, de or ko, or "" for any'
    language = _choice(language, "language", language_rule)
    if language and not _LANGUAGE_CODE.fullmatch(language):
        raise QuestionError(f"language must be {language_rule}, got {language!r:.40}")
    outlet_rule = f'an outlet name of at most {MAX_OUTLET_CHARS} characters, or "" for any'
    source = _choice(source, "outlet", outlet_rule)
    since_d, until_d = _date(since, "since"), _date(until, "until")
    if since_d and until_d and since_d > until_d:
        raise QuestionError(f"The date range ends ({until_d}) before it starts ({since_d}).")
    values = {"language": language, "source": source, "since": since_d, "until": until_d}
    if not any(values.values()):
        return None
    if (since_d or until_d) and include_undated is True:
        values["include_undated"] = True
    try:
        return Filters(**values)
    except RagError as e:
        raise QuestionError(str(e)) from None


def filter_choices(articles: Mapping[str, Article]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Dropdown choices (label, value) for languages and outlets present in the index; the
    first choice of each, value "", means any."""
    langs: dict[str, int] = {}
    outlets: dict[str, int] = {}
    no_outlet = 0
    for a in articles.values():
        langs[a.language] = langs.get(a.language, 0) + 1
        if a.source and a.source.strip():
            outlets[a.source] = outlets.get(a.source, 0) + 1
        else:
            no_outlet += 1
    lang_choices = [("Any language", "")] + [
        (f"{language_name(code)} ({n})", code) for code, n in sorted(langs.items(), key=lambda kv: -kv[1])
    ]
    outlet_choices = [("Any outlet", "")] + [(f"{name} ({n})", name) for name, n in sorted(outlets.items())]
    if no_outlet:
        outlet_choices.append((f"outlet {UNKNOWN} ({no_outlet})", UNKNOWN))
    return lang_choices, outlet_choices


# ---------------------------------------------------------------------------
# Index status


def status_html(
    pipeline: Pipeline,
    settings: Settings,
    *,
    reload_problem: str | None = None,
    update: BackgroundUpdate | None = None,
) -> str:
    """One line about the index being served and one about the articles folder (and the update
    running in the background, when there is one)."""
    from rag.index.indexer import pending_changes

    index = pipeline.index
    m = index.manifest
    counts = m.get("counts", {})
    built = str(m.get("built_at") or "")
    built = built.replace("T", " ")[:16] + " UTC" if built else "unknown"
    model = m.get("model", {}).get("id", "?")
    langs = ", ".join(f"{language_name(k)} {v}" for k, v in m.get("languages", {}).items())
    line1 = (
        f'<span class="rag-stat"><b>{counts.get("articles", len(index.articles))}</b> articles</span>'
        f'<span class="rag-stat"><b>{counts.get("chunks", "?")}</b> chunks</span>'
        f'<span class="rag-stat">{esc(langs)}</span>'
        f'<span class="rag-stat">model <code>{esc(model)}</code></span>'
        f'<span class="rag-stat">built {esc(built)}</span>'
    )
    folder = esc(settings.articles_dir.name or str(settings.articles_dir))
    try:
        pending, problems = pending_changes(settings)
    except RagError as e:
        line2 = f'<span class="rag-warn">Cannot read the articles folder: {esc(e)}</span>'
    else:
        waiting = [(len(pending[k]), k) for k in ("added", "updated", "removed") if pending.get(k)]
        words = {"added": "new", "updated": "changed", "removed": "deleted"}
        what = ", ".join(f"{n} {words[k]}" for n, k in waiting)
        if update is not None and update.running:
            line2 = (
                '<span class="rag-pending">Updating the index in the background'
                + (f" ({what} file(s) in <code>{folder}/</code>)" if what else "")
                + ": answers come from the index above until the new one is ready</span>"
            )
        elif waiting:
            names = ", ".join(sorted(pending.get("added", []) + pending.get("updated", []))[:5])
            line2 = (
                f'<span class="rag-pending" title="{esc(names)}">{what} file(s) in <code>{folder}/</code> '
                "not indexed yet: press <b>Update index</b> or run <code>rag index</code></span>"
            )
        else:
            line2 = f'<span class="rag-ok">✓ up to date with <code>{folder}/</code></span>'
        if problems:
            line2 += f' <span class="rag-warn" title="{esc("; ".join(map(str, problems)))}">' + (
                f"{len(problems)} file(s) cannot be read</span>"
            )
    if reload_problem:
        line2 += f' <span class="rag-warn">New index not loaded: {esc(reload_problem)}</span>'
    if update is not None and update.problem_now:
        line2 += f' <span class="rag-warn">{esc(update.problem_now)}</span>'
    return f'<div class="rag-status"><div class="rag-stats">{line1}</div><div>{line2}</div></div>'


def prepare_index(settings: Settings, *, say: Callable[[str], None] = print) -> bool:
    """Before serving: build the index when there is none (first run), saying what it does;
    returns whether it built. An index that exists is served as it is and brought up to date in
    the background (:func:`open_pipeline`)."""
    from rag.index.indexer import pending_changes
    from rag.index.store import open_store

    if open_store(settings).current() is not None:
        return False
    files = len(pending_changes(settings)[0]["added"])
    say(
        f"No index in {settings.index_dir} yet: indexing the {files} file(s) in {settings.articles_dir} "
        "before serving (first run; the model is prepared once, this takes a minute or two) ..."
    )
    _build(settings, say)
    return True


def _build(settings: Settings, say: Callable[[str], None], *, full: bool = False) -> None:
    """``rag index`` with its progress bars (in a terminal), then what it skipped and what it did."""
    from rag.index.indexer import build_index

    report = build_index(settings, full=full, progress=True)
    for line in report.problems():
        say(line)
    if report.wrote:
        say(f"Index ready: {report.summary()}")


def open_pipeline(
    settings: Settings, *, update: bool = True, say: Callable[[str], None] = print
) -> tuple[Pipeline, BackgroundUpdate | None]:
    """What ``app.py`` runs before serving: the pipeline, and with ``update`` the (not yet started)
    update of the index to run in the background while the index it has is served.

    With no index, or one that cannot be served (damaged, built with another model), the index is
    built first, in the foreground: there is nothing to serve until it is ready.
    """
    from rag.query.pipeline import Pipeline

    built = prepare_index(settings, say=say)
    say("Loading the model and the index ...")
    try:
        pipeline = Pipeline.from_settings(settings)
    except (IndexCorruptError, IndexMismatchError) as e:
        if not update:
            raise
        say(f"The index cannot be served ({e}); rebuilding it before serving ...")
        _build(settings, say, full=True)
        pipeline, built = Pipeline.from_settings(settings), True
    if built or not update:
        return pipeline, None
    return pipeline, BackgroundUpdate(pipeline, settings, say=say)


class BackgroundUpdate:
    """An incremental ``rag index`` in a thread while the app serves the index it has; the new
    build is swapped in as soon as it is written (``Pipeline.reload_if_changed``).

    One build runs at a time: ``rag.index.indexer`` locks the index folder, so a ``rag index``
    started elsewhere meanwhile is refused (and if one already runs, this update is not run and
    the other build is served when it is written). While this one runs, "Update index" says so.
    """

    def __init__(self, pipeline: Pipeline, settings: Settings, *, say: Callable[[str], None] = print):
        self.pipeline, self.settings, self.say = pipeline, settings, say
        self.summary: str | None = None  # what the update did, once it has finished
        self.problem: str | None = None  # why it did not update the index
        self._problem_build: str | None = None  # the build served when it failed
        self._thread: threading.Thread | None = None

    def start(self) -> BackgroundUpdate:
        self._thread = threading.Thread(target=self._run, name="rag-index-update", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def problem_now(self) -> str | None:
        """The update's problem while the build it failed to replace is still the one served."""
        if self.problem and self.pipeline.index.build_id == self._problem_build:
            return self.problem
        return None

    def _fail(self, problem: str) -> None:
        self._problem_build = self.pipeline.index.build_id
        self.problem = problem

    def _run(self) -> None:
        from rag.index.indexer import build_index

        self.say("Updating the index in the background; the index it has is served meanwhile ...")
        try:
            report = build_index(self.settings, progress=True)
        except RagError as e:  # e.g. another `rag index` holds the lock: its build is served when written
            LOG.warning("the index was not updated: %s", e)
            self._fail(f"Index not updated: {e}")
            return
        except Exception:  # the app keeps serving the index it has
            LOG.exception("updating the index in the background failed")
            self._fail("Index not updated: an unexpected error (logged).")
            return
        problem = _reload(self.pipeline)
        for line in report.problems():
            self.say(line)
        self.summary = f"Index updated: {report.summary()}" if report.wrote else "Index already up to date."
        if problem:
            self.summary += f" The new index could not be loaded: {problem}"
        self.say(self.summary)


def update_index(pipeline: Pipeline, settings: Settings, update: BackgroundUpdate | None = None) -> str:
    """Run an incremental ``rag index`` in the app and serve the result; returns a summary."""
    from rag.index.indexer import build_index

    if update is not None and update.running:
        return "The index is already being updated in the background; it is served as soon as it is ready."
    try:
        report = build_index(settings, progress=True)
    except RagError as e:
        return f"Index not updated: {e}"
    problem = _reload(pipeline)
    text = f"Index updated: {report.summary()}"
    if report.errors:
        text += " Skipped: " + "; ".join(str(e) for e in report.errors[:3])
    if problem:
        text += f" The new index could not be loaded: {problem}"
    return text


# ---------------------------------------------------------------------------
# A conversation (the state the app keeps per browser tab)


def add_question(question: str | None, chat: list[dict] | None) -> list[dict]:
    """The chat with the user's question appended, escaped (shown as text); an empty
    question adds nothing (the reply says what is wrong)."""
    chat = list(chat or [])
    if question and question.strip():
        chat.append({"role": "user", "content": esc(question.strip())})
    return chat


def check_input(question: str | None, *filters: object) -> str | None:
    """Why the question or the filters cannot be sent (a brief notice for the person), or None.

    >>> check_input("   ")
    'Type a question first.'
    """
    from rag.query.question import clean_question, has_words

    try:
        text = clean_question(question or "")
        if not has_words(text):
            return f"The question {text[:40]!r} has no words: ask in words, e.g. {EXAMPLES[0][1]!r}"
        make_filters(*filters)
    except QuestionError as e:
        message = str(e)
        if message == "the question is empty":
            return "Type a question first."
        return message[:1].upper() + message[1:]
    return None


@dataclass
class Turn:
    """The state after one question: the chat, the questions asked, the sources panel of each
    answer (chat message index -> HTML), what each answer was (message index -> the record the
    👍/👎 buttons save), the panel to show and the reply."""

    chat: list[dict]
    asked: list[str]
    panels: dict[int, str]
    turns: dict[int, dict]
    panel: str
    reply: Reply


def take_turn(
    pipeline: Pipeline,
    question: str | None,
    chat: list[dict] | None,
    asked: list[str] | None,
    panels: dict[int, str] | None,
    turns: dict[int, dict] | None = None,
    *filter_values: object,
) -> Turn:
    """One turn: answer ``question`` with the conversation's previous questions ``asked`` as
    history and the UI's filters (language, outlet, since, until, include undated)."""
    from rag.present.render import answer_to_dict

    chat, asked, panels, turns = list(chat or []), list(asked or []), dict(panels or {}), dict(turns or {})
    history = list(asked)
    filters = None
    try:
        filters = make_filters(*filter_values)
    except QuestionError as e:
        reply = Reply(error_html(str(e)), empty_sources_html(), None, refused=str(e))
    else:
        reply = answer_question(pipeline, question or "", history=asked, filters=filters)
    chat.append({"role": "assistant", "content": reply.html})
    panels[len(chat) - 1] = reply.sources_html
    if reply.answer is not None:
        turns[len(chat) - 1] = {
            "question": reply.answer.question,
            "answer": answer_to_dict(reply.answer),
            "history": history[-MAX_FEEDBACK_HISTORY:],
            "filters": None if filters is None else {k: v for k, v in vars(filters).items() if v},
            "index_build": getattr(pipeline.index, "build_id", None),
        }
    if reply.asked:
        asked.append(reply.asked)
    return Turn(chat, asked, panels, turns, reply.sources_html, reply)


MAX_FEEDBACK_HISTORY = 5  # earlier questions saved with a 👍/👎


def respond(
    pipeline: Pipeline,
    question: str | None,
    chat: list[dict] | None,
    asked: list[str] | None,
    panels: dict[int, str] | None,
    *filter_values: object,
) -> tuple[list[dict], list[str], dict[int, str], str]:
    """:func:`take_turn` without the feedback records: the new chat, questions, panels (chat
    message index -> sources HTML) and the sources panel to show."""
    t = take_turn(pipeline, question, chat, asked, panels, None, *filter_values)
    return t.chat, t.asked, t.panels, t.panel


def record_verdict(
    settings: Settings, turns: Mapping[int, dict] | None, index: object, liked: object
) -> tuple[bool, str]:
    """Save a 👍 (``liked`` True) or 👎 (False) on the answer at chat message ``index`` to the
    feedback file; returns whether nothing went wrong and the notice to show. Anything else (a
    thumb taken back, a message that is not an answer) saves nothing and says so."""
    if isinstance(index, list | tuple):
        index = index[0] if index else None
    record = (turns or {}).get(index) if isinstance(index, int) else None
    if record is None:
        return True, "Only answers can be rated."
    if liked is not True and liked is not False:
        return True, "Rating taken back (what was saved stays in the feedback file)."
    verdict = "up" if liked else "down"
    path = getattr(settings, "feedback_file", None) or settings.index_dir / "feedback.jsonl"
    try:
        from rag.present.feedback import record_feedback

        record_feedback(
            path,
            question=record["question"],
            answer=record["answer"],
            verdict=verdict,
            history=record["history"],
            filters=record["filters"],
            index_build=record.get("index_build"),
        )
    except (ImportError, OSError, RagError, ValueError, TypeError) as e:
        LOG.warning("feedback not saved to %s: %s", path, e)
        return False, f"Feedback not saved: {e}"
    if liked:  # in words: a phone or server without an emoji font shows 👍 as a box
        return True, "Thanks: saved as a good answer."
    return True, "Thanks: saved as a poor answer; it helps find what went wrong."


def panel_for(panels: dict[int, str] | None, message_index: int) -> str | None:
    """The sources panel of the chat message clicked: an answer's own, a question's answer's."""
    panels = panels or {}
    if message_index in panels:
        return panels[message_index]
    return panels.get(message_index + 1)


# ---------------------------------------------------------------------------
# The Gradio app

CSS = """
.rag-header h1 { margin: 0; font-size: 1.6rem; }
.rag-header p { margin: .2rem 0 0; color: var(--body-text-color-subdued); }
.rag-status { font-size: .85rem; line-height: 1.5; color: var(--body-text-color-subdued); }
.rag-status code { font-size: .8rem; }
.rag-stats { display: flex; flex-wrap: wrap; column-gap: .9rem; }
.rag-stat { white-space: nowrap; }
.rag-ok { color: #15803d; }
.rag-pending { color: #b45309; font-weight: 600; }
.rag-warn { color: #b91c1c; }
.dark .rag-ok { color: #4ade80; } .dark .rag-pending { color: #fbbf24; } .dark .rag-warn { color: #f87171; }

.rag-answer blockquote.rag-said {
  margin: 0 0 .6rem; padding: .5rem .8rem; border-left: 3px solid var(--color-accent);
  background: var(--background-fill-secondary); border-radius: 0 6px 6px 0; font-size: 1rem;
}
.rag-answer .rag-by { display: block; margin-top: .25rem; font-size: .82rem;
  color: var(--body-text-color-subdued); }
.rag-cite { color: var(--color-accent); font-weight: 600; font-size: .75em; }
mark.rag-short { background: #fde68a; color: inherit; padding: 0 .15em; border-radius: 3px; }
mark.rag-short strong { font-weight: 700; }
.dark mark.rag-short { background: #854d0e; }
.rag-also { font-size: .88rem; margin-top: .4rem; }
.rag-also-title { font-weight: 600; margin-bottom: .2rem; }
.rag-also ul { margin: 0; padding-left: 1rem; }
.rag-also li { margin: .2rem 0; }
.rag-none { font-weight: 600; margin: 0 0 .4rem; }
.rag-foot { font-size: .75rem; color: var(--body-text-color-subdued); margin-top: .3rem; }
.rag-error { color: #b91c1c; } .dark .rag-error { color: #f87171; }

#rag-sources { max-height: 78vh; overflow-y: auto; }
.rag-sources { font-size: .92rem; }
.rag-empty { color: var(--body-text-color-subdued); padding: 1rem .5rem; }
.rag-asked { font-style: italic; color: var(--body-text-color-subdued); margin-bottom: .4rem; }
.rag-section { margin: .8rem 0 .4rem; font-size: .8rem; text-transform: uppercase; letter-spacing: .04em;
  color: var(--body-text-color-subdued); }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .75rem;
  margin-bottom: .6rem; background: var(--block-background-fill); }
.rag-card header { display: flex; gap: .6rem; align-items: flex-start; }
.rag-num { flex: none; width: 1.5rem; height: 1.5rem; border-radius: 50%; background: var(--color-accent);
  color: white; font-size: .8rem; font-weight: 700; display: flex; align-items: center;
  justify-content: center; }
.rag-closest .rag-num { background: var(--body-text-color-subdued); }
.rag-title { font-weight: 600; line-height: 1.3; }
.rag-meta { font-size: .8rem; color: var(--body-text-color-subdued); }
.rag-loc { font-family: var(--font-mono); font-size: .75rem; }
.rag-passage { margin: .5rem 0 .3rem; line-height: 1.5; }
mark.rag-quote { background: #fef08a; color: inherit; padding: 0 .1em; border-radius: 2px; }
.dark mark.rag-quote { background: #713f12; }
.rag-full summary { cursor: pointer; font-size: .85rem; color: var(--color-accent); }
.rag-article { white-space: pre-wrap; max-height: 22rem; overflow-y: auto; margin-top: .4rem; padding: .5rem;
  border-radius: 6px; background: var(--background-fill-secondary); font-size: .88rem; line-height: 1.55; }

.rag-header h1 { white-space: nowrap; }
.rag-headline { margin: 0 0 .5rem; font-size: 1.05rem; }
.rag-headline-label { font-weight: 600; color: var(--body-text-color-subdued); }
.rag-not-sure { margin: 0 0 .4rem; }
.rag-by-inline { font-size: .82rem; color: var(--body-text-color-subdued); }
.rag-cite a { color: var(--color-accent); text-decoration: none; border-radius: 3px; padding: 0 .1em; }
.rag-cite a:hover, .rag-cite a:focus-visible { text-decoration: underline;
  background: var(--background-fill-secondary); }
.rag-standin { font-style: italic; }
.rag-standin-note { font-size: .8em; font-weight: 400; font-style: normal;
  color: var(--body-text-color-subdued); }
.rag-original { display: inline-block; margin-top: .15rem; font-size: .8rem; color: var(--color-accent); }
.rag-furniture { color: var(--body-text-color-subdued); font-size: .9em; }
.rag-furniture::before { content: attr(data-role); display: inline-block; margin-right: .35em;
  padding: 0 .3em;
  border: 1px solid var(--border-color-primary); border-radius: 3px; font-size: .68rem; font-style: normal;
  text-transform: uppercase; letter-spacing: .04em; white-space: nowrap; }
.rag-card { scroll-margin-top: .5rem; }
.rag-card.rag-flash { outline: 3px solid var(--color-accent); outline-offset: 1px;
  animation: rag-flash 1.8s ease-out; }
@keyframes rag-flash { from { background: #fef9c3; } to { background: var(--block-background-fill); } }
.dark .rag-card.rag-flash { animation: none; }
@media (max-width: 720px) {
  #rag-top { flex-direction: column; gap: .4rem; }
  #rag-top > * { min-width: 0 !important; width: 100%; }
  .rag-header h1 { font-size: 1.35rem; }
  .rag-stat { white-space: normal; }
  .rag-status code { word-break: break-all; }
  #rag-main { flex-direction: column; }
  #rag-main > * { min-width: 0 !important; width: 100%; }
  #rag-left { display: contents; }
  #rag-chat { order: -2; }
  #rag-side { order: -1; }
  #rag-chat { height: min(560px, 42vh) !important; }
  #rag-sources { max-height: none; }
}
"""

# Loaded once in the page's <head>: what the sanitised chat messages cannot carry themselves.
# - A citation marker [n] scrolls to source card n of its own answer and highlights it (the
#   sources panel first shows that answer's sources: clicking a message selects it).
# - The copy button copies the message's plain text (its hidden .rag-copy-text), not its HTML.
# - Each message's accessible name is readable text (its hidden .rag-label, or its text), not HTML.
HEAD_JS = """
(() => {
  if (window.__ragChat) return;
  window.__ragChat = true;
  const plain = (text) => {
    if (typeof text !== 'string' || text.indexOf('rag-copy-text') < 0) return text;
    const el = new DOMParser().parseFromString(text, 'text/html').querySelector('.rag-copy-text');
    return el ? el.textContent : text;
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(plain(text));
  }
  document.addEventListener('copy', (event) => {
    const box = event.target && event.target.tagName === 'TEXTAREA' ? event.target : document.activeElement;
    if (box && box.tagName === 'TEXTAREA' && box.value.indexOf('rag-copy-text') >= 0) {
      event.clipboardData.setData('text/plain', plain(box.value));
      event.preventDefault();
    }
  }, true);

  let wanted = null;
  const openSources = () => {
    const toggle = document.querySelector('#rag-sources-box button.label-wrap');
    if (toggle && !toggle.classList.contains('open')) toggle.click();
  };
  const showWanted = () => {
    if (!wanted || Date.now() > wanted.until) return;
    const panels = Array.from(document.querySelectorAll('#rag-sources .rag-sources'));
    const panel = panels.find((p) => p.dataset.answer === wanted.key) || (wanted.key ? null : panels[0]);
    const card = panel && panel.querySelector('[id="rag-src-' + wanted.n + '"]');
    if (!card || card === wanted.card) return;  // not there yet, or already shown
    wanted.card = card;
    document.querySelectorAll('.rag-card.rag-flash').forEach((c) => c.classList.remove('rag-flash'));
    void card.offsetWidth;
    card.classList.add('rag-flash');
    openSources();
    requestAnimationFrame(() => {
      card.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      card.focus({ preventScroll: true });
    });
  };
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.rag-cite-link');
    if (!link) return;
    event.preventDefault();
    const answer = link.closest('.rag-answer');
    wanted = {
      key: answer && answer.id ? answer.id.replace('rag-answer-', '') : '',
      n: (link.getAttribute('href') || '').replace('#rag-src-', ''),
      until: Date.now() + 3000,
      card: null,
    };
    showWanted();
  });

  const label = (msg) => {
    const own = msg.querySelector('.rag-label');
    const text = (own ? own.textContent : msg.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 300);
    if (msg.dataset.testid === 'user') return 'Your question: ' + text;
    return own ? text : 'Reply: ' + text;
  };
  let queued = false;
  const tidy = () => {
    queued = false;
    document.querySelectorAll('#rag-chat [data-testid=bot], #rag-chat [data-testid=user]').forEach((msg) => {
      const name = label(msg);
      if (name && msg.getAttribute('aria-label') !== name) msg.setAttribute('aria-label', name);
    });
    showWanted();
  };
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(tidy); }
  }).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label'],
  });
})();
"""

# Run once the app is shown: the question box is focused on wide screens only (on a phone focus
# would scroll the header away and open the keyboard), and there the sources start folded.
ON_LOAD_JS = """
() => {
  if (window.matchMedia('(max-width: 720px)').matches) {
    const toggle = document.querySelector('#rag-sources-box button.label-wrap');
    if (toggle && toggle.classList.contains('open')) toggle.click();
  } else {
    const box = document.querySelector('#rag-question textarea');
    if (box) box.focus({ preventScroll: true });
  }
}
"""


def make_theme() -> gr.themes.Base:
    """Gradio's default theme with the system's fonts: nothing is fetched, CJK falls back well."""
    system = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Noto Sans", "Helvetica Neue", "Arial"]
    return gr.themes.Default(
        primary_hue="indigo",
        neutral_hue="slate",
        font=[*system, "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace"],
    )


# Opening "Read the whole article" scrolls its box to the first marked quote.
SOURCES_JS = """
element.addEventListener('toggle', (event) => {
  const box = event.target;
  if (!box.open || !box.classList || !box.classList.contains('rag-full')) return;
  const text = box.querySelector('.rag-article');
  const mark = text && text.querySelector('mark');
  if (mark) text.scrollTop = Math.max(0, mark.offsetTop - text.offsetTop - text.clientHeight / 3);
}, true);
"""


def build_app(
    pipeline: Pipeline,
    settings: Settings,
    *,
    concurrency: int = 4,
    update: BackgroundUpdate | None = None,
    token: str | None = None,
) -> gr.Blocks:
    """The chat app around one shared pipeline, with its queue set up (``concurrency``
    questions answered at once). Launch it with ``launch(app, ...)``. ``update`` is the index
    update running in the background, which the status line reports."""

    def render_filters() -> tuple[Any, Any]:
        langs, outlets = filter_choices(pipeline.index.articles)
        return gr.update(choices=langs), gr.update(choices=outlets)

    def refresh() -> tuple[str, Any, Any]:
        problem = _reload(pipeline)
        return (status_html(pipeline, settings, reload_problem=problem, update=update), *render_filters())

    def start(question: str, chat: list[dict], busy: bool, *filters: object) -> tuple[Any, ...]:
        """Check the question and the filters: a problem is a brief notice (the question stays in
        the box); else the question is shown and Ask is disabled until the answer is in."""
        if busy:
            gr.Warning("One question at a time: the answer to the last one is on its way.", duration=4)
            return gr.update(), gr.update(), "", True, gr.update(interactive=False)
        problem = check_input(question, *filters)
        if problem:
            gr.Warning(problem, duration=6)
            return gr.update(), gr.update(), "", False, gr.update(interactive=bool((question or "").strip()))
        return "", add_question(question, chat), question, True, gr.update(interactive=False)

    def on_answer(
        pending: str,
        typed: str,
        chat: list[dict],
        asked: list[str],
        panels: dict[int, str],
        turns: dict[int, dict],
        *filters: object,
    ) -> tuple[Any, ...]:
        ready = gr.update(interactive=bool((typed or "").strip()))
        if not pending:  # refused by start: nothing was shown
            return gr.update(), asked, panels, turns, gr.update(), gr.update(), False, ready, ""
        t = take_turn(pipeline, pending, chat, asked, panels, turns, *filters)
        if t.reply.refused:  # a notice, not a chat bubble: take the question back out of the chat
            gr.Warning(t.reply.refused[:1].upper() + t.reply.refused[1:], duration=6)
            kept = list(chat or [])[:-1] if chat and chat[-1].get("role") == "user" else list(chat or [])
            return kept, asked, panels, turns, gr.update(), gr.update(), False, ready, ""
        label = gr.update(label=f"Sources ({source_count(t.panel)})")
        return t.chat, t.asked, t.panels, t.turns, t.panel, label, False, ready, ""

    def pick_message(panels: dict[int, str], evt: gr.SelectData) -> Any:
        index = evt.index[0] if isinstance(evt.index, list | tuple) and evt.index else evt.index
        found = panel_for(panels, index if isinstance(index, int) else -1)
        if found is None:
            return gr.update(), gr.update()
        return found, gr.update(label=f"Sources ({source_count(found)})")

    def pick_example(
        chat: list[dict],
        busy: bool,
        language: object,
        outlet: object,
        since: object,
        until: object,
        undated: object,
        evt: gr.SelectData,
    ) -> tuple[Any, ...]:
        value = evt.value
        text = value.get("text", "") if isinstance(value, dict) else str(value or "")
        return start(text, chat, busy, language, outlet, since, until, undated)

    def can_ask(question: str, busy: bool) -> Any:
        return gr.update(interactive=bool((question or "").strip()) and not busy)

    def on_like(turns: dict[int, dict], evt: gr.LikeData) -> None:
        ok, message = record_verdict(settings, turns, evt.index, evt.liked)
        if ok:
            gr.Info(message, duration=3)
        else:
            gr.Warning(message, duration=8)

    def new_conversation() -> tuple[list, list, dict, dict, str, Any]:
        return [], [], {}, {}, empty_sources_html(), gr.update(label="Sources")

    def run_update(progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[str, str, Any, Any]:  # noqa: B008
        summary = update_index(pipeline, settings, update)
        return (f'<div class="rag-status">{esc(summary)}</div>', *refresh())

    def ask_api(
        question: str,
        language: str = "",
        outlet: str = "",
        since: str = "",
        until: str = "",
        history: list[str] | None = None,
        include_undated: bool = False,
    ) -> dict:
        """Answer one question; returns the answer as JSON (quotes, citations, offsets), or
        {"error": message} naming the parameter that is wrong. outlet "unknown": the articles that
        name none; include_undated: undated articles pass a since/until bound."""
        return api_ask(pipeline, question, language, outlet, since, until, history, include_undated)

    langs, outlets = filter_choices(pipeline.index.articles)
    examples = [{"text": q, "display_text": f"{lang}: {q}"} for lang, q in EXAMPLES]
    private: dict[str, Any] = {"api_visibility": "private"}

    # Uploads land in Gradio's temporary folder before the Articles panel checks them (and its
    # upload route takes them without the token): every 10 minutes, files older than an hour go.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=UPLOAD_CACHE_CLEANUP) as app:
        asked = gr.State([])  # the questions of this conversation, for follow-ups
        panels = gr.State({})  # chat message index -> sources panel HTML
        turns = gr.State({})  # chat message index -> the answer's record, saved with a 👍/👎
        pending_question = gr.State("")
        busy = gr.State(False)  # a question of this tab is being answered
        with gr.Row(equal_height=True, elem_id="rag-top"):
            gr.HTML(
                f'<div class="rag-header"><h1>{TITLE}</h1><p>Answers quoted word for word from your news '
                "articles, each with its source. English, Deutsch, 한국어.</p></div>",
                scale=3,
                min_width=300,
                elem_id="rag-head",
            )
            status = gr.HTML(
                status_html(pipeline, settings, update=update), elem_id="rag-status", scale=4, min_width=300
            )
        with gr.Row(equal_height=False, elem_id="rag-main"):
            with gr.Column(scale=3, min_width=420, elem_id="rag-left"):
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    height=560,
                    render_markdown=False,  # article text is text, not Markdown
                    sanitize_html=True,
                    latex_delimiters=[],
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                    group_consecutive_messages=False,
                    examples=examples,
                    placeholder="<b>Ask about the articles.</b><br>Every answer is a quote, with its source.",
                    elem_id="rag-chat",
                    autoscroll=True,
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask a question, e.g. Who visited Seoul in January 2026?",
                        max_lines=4,
                        scale=8,
                        autofocus=False,  # focused by the page's script on wide screens only
                        elem_id="rag-question",
                        submit_btn=False,
                    )
                    ask = gr.Button(
                        "Ask", variant="primary", scale=1, min_width=80, elem_id="rag-ask", interactive=False
                    )
                with gr.Accordion("Filters", open=False, elem_id="rag-filters") as filters_box:
                    with gr.Row():
                        language = gr.Dropdown(langs, value="", label="Language", elem_id="rag-language")
                        outlet = gr.Dropdown(outlets, value="", label="Outlet", elem_id="rag-outlet")
                    with gr.Row():
                        since = gr.DateTime(
                            label="Published from", include_time=False, type="string", elem_id="rag-since"
                        )
                        until = gr.DateTime(
                            label="Published until", include_time=False, type="string", elem_id="rag-until"
                        )
                    undated = gr.Checkbox(
                        False,
                        label="Include undated articles",
                        info="A date bound leaves out the articles that give no date, unless this is ticked. "
                        "An article dated only by month or year passes when that month or year overlaps.",
                        elem_id="rag-undated",
                    )
                with gr.Row():
                    clear = gr.Button("New conversation", size="sm", variant="secondary")
                    refresh_btn = gr.Button("Refresh status", size="sm", variant="secondary")
                    update_btn = gr.Button(
                        "Update index", size="sm", variant="secondary", elem_id="rag-update"
                    )
                update_note = gr.HTML("")
                from rag.present.manage import articles_panel

                panel = articles_panel(
                    pipeline, settings, token=token, update=update, refresh=refresh,
                    status_outputs=[status, language, outlet],
                )  # fmt: skip
            with gr.Column(scale=2, min_width=320, elem_id="rag-side"):
                with gr.Accordion("Sources", open=True, elem_id="rag-sources-box") as sources_box:
                    sources = gr.HTML(empty_sources_html(), elem_id="rag-sources", js_on_load=SOURCES_JS)

        filter_inputs = [language, outlet, since, until, undated]
        started = [question, chatbot, pending_question, busy, ask]
        answer_inputs = [pending_question, question, chatbot, asked, panels, turns, *filter_inputs]
        answer_outputs = [chatbot, asked, panels, turns, sources, sources_box, busy, ask, pending_question]
        fast: dict[str, Any] = {"queue": False, "show_progress": "hidden", **private}
        # Notices (gr.Warning, gr.Info) reach the page only through the queue: these quick events
        # are queued, with no limit, so that they never wait behind the questions being answered.
        noticed: dict[str, Any] = {"concurrency_limit": None, "show_progress": "hidden", **private}
        answering: dict[str, Any] = {"show_progress": "minimal", **private}
        for trigger in (question.submit, ask.click):
            trigger(start, [question, chatbot, busy, *filter_inputs], started, **noticed).then(
                on_answer, answer_inputs, answer_outputs, **answering
            )
        chatbot.example_select(pick_example, [chatbot, busy, *filter_inputs], started, **noticed).then(
            on_answer, answer_inputs, answer_outputs, **answering
        )
        question.change(can_ask, [question, busy], [ask], **fast)
        chatbot.select(pick_message, [panels], [sources, sources_box], **fast)
        chatbot.like(on_like, [turns], None, **noticed)
        for trigger in (clear.click, chatbot.clear):
            trigger(new_conversation, None, [chatbot, asked, panels, turns, sources, sources_box], **fast)

        def filters_label(*values: object) -> Any:
            try:
                filters = make_filters(*values)
            except QuestionError:
                return gr.update(label="Filters (check the dates)")
            return gr.update(label=f"Filters: {describe_filters(filters)}" if filters else "Filters")

        def check_dates(*values: object) -> Any:
            try:
                make_filters(*values)
            except QuestionError as e:
                gr.Warning(str(e)[:1].upper() + str(e)[1:], duration=6)
            return filters_label(*values)

        for box in (language, outlet, undated):
            box.change(filters_label, filter_inputs, [filters_box], **fast)
        for box in (since, until):
            box.change(check_dates, filter_inputs, [filters_box], **noticed)
        status_outputs = [status, language, outlet]
        refresh_btn.click(refresh, None, status_outputs, **private)
        update_btn.click(panel.gate(run_update), [panel.token], [update_note, *status_outputs], **panel.lock)
        gr.Timer(STATUS_EVERY).tick(refresh, None, status_outputs, show_progress="hidden", **private)
        app.load(refresh, None, status_outputs, show_progress="hidden", **private)
        gr.api(ask_api, api_name="ask")
    app.queue(default_concurrency_limit=concurrency)
    return app


def launch(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    block: bool = True,
    quiet: bool = False,
) -> gr.Blocks:
    """Serve the app. No share link unless ``share``; Gradio's file routes serve only its own
    temporary files (no ``allowed_paths``), and its upload route takes files of at most
    ``GRADIO_MAX_FILE_BYTES`` (the articles panel's own limit is lower, with a message). With
    ``block=False`` it returns once serving."""
    from rag.present.library import GRADIO_MAX_FILE_BYTES

    app.launch(
        server_name=host,
        server_port=port,
        share=share,
        prevent_thread_lock=not block,
        quiet=quiet,
        show_error=False,
        theme=make_theme(),
        css=CSS,
        head=f"<script>{HEAD_JS}</script>",
        js=ON_LOAD_JS,
        footer_links=["api"],
        mcp_server=False,
        pwa=False,
        ssr_mode=False,
        run_history=False,
        max_file_size=GRADIO_MAX_FILE_BYTES,
    )
    return app
