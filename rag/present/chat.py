"""The chat app: what the web UI shows and does, around one shared ``Pipeline``.

``app.py`` only parses flags and calls ``open_pipeline(settings)`` (which builds the index on
first run), ``build_app(pipeline, settings, update=...)``, starts the index update in the
background and calls ``launch(app, ...)``. Everything the user sees is made here, from plain
functions that tests call without a browser:

    reply = answer_question(pipeline, "Who visited Seoul?", history=(), filters=None)
    reply.html           # the chat message: quotes, short answer marked, [1] [2] markers
    reply.sources_html   # the sources panel: one card per cited article, quote in <mark>,
                         # the whole article in an expander with the quote marked in place
    status_html(pipeline, settings)   # articles, chunks, model, build time, files waiting

The app also has filters (language, outlet, dates), an "Update index" button (an
incremental ``rag index`` in the app) and one JSON endpoint for programs,
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
from rag.types import Answer, Article, Citation, Span

if TYPE_CHECKING:
    from rag.query.pipeline import Filters, Pipeline

LOG = logging.getLogger(__name__)

TITLE = "rag-news"
NO_ANSWER = "The articles don't say."
STATUS_EVERY = 30.0  # seconds between status polls (which also pick up a new index)
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


def nice_date(value: str | None) -> str:
    """'2026-01-19' -> '19 Jan 2026'; anything else is returned unchanged ('' for None)."""
    if not value:
        return ""
    try:
        d = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{d.day} {d.strftime('%b')} {d.year}"


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


def _byline(c: Citation) -> str:
    """'Korea Herald · 19 Jan 2026', the outlet falling back to a shortened title."""
    parts = [c.source or short_title(c.title or c.location), nice_date(c.published)]
    return " · ".join(esc(p) for p in parts if p)


def quoted(text_html: str, raw: str) -> str:
    """Curly quotes around a quote, unless it already starts or ends with a quotation mark."""
    if raw[:1] in "\"“„«'‘" or raw[-1:] in "\"”“»'’":
        return text_html
    return f"“{text_html}”"


def _marker(number: int) -> str:
    return f'<sup class="rag-cite" title="source {number}">[{number}]</sup>'


def answer_html(answer: Answer) -> str:
    """The chat message for an answer: the quoted sentences with the short answer marked and
    a numbered marker each, then "Also reported by", or the no-answer reply with the closest
    passages."""
    entries = number_sources(answer)
    number_of = {(e.role, e.first.article_id): e.number for e in entries}

    def citation_list(title: str, role: str, citations: Sequence[Citation]) -> str:
        items = "".join(
            f"<li>{_marker(number_of[(role, c.article_id)])} <b>{_byline(c)}</b>: "
            f"{quoted(esc(c.quote), c.quote)}</li>"
            for c in citations
        )
        return f'<div class="rag-also"><div class="rag-also-title">{title}</div><ul>{items}</ul></div>'

    parts: list[str] = ['<div class="rag-answer">']
    if answer.sentences and not answer.abstained:
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
            parts.append(citation_list("Closest passages", "closest", answer.closest))
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
    """One source card: title, outlet, date, language, the passage with the quote marked, and
    the whole article (when the quote can be checked against it) with every quote marked."""
    c = entry.first
    spans = [(x.start, x.end) for x in entry.citations]
    checked = article is not None and all(article.text[x.start : x.end] == x.quote for x in entry.citations)
    url = safe_url(c.url or (article.url if article else None))
    title = esc(c.title or (article.title if article else "") or c.location)
    title_html = (
        f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">{title}</a>'
        if url
        else title
    )
    meta = [
        esc(c.source) if c.source else "",
        esc(nice_date(c.published)),
        esc(language_name(c.language)),
        f'<span class="rag-loc">{esc(c.location)}</span>' if c.location and c.location != url else "",
    ]
    out = [
        f'<article class="rag-card rag-{esc(entry.role)}" id="rag-src-{entry.number}" '
        f'data-article="{esc(c.article_id)}">',
        f'<header><span class="rag-num">{entry.number}</span><div><div class="rag-title">{title_html}</div>'
        f'<div class="rag-meta">{" · ".join(m for m in meta if m)}</div></div></header>',
    ]
    if checked:
        assert article is not None
        text = article.text
        for x in entry.citations:
            lo, hi = passage_bounds(text, x.start, x.end)
            body = highlight(text[lo:hi], [(x.start, x.end)], entry.shorts, base=lo)
            before = "…" if lo > 0 and text[lo - 1] != "\n" else ""
            after = "…" if hi < len(text) and text[hi] != "\n" else ""
            out.append(f'<p class="rag-passage">{before}{body}{after}</p>')
        whole = highlight(text, spans, entry.shorts)
        out.append(
            '<details class="rag-full"><summary>Read the whole article</summary>'
            f'<div class="rag-article">{whole}</div></details>'
        )
    else:
        for x in entry.citations:
            out.append(f'<p class="rag-passage"><mark class="rag-quote">{esc(x.quote)}</mark></p>')
    out.append("</article>")
    return "".join(out)


def sources_html(answer: Answer, articles: Mapping[str, Article]) -> str:
    """The sources panel for one answer (``articles`` is the index's id -> Article)."""
    entries = number_sources(answer)
    if not entries:
        return empty_sources_html("No passage of the articles comes close to this question.")
    out = ['<div class="rag-sources">', f'<div class="rag-asked">“{esc(answer.question)}”</div>']
    role = None
    for e in entries:
        if e.role != role:
            role = e.role
            out.append(f'<h4 class="rag-section">{esc(SECTION_TITLES[role])}</h4>')
        out.append(source_card(e, articles.get(e.first.article_id)))
    out.append("</div>")
    return "".join(out)


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
    except RagError as e:  # a QuestionError (empty, too long, ...) or a problem with the index
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
    return Reply(answer_html(answer), sources_html(answer, articles), answer.question, answer)


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
        filters = make_filters(language, outlet, since, until)
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
        parts.append(filters.source)
    if filters.since:
        parts.append(f"from {filters.since}")
    if filters.until:
        parts.append(f"until {filters.until}")
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
    language: object = None, source: object = None, since: object = None, until: object = None
) -> Filters | None:
    """The UI's (or the ``/ask`` API's) filter values ("" or None means any) as ``Filters``, or None
    when nothing is set. A value of the wrong type or form (a language that is not a code, a date
    that is not YYYY-MM-DD), or a range that ends before it starts, is a QuestionError that names
    the filter and says what it takes. Values of the right form that no article has are left to
    :func:`no_match_message`, which says what the index has."""
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
    try:
        return Filters(**values)
    except RagError as e:
        raise QuestionError(str(e)) from None


def filter_choices(articles: Mapping[str, Article]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Dropdown choices (label, value) for languages and outlets present in the index; the
    first choice of each, value "", means any."""
    langs: dict[str, int] = {}
    outlets: dict[str, int] = {}
    for a in articles.values():
        langs[a.language] = langs.get(a.language, 0) + 1
        if a.source:
            outlets[a.source] = outlets.get(a.source, 0) + 1
    lang_choices = [("Any language", "")] + [
        (f"{language_name(code)} ({n})", code) for code, n in sorted(langs.items(), key=lambda kv: -kv[1])
    ]
    outlet_choices = [("Any outlet", "")] + [(f"{name} ({n})", name) for name, n in sorted(outlets.items())]
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
    from rag.index.store import current_build

    if current_build(settings.index_dir) is not None:
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


def respond(
    pipeline: Pipeline,
    question: str | None,
    chat: list[dict] | None,
    asked: list[str] | None,
    panels: dict[int, str] | None,
    language: str | None = None,
    outlet: str | None = None,
    since: object = None,
    until: object = None,
) -> tuple[list[dict], list[str], dict[int, str], str]:
    """One turn: answer ``question`` with the conversation's previous questions ``asked`` as
    history and the UI's filters; returns the new chat, questions, panels (chat message index
    -> sources HTML) and the sources panel to show."""
    chat, asked, panels = list(chat or []), list(asked or []), dict(panels or {})
    try:
        filters = make_filters(language, outlet, since, until)
    except QuestionError as e:
        reply = Reply(error_html(str(e)), empty_sources_html(), None)
    else:
        reply = answer_question(pipeline, question or "", history=asked, filters=filters)
    chat.append({"role": "assistant", "content": reply.html})
    panels[len(chat) - 1] = reply.sources_html
    if reply.asked:
        asked.append(reply.asked)
    return chat, asked, panels, reply.sources_html


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

    def show_question(question: str, chat: list[dict]) -> tuple[str, list[dict], str]:
        return "", add_question(question, chat), question or ""

    def on_answer(
        question: str, chat: list[dict], asked: list[str], panels: dict[int, str], *filters: object
    ) -> tuple[list[dict], list[str], dict[int, str], str]:
        return respond(pipeline, question, chat, asked, panels, *filters)

    def pick_message(panels: dict[int, str], evt: gr.SelectData) -> Any:
        index = evt.index[0] if isinstance(evt.index, list | tuple) and evt.index else evt.index
        found = panel_for(panels, index if isinstance(index, int) else -1)
        return gr.update() if found is None else found

    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    def new_conversation() -> tuple[list, list, dict, str]:
        return [], [], {}, empty_sources_html()

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
    ) -> dict:
        """Answer one question; returns the answer as JSON (quotes, citations, offsets), or
        {"error": message} naming the parameter that is wrong."""
        return api_ask(pipeline, question, language, outlet, since, until, history)

    langs, outlets = filter_choices(pipeline.index.articles)
    examples = [{"text": q, "display_text": f"{lang}: {q}"} for lang, q in EXAMPLES]
    private: dict[str, Any] = {"api_visibility": "private"}

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        asked = gr.State([])  # the questions of this conversation, for follow-ups
        panels = gr.State({})  # chat message index -> sources panel HTML
        pending_question = gr.State("")
        with gr.Row(equal_height=True):
            gr.HTML(
                f'<div class="rag-header"><h1>{TITLE}</h1><p>Answers quoted word for word from your news '
                "articles, each with its source. English, Deutsch, 한국어.</p></div>",
                scale=3,
                min_width=300,
            )
            status = gr.HTML(
                status_html(pipeline, settings, update=update), elem_id="rag-status", scale=4, min_width=300
            )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    height=560,
                    render_markdown=False,  # article text is text, not Markdown
                    sanitize_html=True,
                    latex_delimiters=[],
                    buttons=["copy"],
                    feedback_options=None,
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
                        autofocus=True,
                        elem_id="rag-question",
                        submit_btn=False,
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="rag-ask")
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
                with gr.Row():
                    clear = gr.Button("New conversation", size="sm", variant="secondary")
                    refresh_btn = gr.Button("Refresh status", size="sm", variant="secondary")
                    update_btn = gr.Button(
                        "Update index", size="sm", variant="secondary", elem_id="rag-update"
                    )
                update_note = gr.HTML("")
            with gr.Column(scale=2, min_width=320):
                gr.HTML('<h3 class="rag-panel-title">Sources</h3>')
                sources = gr.HTML(empty_sources_html(), elem_id="rag-sources", js_on_load=SOURCES_JS)

        answer_inputs = [pending_question, chatbot, asked, panels, language, outlet, since, until]
        answer_outputs = [chatbot, asked, panels, sources]
        shown = [question, chatbot, pending_question]
        fast: dict[str, Any] = {"queue": False, "show_progress": "hidden", **private}
        answering: dict[str, Any] = {"show_progress": "minimal", **private}
        for trigger in (question.submit, ask.click):
            trigger(show_question, [question, chatbot], shown, **fast).then(
                on_answer, answer_inputs, answer_outputs, **answering
            )
        chatbot.example_select(pick_example, None, [pending_question], **fast).then(
            show_question, [pending_question, chatbot], shown, **fast
        ).then(on_answer, answer_inputs, answer_outputs, **answering)
        chatbot.select(pick_message, [panels], [sources], **fast)
        for trigger in (clear.click, chatbot.clear):
            trigger(new_conversation, None, [chatbot, asked, panels, sources], **fast)

        def filters_label(*values: object) -> Any:
            try:
                filters = make_filters(*values)
            except QuestionError:
                return gr.update(label="Filters (check the dates)")
            return gr.update(label=f"Filters: {describe_filters(filters)}" if filters else "Filters")

        for box in (language, outlet, since, until):
            box.change(filters_label, [language, outlet, since, until], [filters_box], **fast)
        status_outputs = [status, language, outlet]
        refresh_btn.click(refresh, None, status_outputs, **private)
        update_btn.click(run_update, None, [update_note, *status_outputs], **private)
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
    temporary files (no ``allowed_paths``). With ``block=False`` it returns once serving."""

    app.launch(
        server_name=host,
        server_port=port,
        share=share,
        prevent_thread_lock=not block,
        quiet=quiet,
        show_error=False,
        theme=make_theme(),
        css=CSS,
        footer_links=["api"],
        mcp_server=False,
        pwa=False,
        ssr_mode=False,
        run_history=False,
    )
    return app
