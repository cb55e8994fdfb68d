"""The chat in a real browser: headless Chromium (Debian's, never downloaded) drives the app
served in-process on a free port, with the real multilingual model over the seed articles
plus an article carrying script and HTML and a feed article with a URL.

Each step saves a screenshot to ``test-artifacts/`` (git-ignored) for a person to look at. The
issue 24 tests (citations, headline answer, input and layout, metadata, furniture, feedback) run
at a laptop's 1366x900 and a phone's 390x844.
"""

from __future__ import annotations

import json
import re
import shutil
import socket

import pytest

from rag.config import PROJECT_DIR, Settings

from .conftest import INJECTION

pytestmark = pytest.mark.browser

ARTIFACTS = PROJECT_DIR / "test-artifacts"
ANSWER_TIMEOUT_MS = 120_000
VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}

# A feed article with its URL (the source card links to it) and a photo caption with its credit.
FEED = {
    "title": "Gangneung opens a curling centre",
    "url": "https://example.org/2025/03/03/gangneung-curling",
    "published": "2025-03-03",
    "source": "Example Wire",
    "language": "en",
    "text": "The city of Gangneung opened a new curling centre with six sheets of ice on Monday.\n"
    "Mayor Kim Hong-gyu said the centre would host the national curling championship in April.\n",
}
CURLING = "How many sheets of ice does the new curling centre in Gangneung have?"


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
    (articles / "zz-feed.jsonl").write_text(json.dumps(FEED) + "\n", encoding="utf-8")
    settings = Settings(articles_dir=articles, index_dir=tmp / "index")
    build_index(settings)
    pipeline = Pipeline.from_settings(settings)
    app = chat.build_app(pipeline, settings)
    port = free_port()
    chat.launch(app, host="127.0.0.1", port=port, block=False, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}", pipeline, settings
    finally:
        app.close()


def open_page(browser, url: str, size: tuple[int, int]):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    p = context.new_page()
    p.goto(url)
    p.wait_for_selector("#rag-question textarea", timeout=60_000)
    p.wait_for_function("document.querySelector('#rag-status') && /articles/.test(document.body.innerText)")
    return context, p


@pytest.fixture
def page(browser, served):
    context, p = open_page(browser, served[0], VIEWPORTS["desktop"])
    yield p
    context.close()


@pytest.fixture(params=sorted(VIEWPORTS))
def view(request, browser, served):
    """A page at each width: (page, "desktop" or "phone")."""
    context, p = open_page(browser, served[0], VIEWPORTS[request.param])
    yield p, request.param
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
    _, pipeline, _ = served
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


SELF_CONTAINED = (
    "What is the population of Seoul?",
    "Wie viele Absichtserklärungen wurden unterzeichnet?",
    "이탈리아 총리가 한국을 공식 방문한 것은 몇 년 만인가요?",
)


def test_a_question_that_names_its_own_subject_is_read_on_its_own(browser, served):
    """Issue 24 point 3: after three other questions, a self-contained question (English, German,
    Korean) gets the reply it gets in a fresh chat, to the confidence shown."""
    fresh = {}
    for question in SELF_CONTAINED:
        context, p = open_page(browser, served[0], VIEWPORTS["desktop"])
        fresh[question] = ask(p, question).inner_text()
        context.close()
    context, p = open_page(browser, served[0], VIEWPORTS["desktop"])
    for earlier in ("Who visited Seoul in January 2026?", "When did she arrive?", "What did Meloni say?"):
        ask(p, earlier)
    for question in SELF_CONTAINED:
        assert ask(p, question).inner_text() == fresh[question], question
    shot(p, "21-self-contained-after-others")
    context.close()


def test_question_the_articles_do_not_answer(page):
    reply = ask(page, "What is the boiling point of mercury?")
    shot(page, "05-not-in-articles")
    assert reply.inner_text().startswith("The articles don't say.")


def test_script_in_an_article_is_shown_as_text_and_never_runs(page, served):
    _, pipeline, _ = served
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


def test_empty_question_gets_a_brief_notice_not_a_chat_bubble(page):
    """Changed by issue 24 (was: an error bubble in the chat): Ask is disabled while the box is
    empty, Enter on it gives a brief notice, and the example questions stay."""
    assert page.locator("#rag-ask").is_disabled()
    page.fill("#rag-question textarea", "   ")
    assert page.locator("#rag-ask").is_disabled()
    page.press("#rag-question textarea", "Enter")
    notice = page.locator(".toast-body.warning").first
    notice.wait_for(state="visible")
    assert "Type a question first." in notice.inner_text() and "Traceback" not in notice.inner_text()
    shot(page, "09-empty-question-notice")
    assert page.locator("[data-testid=bot], [data-testid=user]").count() == 0
    assert page.locator("#rag-chat button.example").count() == 3
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


# ---------------------------------------------------------------------------
# Issue 24: citations, headline answer, input and layout, metadata, furniture, feedback

MOUS = "How many MOUs were signed?"

# Whether an element's top is inside the window and inside every scrolling box around it.
IN_VIEW = """el => {
  const r = el.getBoundingClientRect();
  if (r.top < -1 || r.top > window.innerHeight - 20) return false;
  for (let p = el.parentElement; p; p = p.parentElement) {
    const s = getComputedStyle(p);
    if (/(auto|scroll)/.test(s.overflowY) && p.scrollHeight > p.clientHeight) {
      const b = p.getBoundingClientRect();
      if (r.top < b.top - 1 || r.top > b.bottom - 20) return false;
    }
  }
  return true;
}"""


def wait_in_view(page, selector: str) -> None:
    page.wait_for_function(
        f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
        f" return !!el && ({IN_VIEW})(el); }})()",
        timeout=10_000,
    )


def notice(page, kind: str = "warning") -> str:
    """The text of the first toast of ``kind`` (waits for it)."""
    toast = page.locator(f".toast-body.{kind}").first
    toast.wait_for(state="visible")
    return toast.inner_text()


def sources_label(page) -> str:
    """The label of the sources panel's fold ("Sources (3)"), without its arrow."""
    return page.locator("#rag-sources-box button.label-wrap").inner_text().strip().splitlines()[0].strip()


def cards(page, pipeline) -> list[tuple]:
    """(card locator, Article) for each source card shown."""
    shown = page.locator("#rag-sources article.rag-card")
    return [
        (shown.nth(i), pipeline.index.articles[shown.nth(i).get_attribute("data-article")])
        for i in range(shown.count())
    ]


def test_citation_marker_scrolls_to_and_highlights_its_source_card(view):
    page, name = view
    first = ask(page, MOUS)
    markers = first.locator("a.rag-cite-link")
    assert markers.count() >= 2
    n = markers.last.inner_text().strip("[]")
    assert markers.last.get_attribute("href") == f"#rag-src-{n}"
    markers.last.click()
    page.wait_for_function(f"!!document.querySelector('#rag-sources #rag-src-{n}.rag-flash')")
    wait_in_view(page, f"#rag-sources #rag-src-{n}")
    assert page.locator("#rag-sources .rag-card.rag-flash").count() == 1
    assert re.fullmatch(r"Sources \(\d+\)", sources_label(page))
    shot(page, f"10-citation-click-{name}")
    # A marker of an earlier answer shows that answer's sources, not the last answer's.
    key = first.locator(".rag-answer").get_attribute("id").removeprefix("rag-answer-")
    ask(page, CURLING)
    assert page.locator("#rag-sources .rag-sources").get_attribute("data-answer") != key
    first.locator("a.rag-cite-link").first.click()
    page.wait_for_function(
        f"!!document.querySelector('#rag-sources .rag-sources[data-answer=\"{key}\"] #rag-src-1.rag-flash')"
    )
    wait_in_view(page, "#rag-sources #rag-src-1")


def test_source_card_links_to_the_original_article(page, served):
    _, pipeline, _ = served
    reply = ask(page, CURLING)
    assert "six" in reply.inner_text()
    card = next(c for c, a in cards(page, pipeline) if a.url == FEED["url"])
    link = card.locator("a.rag-original")
    assert link.get_attribute("href") == FEED["url"] and link.get_attribute("target") == "_blank"
    assert {"noopener", "noreferrer"} <= set(link.get_attribute("rel").split())
    assert "Example Wire" in card.locator(".rag-meta").inner_text()
    shot(page, "11-link-to-original")


def test_copy_button_copies_plain_text_one_line_per_quote(view, served):
    page, name = view
    _, pipeline, _ = served
    reply = ask(page, MOUS)
    reply.hover()
    page.get_by_role("button", name="Copy message").last.click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "<" not in copied and "&" not in copied and copied.strip()
    lines = copied.split("\n")
    line = re.compile(r'"(.+)" — (.+), (.+) \[(.+)\]')
    parsed = [line.fullmatch(x) for x in lines]
    assert all(parsed), lines
    shown = {a.location: a for _, a in cards(page, pipeline)}
    for m in parsed:
        quote, outlet, date, where = m.groups()
        article = shown[where]
        assert quote in " ".join(article.text.split())
        assert outlet == (article.source or "unknown")
        assert date == (chat_module().nice_date(article.published) or "unknown")
    assert len(lines) == reply.locator("blockquote.rag-said, .rag-also li").count()


def chat_module():
    from rag.present import chat

    return chat


def test_messages_have_readable_accessible_names(view):
    page, _ = view
    reply = ask(page, MOUS)
    page.wait_for_function(
        "document.querySelector('[data-testid=bot]').getAttribute('aria-label').startsWith('Answer')"
    )
    label = reply.get_attribute("aria-label")
    assert label.startswith("Answer: ") and "<" not in label and "&" not in label and len(label) < 300
    assert "confidence" in label
    user = page.locator("[data-testid=user]").first.get_attribute("aria-label")
    assert user == f"Your question: {MOUS}"
    assert "<div" not in page.locator("#rag-chat").aria_snapshot()


def test_headline_answer_when_confident_and_low_confidence_in_words(view):
    page, name = view
    reply = ask(page, MOUS)
    headline = reply.locator(".rag-headline")
    assert headline.inner_text().startswith("Answer: ")
    short = headline.locator("strong").inner_text()
    assert short and short in reply.locator("mark.rag-short").first.inner_text()
    assert headline.bounding_box()["y"] < reply.locator("blockquote.rag-said").first.bounding_box()["y"]
    low = ask(page, "What is the boiling point of mercury?")
    text = low.inner_text()
    assert text.startswith("The articles don't say.") and low.locator(".rag-headline").count() == 0
    assert "Not sure: the closest the articles come is" in text and "too low to answer" in text
    shot(page, f"12-headline-and-not-sure-{name}")


def test_ask_is_disabled_while_empty_or_answering_and_sends_once(view):
    page, name = view
    ask_button = page.locator("#rag-ask")
    assert ask_button.is_disabled()
    page.fill("#rag-question textarea", "Who visited Seoul in January 2026?")
    page.wait_for_function("!document.querySelector('#rag-ask').disabled")
    ask_button.dblclick()
    page.wait_for_function("document.querySelector('#rag-ask').disabled")
    page.press("#rag-question textarea", "Enter")  # the box is empty again: a notice at most
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=bot]').length > 0", timeout=ANSWER_TIMEOUT_MS
    )
    page.wait_for_timeout(500)
    assert page.locator("[data-testid=user]").count() == 1
    assert page.locator("[data-testid=bot]").count() == 1
    assert page.locator(".rag-error").count() == 0
    assert ask_button.is_disabled()  # the box is empty
    shot(page, f"13-sent-once-{name}")


def test_a_bad_date_in_the_filter_gets_a_message(view):
    page, name = view
    page.click("#rag-filters button.label-wrap")
    assert "undated" in page.locator("#rag-undated").inner_text()
    since = page.locator("#rag-since input").first
    since.fill("2026-13-45")
    since.press("Enter")
    assert "is not a date like 2026-01-19" in notice(page)
    assert "check the dates" in page.locator("#rag-filters button.label-wrap").inner_text()
    shot(page, f"14-bad-date-{name}")
    page.fill("#rag-question textarea", "Who visited Seoul?")
    page.click("#rag-ask")
    page.wait_for_function("document.querySelectorAll('.toast-body.warning .toast-message-item').length >= 2")
    assert page.locator("[data-testid=bot], [data-testid=user]").count() == 0


def test_phone_layout_header_status_focus_and_sources_under_the_answer(browser, served):
    context, page = open_page(browser, served[0], VIEWPORTS["phone"])
    try:
        page.wait_for_timeout(500)
        shot(page, "15-phone-start")
        assert page.evaluate("window.scrollY") == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"][0]
        h1 = page.locator(".rag-header h1")
        assert h1.inner_text() == "rag-news"
        assert h1.evaluate(
            "h => h.getBoundingClientRect().height < parseFloat(getComputedStyle(h).fontSize) * 1.8"
        )
        head, status = page.locator("#rag-head").bounding_box(), page.locator("#rag-status").bounding_box()
        assert status["y"] >= head["y"] + head["height"] - 1  # stacked, not side by side
        assert page.locator(".rag-status").evaluate("s => s.scrollWidth <= s.clientWidth + 1")
        assert status["x"] + status["width"] <= VIEWPORTS["phone"][0]
        page.focus("#rag-question textarea")
        assert h1.evaluate("h => h.getBoundingClientRect().top >= 0")
        reply = ask(page, MOUS)
        n = reply.locator("a.rag-cite-link").count()
        chat_box, sources = (
            page.locator("#rag-chat").bounding_box(),
            page.locator("#rag-sources-box").bounding_box(),
        )
        assert 0 <= sources["y"] - (chat_box["y"] + chat_box["height"]) < 40  # right under the answer
        toggle = page.locator("#rag-sources-box button.label-wrap")
        assert sources_label(page) == f"Sources ({n})"
        shot(page, "16-phone-answer")
        toggle.click()
        page.locator("#rag-sources article.rag-card").first.wait_for(state="visible")
        shot(page, "17-phone-sources-open")
    finally:
        context.close()


def test_stand_in_titles_unknown_values_and_dates_by_precision(view, served):
    page, name = view
    _, pipeline, _ = served
    chat = chat_module()
    reply = ask(page, MOUS)
    shown = cards(page, pipeline)
    assert any(a.title_kind != "headline" for _, a in shown) and any(not a.source for _, a in shown)
    for card, article in shown:
        title = card.locator(".rag-title").inner_text()
        meta = card.locator(".rag-meta").inner_text()
        if article.title_kind == "headline":
            assert title == article.title and card.locator(".rag-standin").count() == 0
        else:
            note = {"lead": "(no headline)", "file": "(file name)"}[article.title_kind]
            assert title.endswith(note) and card.locator(".rag-standin").count() == 1
        assert (article.source or "outlet unknown") in meta
        assert (chat.nice_date(article.published) or "date unknown") in meta
    also = reply.locator(".rag-also li")
    for i in range(also.count()):
        assert "(no headline)" in also.nth(i).inner_text() or also.nth(i).locator(".rag-standin").count() == 0
    shot(page, f"18-metadata-{name}")
    page.click("#rag-filters button.label-wrap")
    page.locator("#rag-outlet input").click()
    unnamed = sum(1 for a in pipeline.index.articles.values() if not a.source)
    page.get_by_role("option", name=f"outlet unknown ({unnamed})").click()
    reply = ask(page, MOUS)
    assert all(not a.source for _, a in cards(page, pipeline))


def test_furniture_is_shown_marked_in_the_whole_article_never_as_a_quote(view, served):
    page, name = view
    _, pipeline, _ = served
    ask(page, MOUS)
    if name == "phone":
        page.locator("#rag-sources-box button.label-wrap").click()
    card, article = next((c, a) for c, a in cards(page, pipeline) if a.furniture)
    card.locator("details.rag-full summary").click()
    whole = card.locator(".rag-article")
    whole.wait_for(state="visible")
    pieces = whole.locator(".rag-furniture")
    assert pieces.count() == len(article.furniture)
    names = {"caption": "photo caption", "credit": "credit", "byline": "byline", "dateline": "dateline"}
    for i, (start, end, role) in enumerate(sorted(article.furniture)):
        piece = pieces.nth(i)
        assert piece.text_content() == article.text[start:end]
        assert piece.get_attribute("data-role") == names.get(role, "related articles")
        assert piece.locator("mark").count() == 0  # never a quote
    assert whole.text_content() == article.text
    assert page.locator("#rag-chat .rag-furniture").count() == 0
    pieces.first.scroll_into_view_if_needed()
    shot(page, f"19-furniture-{name}")


def test_thumbs_up_and_down_are_saved_as_feedback(page, served):
    _, _, settings = served
    before = settings.feedback_file.read_text().splitlines() if settings.feedback_file.exists() else []
    reply = ask(page, MOUS)
    reply.hover()
    page.get_by_role("button", name="Like").last.click()
    assert "Thanks" in notice(page, "info")
    page.get_by_role("button", name="Dislike").last.click()
    page.wait_for_function("document.querySelectorAll('.toast-body.info .toast-message-item').length >= 2")
    shot(page, "20-feedback")
    lines = [json.loads(x) for x in settings.feedback_file.read_text().splitlines()[len(before) :]]
    assert [x["verdict"] for x in lines] == ["up", "down"]
    assert all(x["question"] == MOUS and x["answer"]["sentences"] for x in lines)
