"""The chat app's logic without a browser: HTML rendering (escaping, highlights, numbering),
filters, follow-up history, status, error replies, the ``/ask`` API's parameters (checked, and
fuzzed), a damaged new build, and the served app's routes.

Runs on the fake embedder and the fake reader over a temporary copy of the seed articles plus
an article that carries HTML and script.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import math
import random
import re
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from rag.errors import QuestionError
from rag.index.indexer import build_index
from rag.index.store import current_build
from rag.present import chat
from rag.present.render import ANSWER_KEYS, shown_title
from rag.query.question import HISTORY_TURNS, MAX_HISTORY
from rag.types import Answer, AnswerSentence, Article, Citation, Span

from .conftest import INJECTION


def text_of(fragment: str) -> str:
    """What a browser shows for an HTML fragment: hidden elements and tags dropped, entities decoded."""
    shown = re.sub(r"<span [^>]*\bhidden>.*?</span>", "", fragment, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", shown))


@pytest.fixture
def app_settings(settings, seed_dir: Path, fake_embedder):
    (seed_dir / "zz-injection.txt").write_text(INJECTION, encoding="utf-8")
    build_index(settings, embedder=fake_embedder)
    return settings


@pytest.fixture
def pipeline(app_settings, fake_embedder, fake_reader):
    from rag.query.pipeline import Pipeline

    return Pipeline.from_settings(app_settings, embedder=fake_embedder, reader=fake_reader)


@pytest.fixture(scope="module")
def api(fake_seed_index):
    """The function the app serves as ``/ask``, over the seed articles, called as a program calls it."""
    from rag.index.embed import FakeEmbedder
    from rag.query.pipeline import Pipeline
    from rag.query.reader import FakeReader

    pipeline = Pipeline.from_settings(fake_seed_index, embedder=FakeEmbedder(), reader=FakeReader())
    app = chat.build_app(pipeline, fake_seed_index)
    return next(f.fn for f in app.fns.values() if f.api_name == "ask")


def article_with(pipeline, needle: str) -> Article:
    return next(a for a in pipeline.index.articles.values() if needle in a.text)


def cite(article: Article, needle: str) -> Citation:
    """The citation of the sentence-like span of ``article`` that starts with ``needle``."""
    start = article.text.index(needle)
    end = re.compile(r"[.!?](?=\s|$)").search(article.text, start).end()
    return Citation(
        article.id,
        article.title,
        article.location,
        start,
        end,
        article.text[start:end],
        article.source,
        article.published,
        article.language,
        article.url,
    )


def span(c: Citation, text: str, nth: int = 0) -> Span:
    at = -1
    for _ in range(nth + 1):
        at = c.quote.index(text, at + 1)
    return Span(c.start + at, c.start + at + len(text), text)


# ---------------------------------------------------------------------------
# Rendering


def test_article_html_and_script_are_shown_as_text(pipeline):
    article = article_with(pipeline, "harbour festival drew")
    c = cite(article, "The Busan harbour")
    assert "<img" in c.quote
    answer = Answer("How many visitors?", (AnswerSentence(c.quote, c, span(c, "41,000")),), confidence=0.9)
    for fragment in (chat.answer_html(answer), chat.sources_html(answer, pipeline.index.articles)):
        assert "<img" not in fragment and "<script" not in fragment and "<b>" not in fragment
        assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in fragment
    panel = chat.sources_html(answer, pipeline.index.articles)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in panel  # the title
    assert "{{ value }} and ${1+1}" in panel  # template syntax left alone


def test_question_is_escaped_in_chat_and_sources(pipeline):
    question = '<img src=x onerror="window.__pwned=1"> who?'
    chat_log = chat.add_question(question, [])
    assert chat_log[-1]["content"] == "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt; who?"
    article = article_with(pipeline, "harbour festival drew")
    c = cite(article, "The Busan harbour")
    panel = chat.sources_html(Answer(question, (AnswerSentence(c.quote, c),)), pipeline.index.articles)
    assert "<img" not in panel and "&lt;img src=x" in panel


def test_empty_question_adds_no_user_message():
    assert chat.add_question("   ", []) == []


def test_short_answer_is_marked_where_the_span_says_not_at_the_first_match():
    text = "Lee met Meloni. Meloni met Lee again in Seoul, and Meloni left."
    article = Article("a1", "x.txt", "Summit", text, "en", "2026-01-19", None, "Outlet", None)
    c = cite(article, "Meloni met Lee")
    second = span(c, "Meloni", nth=1)  # "... and Meloni left"
    answer = Answer("Who left?", (AnswerSentence(c.quote, c, second),), confidence=0.8)
    message = chat.answer_html(answer)
    marked = re.search(
        r'<blockquote class="rag-said">(.*?)<mark class="rag-short"><strong>(.*?)</strong>', message
    )
    assert marked is not None
    before, phrase = text_of(marked.group(1)), marked.group(2)
    assert phrase == "Meloni"
    assert before.lstrip("“") == c.quote[: second.start - c.start]
    assert text_of(message).count("Meloni met Lee again in Seoul, and Meloni left.") == 1


def test_highlight_nests_marks_and_escapes():
    assert chat.highlight("a <b> c d", [(2, 5)], [(3, 4)]) == (
        'a <mark class="rag-quote">&lt;<strong>b</strong>&gt;</mark> c d'
    )
    # overlapping quotes merge; a strong range outside every mark is dropped; base shifts offsets
    out = chat.highlight("0123456789", [(12, 15), (14, 17)], [(18, 19)], base=10)
    assert out == '01<mark class="rag-quote">23456</mark>789'


def test_citation_markers_are_numbered_per_article_in_reading_order(pipeline):
    en = article_with(pipeline, "medical staff for the 1950-53 conflict")
    de = article_with(pipeline, "Absichtserklärungen")
    third = article_with(pipeline, "harbour festival drew")
    c1 = cite(en, "Rome was one of five")
    c2 = cite(de, "Während des Gipfels")
    c3 = cite(third, "The Busan harbour")
    answer = Answer(
        "q",
        (AnswerSentence(c1.quote, c1), AnswerSentence(c2.quote, c2)),
        also_reported=(c3,),
        confidence=0.7,
    )
    message = chat.answer_html(answer)
    assert re.findall(r'href="#rag-src-(\d+)"[^>]*>\[(\d+)\]</a></sup>', message) == [
        ("1", "1"),
        ("2", "2"),
        ("3", "3"),
    ]
    assert "Also reported by" in message
    panel = chat.sources_html(answer, pipeline.index.articles)
    assert re.findall(r'id="rag-src-(\d+)"', panel) == ["1", "2", "3"]
    assert panel.index(c1.title) < panel.index(html.escape(c3.title))


def test_sources_card_shows_metadata_quote_and_whole_article_with_quote_in_place(pipeline):
    article = article_with(pipeline, "Absichtserklärungen")
    c = cite(article, "Während des Gipfels")
    short = span(c, "drei")
    panel = chat.sources_html(
        Answer("Wie viele?", (AnswerSentence(c.quote, c, short),)), pipeline.index.articles
    )
    assert "German" in panel and chat.nice_date(article.published) in panel
    passage = re.search(r'<p class="rag-passage">(.*?)</p>', panel).group(1)
    mark = re.search(r'<mark class="rag-quote">(.*?)</mark>', passage).group(1)
    assert text_of(mark) == c.quote and "<strong>drei</strong>" in mark
    whole = re.search(r'<div class="rag-article">(.*?)</div></details>', panel, re.S).group(1)
    assert text_of(whole) == article.text
    before = whole[: whole.index('<mark class="rag-quote">')]
    assert text_of(before) == article.text[: c.start]


def test_quote_that_does_not_match_the_article_is_shown_without_the_whole_article(pipeline):
    article = article_with(pipeline, "Absichtserklärungen")
    c = cite(article, "Während des Gipfels")
    bad = Citation(c.article_id, c.title, c.location, c.start + 1, c.end, c.quote)
    panel = chat.sources_html(Answer("q", (AnswerSentence(bad.quote, bad),)), pipeline.index.articles)
    assert "rag-full" not in panel and text_of(panel).count(c.quote) == 1


def test_only_http_links_are_made_clickable():
    assert chat.safe_url("https://example.org/a") == "https://example.org/a"
    assert chat.safe_url("javascript:window.__pwned=1") is None
    assert chat.safe_url(" JaVaScRiPt:alert(1)") is None
    c = Citation("a", "T", "x.txt", 0, 1, "T", url="javascript:window.__pwned=1")
    assert "href" not in chat.source_card(chat.SourceEntry(1, "answer", [c]), None)


def test_abstention_says_the_articles_dont_say_and_lists_closest_passages(pipeline):
    article = article_with(pipeline, "medical staff for the 1950-53 conflict")
    c = cite(article, "Rome was one of five")
    answer = Answer("What is the population of Milan?", closest=(c,), abstained=True, confidence=0.1)
    message = text_of(chat.answer_html(answer))
    assert message.startswith("The articles don't say.")
    assert f"Not sure: the closest the articles come is “{c.quote}” [1]" in message
    assert "too low to answer" in message
    panel = chat.sources_html(answer, pipeline.index.articles)
    assert "Closest passages" in text_of(panel) and "rag-closest" in panel


# ---------------------------------------------------------------------------
# Citations, copy text, labels, headline answer, metadata, furniture (issue 24)

BARE = Article(
    "bare1",
    "feeds/wire.jsonl#L3",
    "Leaders met in Seoul on Monday and agreed <b>three</b> deals",
    "Leaders met in Seoul on Monday and agreed <b>three</b> deals. They met again on Tuesday.",
    "en",
    title_kind="lead",
)


def bare_answer(short: str | None = "three") -> tuple[Answer, Citation]:
    c = dataclasses.replace(cite(BARE, "Leaders met"), title_kind="lead")  # as rag.query.answer.cite fills it
    s = span(c, short) if short else None
    return Answer("How many deals?", (AnswerSentence(c.quote, c, s),), confidence=0.8), c


def test_copy_text_is_plain_text_one_line_per_quote_with_unknown_values(pipeline):
    answer, c = bare_answer()
    other = cite(article_with(pipeline, "Absichtserklärungen"), "Während des Gipfels")
    answer = Answer(answer.question, answer.sentences, also_reported=(other,), confidence=0.8)
    lines = chat.copy_text(answer).split("\n")
    assert lines[0] == f'"{c.quote}" — unknown, unknown [feeds/wire.jsonl#L3]'
    assert lines[1] == (
        f'"{" ".join(other.quote.split())}" — {other.source or "unknown"}, '
        f"{chat.nice_date(other.published) or 'unknown'} [{other.location}]"
    )
    assert len(lines) == 2
    # The message carries it hidden, escaped; the copy button's script reads its text.
    message = chat.answer_html(answer)
    hidden = re.search(r'<span class="rag-copy-text" hidden>(.*?)</span>', message, re.S).group(1)
    assert html.unescape(hidden) == chat.copy_text(answer) and "<b>" not in hidden
    no = Answer("q", closest=(c,), abstained=True, confidence=0.1)
    assert chat.copy_text(no).split("\n") == ["The articles don't say. Closest passages:", lines[0]]


def test_messages_carry_a_readable_label_without_markup():
    answer, _ = bare_answer()
    label = chat.answer_label(answer)
    assert label == "Answer: three. Quoted from outlet unknown, date unknown; 1 source; confidence 0.80."
    assert (
        html.unescape(re.search(r'class="rag-label" hidden>(.*?)</span>', chat.answer_html(answer)).group(1))
        == label
    )
    no = chat.answer_label(Answer("q", closest=answer.citations, abstained=True, confidence=0.1))
    assert no.startswith("No answer: The articles don't say.") and "<" not in no


def test_markers_link_to_the_source_cards_of_their_own_answer():
    answer, _ = bare_answer()
    message = chat.answer_html(answer, key="7")
    assert 'id="rag-answer-7"' in message
    assert re.findall(r'<a class="rag-cite-link" href="#rag-src-(\d+)"[^>]*>\[(\d+)\]</a>', message) == [
        ("1", "1")
    ]
    panel = chat.sources_html(answer, {BARE.id: BARE}, key="7")
    assert 'data-answer="7"' in panel and 'id="rag-src-1"' in panel and chat.source_count(panel) == 1
    assert chat.source_count(chat.empty_sources_html()) == 0


def test_headline_answer_above_the_quotes_only_when_there_is_a_short_answer():
    message = chat.answer_html(bare_answer()[0])
    headline = re.search(r'<p class="rag-headline">(.*?)</p>', message).group(1)
    assert text_of(headline) == "Answer: three"
    assert message.index("rag-headline") < message.index("rag-said")
    assert "rag-headline" not in chat.answer_html(bare_answer(None)[0])


def test_stand_in_titles_are_marked_everywhere():
    assert (
        shown_title("Am 19. Januar 2026 trafen sich", "lead")
        == "“Am 19. Januar 2026 trafen sich…” (no headline)"
    )
    assert (
        shown_title("2026 01 lee meloni", "file", "2026-01-lee-meloni.txt")
        == "2026-01-lee-meloni.txt (file name)"
    )
    assert shown_title("Summit in Seoul", "headline") == "Summit in Seoul"
    assert (
        shown_title("<b>x</b>", "headline") == "<b>x</b>"
        and chat.title_html("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    )
    answer, c = bare_answer()
    card = chat.source_card(chat.SourceEntry(1, "answer", [c]), BARE)
    title = re.search(r'<div class="rag-title">(.*?)</div>', card).group(1)
    assert '<span class="rag-standin"' in title and text_of(title).endswith("(no headline)")
    assert text_of(title).startswith("“Leaders met in Seoul") and "&lt;b&gt;" in title
    also = Answer("q", answer.sentences, also_reported=(c,), confidence=0.8)
    item = re.search(r"<li>(.*?)</li>", chat.answer_html(also)).group(1)
    assert "(no headline)" in text_of(item)


def test_unknown_outlet_and_date_and_dates_by_precision():
    assert [chat.nice_date(d) for d in ("2026-01-19", "2026-01", "2026", None)] == [
        "19 January 2026",
        "January 2026",
        "2026",
        "",
    ]
    answer, c = bare_answer()
    card = chat.source_card(chat.SourceEntry(1, "answer", [c]), BARE)
    meta = text_of(re.search(r'<div class="rag-meta">(.*?)</div>', card).group(1))
    assert meta.startswith("outlet unknown · date unknown · English")
    assert "— outlet unknown · date unknown" in text_of(chat.answer_html(answer))
    dated = Citation("a", "T", "x.txt", 0, 1, "T", source="Yonhap", published="2026-01")
    assert chat._byline(dated) == "Yonhap · January 2026"


def test_source_card_links_to_the_original_only_for_http_urls():
    c = Citation("a", "T", "x.txt", 0, 1, "T", url="https://example.org/a?b=1&c=2")
    card = chat.source_card(chat.SourceEntry(1, "answer", [c]), None)
    link = re.search(r'<a class="rag-original" ([^>]*)>', card).group(1)
    assert 'href="https://example.org/a?b=1&amp;c=2"' in link
    assert 'target="_blank"' in link and 'rel="noopener noreferrer"' in link


def test_furniture_is_shown_marked_in_the_whole_article_never_as_a_quote():
    text = (
        "Lee and Meloni shake hands. YONHAP\nSEOUL (AJP) - The two leaders signed three deals.\n"
        "Related: Other news"
    )
    furniture = ((0, 27, "caption"), (28, 34, "credit"), (35, 48, "dateline"), (85, 104, "related"))
    article = Article(
        "f1", "f.txt", "Deals", text, "en", "2026-01-19", None, "AJP", None, furniture=furniture
    )
    c = cite(article, "The two leaders")
    card = chat.source_card(chat.SourceEntry(1, "answer", [c]), article)
    whole = re.search(r'<div class="rag-article">(.*?)</div></details>', card, re.S).group(1)
    assert text_of(whole) == text
    found = re.findall(r'<span class="rag-furniture" data-role="([^"]+)"[^>]*>(.*?)</span>', whole)
    assert found == [
        ("photo caption", "Lee and Meloni shake hands."),
        ("credit", "YONHAP"),
        ("dateline", "SEOUL (AJP) -"),
        ("related articles", "Related: Other news"),
    ]
    assert all("<mark" not in inner for _, inner in found)
    assert '<mark class="rag-quote">The two leaders signed three deals.</mark>' in whole
    # the passage around the quote marks the dateline in it too
    passage = re.search(r'<p class="rag-passage">(.*?)</p>', card).group(1)
    assert 'data-role="dateline"' in passage and text_of(passage).endswith(c.quote)


def test_input_problems_are_brief_notices():
    assert chat.check_input("   ") == "Type a question first."
    assert "has no words" in chat.check_input("???")
    assert chat.check_input("x" * 20_000).startswith("The question is too long")
    assert "not a date like 2026-01-19" in chat.check_input("Who?", "", "", "2026-13-45")
    assert chat.check_input("Who visited Seoul?", "en", "unknown", "2026-01-01", "", True) is None


def test_undated_and_unknown_outlet_filters():
    from rag.query.pipeline import Filters

    assert chat.make_filters(since="2026-01-01", include_undated=True) == Filters(
        since="2026-01-01", include_undated=True
    )
    assert chat.make_filters(include_undated=True) is None  # no date bound: nothing to include
    f = chat.make_filters("", "unknown", "2026-01-01", None, False)
    assert chat.describe_filters(f) == "outlet unknown, from 2026-01-01, undated left out"


def test_a_refused_turn_is_marked_for_a_notice_not_remembered(pipeline):
    t = chat.take_turn(pipeline, "Who visited Seoul?", [], [], {}, {}, "", "", "tomorrow", None)
    assert t.reply.refused and "not a date" in t.reply.refused and t.asked == [] and t.turns == {}


def test_thumbs_are_saved_as_feedback_and_a_failure_is_a_notice(pipeline, app_settings):
    q = "Who visited Seoul in January 2026?"
    t = chat.take_turn(pipeline, q, chat.add_question(q, []), [], {}, {})
    assert set(t.turns) == {1}
    assert chat.record_verdict(app_settings, t.turns, 1, True) == (True, "Thanks: saved as a good answer.")
    ok, message = chat.record_verdict(app_settings, t.turns, [1, None], False)
    assert ok and message.startswith("Thanks: saved as a poor answer")
    saved = [json.loads(x) for x in app_settings.feedback_file.read_text().splitlines()]
    assert [x["verdict"] for x in saved] == ["up", "down"] and saved[0]["question"] == q
    assert saved[0]["answer"]["question"] == q
    assert chat.record_verdict(app_settings, t.turns, 0, True) == (True, "Only answers can be rated.")
    assert chat.record_verdict(app_settings, t.turns, 1, None)[0]  # taken back: nothing saved
    assert len(app_settings.feedback_file.read_text().splitlines()) == 2
    app_settings.feedback_file.unlink()
    app_settings.feedback_file.mkdir()  # cannot be written
    ok, message = chat.record_verdict(app_settings, t.turns, 1, True)
    assert not ok and message.startswith("Feedback not saved:") and "Traceback" not in message


# ---------------------------------------------------------------------------
# Filters, history, errors


def test_filters_from_the_ui_map_to_pipeline_filters():
    from rag.query.pipeline import Filters

    assert chat.make_filters("", "", None, "") is None
    assert chat.make_filters("de", "Korea Herald", "2026-01-01", "2026-01-31") == Filters(
        language="de", source="Korea Herald", since="2026-01-01", until="2026-01-31"
    )
    assert chat.make_filters(None, None, "2026-01-19 00:00:00", None) == Filters(since="2026-01-19")
    with pytest.raises(QuestionError, match="not a date"):
        chat.make_filters(since="19.01.2026")
    with pytest.raises(QuestionError, match="before it starts"):
        chat.make_filters(since="2026-02-01", until="2026-01-01")


def test_filter_choices_come_from_the_index(pipeline):
    langs, outlets = chat.filter_choices(pipeline.index.articles)
    assert langs[0] == ("Any language", "") and outlets[0] == ("Any outlet", "")
    assert {v for _, v in langs[1:]} == {a.language for a in pipeline.index.articles.values()}
    articles = pipeline.index.articles.values()
    named = {a.source for a in articles if a.source}
    unnamed = sum(1 for a in articles if not a.source)
    assert unnamed and {v for _, v in outlets[1:]} == named | {"unknown"}
    assert outlets[-1] == (f"outlet unknown ({unnamed})", "unknown")  # the filter's value for them


class Spy:
    """Wraps a pipeline and records what ``ask`` was called with."""

    def __init__(self, pipeline, fail: Exception | None = None):
        self.pipeline, self.fail, self.calls = pipeline, fail, []

    def __getattr__(self, name):
        return getattr(self.pipeline, name)

    def ask(self, question, *, filters=None, history=()):
        self.calls.append((question, filters, tuple(history)))
        if self.fail is not None:
            raise self.fail
        return self.pipeline.ask(question, filters=filters, history=history)


def test_follow_up_gets_the_previous_questions_and_the_filters(pipeline):
    from rag.query.pipeline import Filters

    spy = Spy(pipeline)
    state = ([], [], {})
    q1, q2 = "Who visited Seoul in January 2026?", "When did she arrive?"
    chat_log, asked, panels, _ = chat.respond(spy, q1, chat.add_question(q1, state[0]), *state[1:])
    chat_log, asked, panels, panel = chat.respond(
        spy, q2, chat.add_question(q2, chat_log), asked, panels, "en", "", None, None
    )
    assert spy.calls[0] == (q1, None, ())
    assert spy.calls[1] == (q2, Filters(language="en"), (q1,))
    assert asked == [q1, q2]
    assert [m["role"] for m in chat_log] == ["user", "assistant", "user", "assistant"]
    assert set(panels) == {1, 3} and panels[3] == panel
    assert chat.panel_for(panels, 0) == panels[1] and chat.panel_for(panels, 3) == panel


@pytest.mark.parametrize("question", ["", "   ", "x" * 20_000])
def test_bad_question_becomes_a_friendly_message_and_is_not_remembered(pipeline, question):
    chat_log, asked, panels, panel = chat.respond(pipeline, question, [], [], {})
    message = chat_log[-1]["content"]
    assert 'class="rag-answer rag-error"' in message and "Traceback" not in message
    assert len(text_of(message)) < 300
    assert asked == [] and "rag-empty" in panel


def test_bad_date_filter_is_a_friendly_message(pipeline):
    chat_log, asked, _, _ = chat.respond(pipeline, "Who visited Seoul?", [], [], {}, "", "", "tomorrow", None)
    assert "not a date" in text_of(chat_log[-1]["content"]) and asked == []


def test_filters_that_exclude_every_article_say_so(pipeline):
    chat_log, _, _, _ = chat.respond(
        pipeline, "Who visited Seoul?", [], [], {}, "", "", "1990-01-01", "1990-12-31"
    )
    reply = text_of(chat_log[-1]["content"])
    assert (
        "No indexed article matches the filters (from 1990-01-01, until 1990-12-31, undated left out)"
        in reply
    )
    assert "In the index: languages de, en" in reply  # what the filters could be instead


def test_unexpected_failure_is_an_apology_not_a_traceback(pipeline, caplog):
    spy = Spy(pipeline, fail=RuntimeError("boom"))
    chat_log, asked, _, _ = chat.respond(spy, "Who visited Seoul?", [], [], {})
    assert "Something went wrong" in chat_log[-1]["content"] and "boom" not in chat_log[-1]["content"]
    assert asked == [] and "boom" in caplog.text


@pytest.mark.parametrize("question", ["🙂🙂🙂", "???", " ?! … "])
def test_a_question_without_words_is_refused_in_the_chat_and_the_api(pipeline, api, question):
    chat_log, asked, _, _ = chat.respond(pipeline, question, [], [], {})
    message = text_of(chat_log[-1]["content"])
    assert "rag-error" in chat_log[-1]["content"] and "has no words" in message and asked == []
    out = api(question)
    assert set(out) == {"error"} and "has no words (no letter or digit)" in out["error"]


def test_the_chat_remembers_the_question_it_answered_cleaned(pipeline):
    spy = Spy(pipeline)
    _, asked, _, _ = chat.respond(spy, "  Who visited\x00 Seoul?\u200b ", [], [], {})
    chat.respond(spy, "When did she arrive?", [], asked, {})
    assert asked == ["Who visited Seoul?"] and spy.calls[1][2] == ("Who visited Seoul?",)


def test_a_long_conversation_sends_only_its_last_questions(pipeline):
    spy = Spy(pipeline)
    asked = [f"Who visited Seoul in {year}?" for year in range(1900, 1900 + 3 * MAX_HISTORY)]
    chat_log, _, _, _ = chat.respond(spy, "When did she arrive?", [], asked, {})
    assert "rag-error" not in chat_log[-1]["content"]
    assert spy.calls[0][2] == tuple(asked[-HISTORY_TURNS:])


# ---------------------------------------------------------------------------
# The /ask API: every parameter checked, never a traceback


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"since": 1e20},
            r"^since \(published from\): 1e\+20 is not the Unix time of a day in the years 1 to 9999",
        ),
        ({"until": -1e16}, r"^until \(published until\): -1e\+16 is not the Unix time"),
        ({"since": math.nan}, r"^since \(published from\): nan is not the Unix time"),
        ({"until": math.inf}, r"^until \(published until\): inf is not the Unix time"),
        ({"since": True}, r"^since \(published from\) must be a date like 2026-01-19 .*, got bool"),
        ({"since": [2026, 1, 19]}, r"^since \(published from\) must be a date .*, got list"),
        ({"until": {"year": 2026}}, r"^until \(published until\) must be a date .*, got dict"),
        ({"since": "2026-01-19; DROP TABLE"}, r"^since \(published from\): .* is not a date like 2026-01-19"),
        ({"since": "2026-02-30"}, r"is not a date like 2026-01-19"),
        (
            {"language": 5},
            r"^language must be a language code such as en, de or ko, or \"\" for any, got int",
        ),
        ({"language": ["en"]}, r"^language must be a language code .*, got list"),
        ({"language": "English, please"}, r"^language must be a language code .*, got 'English, please'"),
        ({"outlet": ["AJP"]}, r"^outlet must be an outlet name .*, got list"),
        (
            {"outlet": "A" * 1000},
            r"^outlet is too long \(1,000 characters\); it must be an outlet name of at most",
        ),
        (
            {"history": "Who visited Seoul?"},
            r"^history must be a list of the conversation's earlier questions",
        ),
        ({"history": {"0": "Who?"}}, r"^history must be a list .*, got dict"),
        (
            {"history": ["Who visited Seoul?"] * 5000},
            rf"^history has 5,000 questions; at most {MAX_HISTORY} are",
        ),
        (
            {"history": ["Who visited Seoul?", None]},
            r"^history\[1\] \(an earlier question\) must be text, got",
        ),
        (
            {"history": ["Who visited Seoul?", 7]},
            r"^history\[1\] \(an earlier question\) must be text, got int",
        ),
        (
            {"history": ["x" * 5000]},
            r"^history\[0\] \(an earlier question\) is too long \(5,000 characters\)",
        ),
        ({"question": 42}, r"^the question must be text, got int"),
        ({"question": None}, r"^the question must be text, got NoneType"),
        ({"question": ["Who visited Seoul?"]}, r"^the question must be text, got list"),
        ({"question": "x" * 5000}, r"^the question is too long \(5,000 characters\); the limit is 2,000"),
        ({"question": "🙂🙂🙂"}, r"^the question '🙂🙂🙂' has no words"),
        ({"include_undated": "yes"}, r"^include_undated must be true or false, got 'yes'"),
    ],
)
def test_api_refuses_a_bad_parameter_with_a_message_naming_it(api, params, message):
    out = api(**{"question": "When did she arrive?", "history": ["Who visited Seoul?"], **params})
    assert set(out) == {"error"} and re.search(message, out["error"]), out
    assert len(out["error"]) < 300


def test_api_accepts_what_the_chat_and_programs_send(api):
    plain = api("Who visited Seoul in January 2026?")
    assert tuple(plain) == ANSWER_KEYS
    asked = ["Who visited Seoul in January 2026?"] * MAX_HISTORY
    for params in (
        {"language": "EN", "outlet": " ajp ", "since": "2026-01-19 00:00:00", "until": "2026-01-19"},
        {"language": "en-US", "since": 1768780800, "until": 1768780800.5},  # Unix times of 2026-01-19
        {"language": None, "outlet": None, "since": None, "until": None, "history": None},
        {"history": asked},
        {"history": asked[:HISTORY_TURNS] + ["", "   "]},
        {"outlet": "unknown", "since": "2026-01-01", "include_undated": True},
    ):
        out = api("When did she arrive?", **params)
        assert tuple(out) == ANSWER_KEYS, (params, out)


def fuzz_text(rng: random.Random) -> str:
    """Text of a random length from a mix of scripts, symbols, controls, surrogates and odd spaces."""
    alphabets = [
        "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 ?!.,;:'\"-",
        "äöüßÄÖÜéèñçø",
        "가나다라마바사아자차카타파하한국어질문은무엇인가",
        "的一是不了人我在有他这为之大来以个中上们",
        "مرحباكيفحالك",
        "🙂🚀🇰🇷👩‍👩‍👧‍👦🏳️‍🌈✨",
        "\x00\x01\x07\x1b\x7f\u200b\u200e\u202e\ufeff\ufffd\ud800\udfff\U0010ffff\ue000",
        "\t\n\r\u00a0\u3000\u2028\u2029",
        "<>&\"'`{}$\\/%#*[]()|~^",
        "\u0301\u0308\u200d\ufe0f",
    ]
    size = rng.choice([0, 1, 2, 5, 20, 60, 200, 1000, 2500, 9000, 50_000])
    pool = "".join(rng.sample(alphabets, rng.randint(1, 3)))
    return "".join(rng.choice(pool) for _ in range(size))


def fuzz_value(rng: random.Random, depth: int = 0) -> object:
    """A value of a random JSON-ish type (and a few that JSON cannot carry)."""
    kind = rng.randrange(12 if depth < 2 else 8)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, 1, -1, 7, 2026, 1768780800, 2**31, 2**63, -(2**63), 10**30, -(10**30)])
    if kind == 3:
        return rng.choice([0.0, -0.0, 0.5, 1e20, -1e20, 1e308, 5e-324, math.inf, -math.inf, math.nan])
    if kind == 4:
        return rng.uniform(-1e11, 1e11)
    if kind in (5, 6, 7):
        return fuzz_text(rng)
    if kind == 8:
        return [fuzz_value(rng, depth + 1) for _ in range(rng.choice([0, 1, 3, 25]))]
    if kind == 9:
        return {fuzz_text(rng)[:10]: fuzz_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if kind == 10:
        return rng.choice([b"Who visited Seoul?", (1, 2), {"a"}, object(), 3 + 4j, range(3)])
    return [rng.choice(PLAUSIBLE["question"]) for _ in range(rng.choice([1, 5, 5000]))]


PLAUSIBLE = {
    "question": [
        "Who visited Seoul in January 2026?",
        "When did she arrive?",
        "Wie viele Absichtserklärungen wurden unterzeichnet?",
        "이탈리아 총리가 한국을 공식 방문한 것은 몇 년 만인가요?",
        "1956",
        "Why?",
    ],
    "language": ["", "en", "de", "ko", "fr", "EN", "en-US", "und", "xx"],
    "outlet": ["", "AJP", "korea herald", "No Such Outlet", " Korea Herald "],
    "since": [
        "",
        "2026-01-19",
        "2026-01-19 00:00:00",
        "2026-01-19T23:59:59+09:00",
        "2026-02-30",
        "1999-12-31",
    ],
    "until": ["", "2026-01-19", "2026-12-31", "2025-01-01", "0001-01-01", "9999-12-31"],
}


def fuzz_param(rng: random.Random, name: str) -> object:
    """A plausible value (perhaps with noise added), or a random one."""
    roll = rng.random()
    if name == "history":
        if roll < 0.5:
            return [rng.choice(PLAUSIBLE["question"]) for _ in range(rng.randint(0, 6))]
        return fuzz_value(rng)
    if roll < (0.3 if name == "question" else 0.75):
        return rng.choice(PLAUSIBLE[name])
    if roll < 0.85:
        value = rng.choice(PLAUSIBLE[name])
        at = rng.randint(0, len(value))
        return value[:at] + fuzz_text(rng)[:30] + value[at:]
    return fuzz_value(rng)


def test_fuzzed_api_parameters_always_get_an_answer_or_an_error_never_an_exception(api, caplog):
    rng = random.Random(0)
    names = ("question", "language", "outlet", "since", "until", "history")
    caplog.set_level(logging.ERROR)
    answered = refused = 0
    for case in range(300):
        params = {name: fuzz_param(rng, name) for name in names if name == "question" or rng.random() < 0.5}
        try:
            out = api(**params)
        except Exception as e:  # noqa: BLE001 - the failing case is the report
            pytest.fail(f"case {case}: {params!r:.400} raised {e!r}")
        assert isinstance(out, dict), (case, out)
        if "error" in out:
            assert set(out) == {"error"} and isinstance(out["error"], str) and out["error"], (case, out)
            refused += 1
        else:
            assert tuple(out) == ANSWER_KEYS, (case, params)
            json.dumps(out, allow_nan=False)
            answered += 1
    assert not caplog.records, caplog.text  # no failure hidden behind the apology
    assert answered >= 20 and refused >= 100  # both ways were exercised


# ---------------------------------------------------------------------------
# Index status and a new index while serving


def test_status_shows_counts_model_build_time_and_pending_files(pipeline, app_settings, seed_dir):
    status = text_of(chat.status_html(pipeline, app_settings))
    manifest = pipeline.index.manifest
    assert f"{manifest['counts']['articles']} articles" in status
    assert f"{manifest['counts']['chunks']} chunks" in status
    assert manifest["model"]["id"] in status and manifest["built_at"][:10] in status
    assert "up to date" in status
    shutil.copy(seed_dir / "zz-injection.txt", seed_dir / "zz-copy.txt")
    (seed_dir / "zz-injection.txt").write_text(INJECTION + "\nOne more line.\n", encoding="utf-8")
    status = text_of(chat.status_html(pipeline, app_settings))
    assert "1 new, 1 changed file(s)" in status and "Update index" in status


def test_a_new_build_is_served_from_the_next_question(pipeline, app_settings, seed_dir, fake_embedder):
    before = pipeline.index.build_id
    (seed_dir / "zz-new.txt").write_text(
        "Ferry line opens\n\nThe new ferry line between Mokpo and Jeju carries 900 passengers a day.\n",
        encoding="utf-8",
    )
    build_index(app_settings, embedder=fake_embedder)
    chat_log, _, _, _ = chat.respond(pipeline, "How many passengers does the ferry carry?", [], [], {})
    assert pipeline.index.build_id != before
    assert any("Mokpo" in a.text for a in pipeline.index.articles.values())
    assert "rag-error" not in chat_log[-1]["content"]


def test_a_damaged_new_build_is_logged_once_and_the_previous_index_served(
    pipeline, app_settings, seed_dir, fake_embedder, caplog
):
    caplog.set_level(logging.WARNING, logger="rag")
    before = pipeline.index.build_id
    (seed_dir / "zz-new.txt").write_text("Ferry line opens\n\nThe ferry carries 900 passengers.\n", "utf-8")
    build_index(app_settings, embedder=fake_embedder)
    damaged = app_settings.index_dir / "builds" / current_build(app_settings.index_dir)
    with open(damaged / "chunks.faiss", "ab") as f:
        f.write(b"damage")
    for _ in range(3):
        chat_log, _, _, _ = chat.respond(pipeline, "Who visited Seoul?", [], [], {})
        assert "rag-error" not in chat_log[-1]["content"]
    status = text_of(chat.status_html(pipeline, app_settings, reload_problem=chat._reload(pipeline)))
    assert pipeline.index.build_id == before and "New index not loaded" in status and "damaged" in status
    warned = [r.getMessage() for r in caplog.records if "could not load the new index" in r.getMessage()]
    assert len(warned) == 1 and "chunks.faiss is damaged" in warned[0]

    (seed_dir / "zz-newer.txt").write_text("Bridge opens\n\nThe bridge carries 9,000 cars.\n", "utf-8")
    build_index(app_settings, embedder=fake_embedder)  # the build changes: tried again, and served
    chat.respond(pipeline, "How many cars does the bridge carry?", [], [], {})
    assert pipeline.index.build_id not in (before, damaged.name) and pipeline.reload_problem is None
    assert any("9,000 cars" in a.text for a in pipeline.index.articles.values())
    assert len([r for r in caplog.records if "could not load the new index" in r.getMessage()]) == 1


def test_update_index_builds_and_serves_the_new_articles(pipeline, app_settings, seed_dir):
    (seed_dir / "zz-new.txt").write_text(
        "Ferry line opens\n\nThe ferry carries 900 passengers.\n", encoding="utf-8"
    )
    summary = chat.update_index(pipeline, app_settings)
    assert summary.startswith("Index updated: added 1")
    assert any("ferry" in a.text for a in pipeline.index.articles.values())


def test_prepare_index_builds_on_first_run(settings, seed_dir):
    said: list[str] = []
    chat.prepare_index(settings, say=said.append)
    assert said[0].startswith("No index in") and said[-1].startswith("Index ready")
    said.clear()
    chat.prepare_index(settings, say=said.append)  # up to date: nothing to say
    assert said == []


# ---------------------------------------------------------------------------
# The served app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(pipeline, app_settings):
    app = chat.build_app(pipeline, app_settings)
    port = free_port()
    chat.launch(app, host="127.0.0.1", port=port, block=False, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.close()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_file_routes_refuse_files_outside_the_apps_own_assets(served, app_settings):
    assert status_of(served + "/") == 200
    secrets = ["/etc/passwd", str(app_settings.index_dir / "CURRENT"), str(Path(chat.__file__).resolve())]
    for path in secrets:
        for route in ("/gradio_api/file=", "/file=", "/gradio_api/file=../../../..", "/gradio_api/file/"):
            assert status_of(served + route + path) in (403, 404), route + path
    assert status_of(served + "/gradio_api/file=../../../../../../etc/passwd") in (403, 404)


def test_api_answers_with_json(served):
    from gradio_client import Client

    client = Client(served, verbose=False)
    out = client.predict("Who visited Seoul in January 2026?", api_name="/ask")
    assert isinstance(out, dict) and "error" not in out
    bad = client.predict("", api_name="/ask")
    assert "error" in bad
    none = client.predict("Who visited Seoul?", "fr", api_name="/ask")
    assert none["error"].startswith("No indexed article matches the filters (fr). Change or clear them.")
    assert "In the index: languages de, en" in none["error"]


def test_app_port_comes_from_flag_or_environment(monkeypatch):
    import app

    monkeypatch.delenv("RAG_PORT", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    assert app.port_from_env() == 7860
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    assert app.port_from_env() == 7999
    monkeypatch.setenv("RAG_PORT", "8123")
    assert app.port_from_env() == 8123
    monkeypatch.setenv("RAG_PORT", "eighty")
    with pytest.raises(QuestionError.__mro__[1], match="RAG_PORT"):
        app.port_from_env()
    args = app.parse_args([])
    assert (args.host, args.port, args.share) == ("127.0.0.1", None, False)


def test_a_quote_is_wrapped_in_quotation_marks_unless_it_is_one_from_end_to_end():
    assert chat.quoted("He left.", "He left.") == "“He left.”"
    ends = "It aims to be a “global pivotal state.”"
    assert chat.quoted(ends, ends) == f"“{ends}”"  # an opening mark is never missing
    whole = "“We will not give up.”"
    assert chat.quoted(whole, whole) == whole


def test_gradio_sweeps_its_temporary_uploads(fake_seed_index):
    """Uploads wait in Gradio's temporary folder before the panel checks them: swept hourly."""
    from rag.index.embed import FakeEmbedder
    from rag.query.pipeline import Pipeline
    from rag.query.reader import FakeReader

    pipeline = Pipeline.from_settings(fake_seed_index, embedder=FakeEmbedder(), reader=FakeReader())
    app = chat.build_app(pipeline, fake_seed_index)
    assert app.delete_cache == chat.UPLOAD_CACHE_CLEANUP == (600, 3600)
