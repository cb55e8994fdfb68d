"""The chat in a real browser: headless Chromium (Debian's, never downloaded) drives the app
served in-process on a free port, with the real multilingual model over the seed articles
plus an article carrying script and HTML.

Each step saves a screenshot to ``test-artifacts/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR, Settings

from .conftest import INJECTION

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_DIR / "test-artifacts"
ANSWER_TIMEOUT_MS = 120_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on the seed articles + the injection article, real model, on 127.0.0.1."""
    from rag.index.indexer import build_index
    from rag.present import chat
    from rag.query.pipeline import Pipeline

    tmp = tmp_path_factory.mktemp("browser")
    articles = tmp / "articles"
    shutil.copytree(PROJECT_DIR / "articles", articles)
    (articles / "zz-injection.txt").write_text(INJECTION, encoding="utf-8")
    settings = Settings(articles_dir=articles, index_dir=tmp / "index")
    build_index(settings)
    pipeline = Pipeline.from_settings(settings)
    app = chat.build_app(pipeline, settings)
    port = free_port()
    chat.launch(app, host="127.0.0.1", port=port, block=False, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}", pipeline
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, served):
    url, _ = served
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    p = context.new_page()
    p.goto(url)
    p.wait_for_selector("#rag-question textarea", timeout=60_000)
    p.wait_for_function("document.querySelector('#rag-status') && /articles/.test(document.body.innerText)")
    yield p
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def ask(page, question: str):
    """Type a question, press Ask, wait for the reply; returns the reply's element."""
    bots = page.locator("[data-testid=bot]")
    before = bots.count()
    page.fill("#rag-question textarea", question)
    page.click("#rag-ask")
    page.wait_for_function(
        f"document.querySelectorAll('[data-testid=bot]').length > {before}", timeout=ANSWER_TIMEOUT_MS
    )
    page.wait_for_timeout(300)  # the sources panel is updated by the same event
    return bots.nth(before)


def article_of(pipeline, card) -> str:
    return pipeline.index.articles[card.get_attribute("data-article")].text


def test_answer_with_citation_highlighted_quote_and_whole_article(page, served):
    _, pipeline = served
    shot(page, "01-start")
    reply = ask(page, "Who visited Seoul in January 2026?")
    text = reply.inner_text()
    assert "Meloni" in text and "[1]" in text
    assert reply.locator("mark.rag-short").count() >= 1
    shot(page, "02-answer")

    card = page.locator("#rag-sources article.rag-card").first
    quote = card.locator(".rag-passage mark.rag-quote").first
    assert quote.is_visible()
    quote_text = quote.inner_text().strip()
    article_text = article_of(pipeline, card)
    assert quote_text and quote_text in article_text and quote_text in text

    card.locator("details.rag-full summary").click()
    whole = card.locator(".rag-article")
    mark = whole.locator("mark.rag-quote").first
    mark.wait_for(state="visible")
    shot(page, "03-whole-article")
    # The mark sits where the quote is in the article: the text before it is the article's prefix.
    prefix = mark.evaluate(
        """m => { const r = document.createRange(); const box = m.closest('.rag-article');
                  r.setStart(box, 0); r.setEndBefore(m); return r.toString(); }"""
    )
    assert article_text.startswith(prefix)
    assert article_text[len(prefix) :].startswith(mark.text_content())
    assert whole.text_content() == article_text
    # ... and the box is scrolled so that the mark is in view.
    box, at = whole.bounding_box(), mark.bounding_box()
    assert box["y"] <= at["y"] and at["y"] + at["height"] <= box["y"] + box["height"] + 1


def test_follow_up_question_uses_the_conversation(page):
    first = ask(page, "Who visited Seoul in January 2026?")
    assert "Meloni" in first.inner_text()
    follow = ask(page, "When did she arrive?")
    shot(page, "04-follow-up")
    text = follow.inner_text()
    assert "The articles don't say" not in text
    assert "arrived" in text and "Saturday" in text


def test_question_the_articles_do_not_answer(page):
    reply = ask(page, "What is the boiling point of mercury?")
    shot(page, "05-not-in-articles")
    assert reply.inner_text().startswith("The articles don't say.")


def test_script_in_an_article_is_shown_as_text_and_never_runs(page, served):
    _, pipeline = served
    reply = ask(page, "How many visitors did the Busan harbour festival draw on its opening night?")
    text = reply.inner_text()
    assert "41,000" in text
    card = page.locator("#rag-sources article.rag-card").first
    assert "Harbour festival" in card.inner_text()
    card.locator("details.rag-full summary").click()
    page.wait_for_timeout(300)
    shot(page, "06-injection-inert")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    shown = page.locator("body").inner_text()
    assert "<script>window.__pwned=1</script>" in shown  # the title, as text
    assert '<img src=x onerror="window.__pwned=1">' in shown  # the sentence, as text
    assert "{{ value }} and ${1+1}" in shown
    assert page.locator("img[src=x], #rag-sources script, #rag-chat script").count() == 0
    # A question carrying markup is shown as typed, too.
    ask(page, '<img src=x onerror="window.__pwned=1"> <b>bold</b>?')
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert '<img src=x onerror="window.__pwned=1"> <b>bold</b>?' in page.locator("#rag-chat").inner_text()


def test_empty_question_gets_a_friendly_message(page):
    reply = ask(page, "   ")
    assert reply.locator(".rag-error").count() == 1
    assert "Traceback" not in reply.inner_text()
    assert ask(page, "Who visited Seoul in January 2026?").locator("sup.rag-cite").count() >= 1


@pytest.mark.parametrize(
    ("index", "expected"),
    [(0, ("Meloni",)), (1, ("drei",)), (2, ("19 years", "two decades"))],
    ids=["english", "german", "korean"],
)
def test_example_questions_get_cited_answers(page, index, expected):
    page.locator("#rag-chat button.example").nth(index).click()
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=bot]').length > 0", timeout=ANSWER_TIMEOUT_MS
    )
    page.wait_for_timeout(300)
    reply = page.locator("[data-testid=bot]").last
    shot(page, f"07-example-{index}")
    assert any(e in reply.inner_text() for e in expected)
    assert reply.locator("sup.rag-cite").count() >= 1
    assert page.locator("#rag-sources mark.rag-quote").count() >= 1


def test_language_filter_restricts_the_sources(page):
    """Unfiltered, the German question is answered from the German article; with the English
    filter every source shown (answer or closest passages) is an English article."""
    reply = ask(page, "Wie viele Absichtserklärungen wurden unterzeichnet?")
    assert "drei" in reply.inner_text()
    page.click("#rag-filters button.label-wrap")
    page.locator("#rag-language input").click()
    page.get_by_role("option", name=re.compile(r"^English")).click()
    reply = ask(page, "Wie viele Absichtserklärungen wurden unterzeichnet?")
    shot(page, "08-filter-english")
    assert "drei" not in reply.inner_text()
    metas = page.locator("#rag-sources .rag-meta").all_inner_texts()
    assert metas and all("English" in m for m in metas)
