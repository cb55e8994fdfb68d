"""Metadata of articles in other layouts than the seed articles (``tests/pages``: wire story, blog
posts, news pages with a cookie banner, captions and related links, a feed), the stand-in title
and "unknown" values of the terminal rendering, and the filter flags of ``rag ask``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.cli import build_parser, main
from rag.config import Settings
from rag.index.ingest import load_source, scan_folder
from rag.present.render import format_answer, shown_title
from rag.query.answer import cite
from rag.types import Answer, AnswerSentence, Article

PAGES = Path(__file__).parent / "pages"

# location -> (title, title_kind, published, precision, byline, outlet)
EXPECTED = {
    "wire-factory-orders.txt": (
        "German factory orders fall for a third month",
        "headline",
        "2025-03-03",
        "day",
        "Anna Keller",
        "Reuters",
    ),
    "blog-night-bus.md": ("Why our town needs a night bus", "headline", "2025-03-03", "day", None, None),
    "blog-library-hours.html": (
        "The library should open on Sundays",
        "headline",
        "2025-04-07",
        "day",
        None,
        None,
    ),
    "news-port-cranes.html": (
        "Busan port orders electric cranes to cut emissions",
        "headline",
        "2026-01-20",
        "day",
        "Kim Ha-neul",
        "Korea Times",
    ),
    "copied-page-harbor-cranes.txt": (
        "Busan terminal swaps diesel cranes for electric ones",
        "headline",
        "2026-01-20",
        "day",
        "Kim Ha-neul",
        "The Harbor Ledger",
    ),
    "ko-wire-semiconductor.txt": (
        "반도체 수출 석 달 연속 증가",
        "headline",
        "2026-01-20",
        "day",
        "김하늘",
        "Yonhap News Agency",
    ),
    "2025-12-feed.jsonl#L1": (
        "Rail strike called off after late-night talks",
        "headline",
        "2026-02",
        "month",
        None,
        "Reuters",
    ),
    "2025-12-feed.jsonl#L2": (
        "City opens first heat shelter for summer",
        "headline",
        "2025-06-30",
        "day",
        None,
        None,
    ),
    "2025-12-feed.jsonl#L3": ("Harbour ferry timetable changes", "headline", None, None, None, None),
}


@pytest.fixture(scope="module")
def pages() -> dict[str, Article]:
    files, errors = scan_folder(PAGES)
    assert errors == []
    out: dict[str, Article] = {}
    for src in files:
        articles, problems = load_source(src)
        assert problems == [], src.relpath
        out.update((a.location, a) for a in articles)
    return out


def test_every_page_is_read(pages):
    assert set(pages) == set(EXPECTED)  # README.md at the folder's root is not an article


@pytest.mark.parametrize("location", sorted(EXPECTED))
def test_metadata_of_each_page(pages, location):
    a = pages[location]
    got = (a.title, a.title_kind, a.published, a.published_precision, a.byline, a.source)
    assert got == EXPECTED[location]


def test_the_title_is_in_the_text_where_the_page_has_one(pages):
    for location, a in pages.items():
        if not location.endswith(".jsonl", 0, location.find("#") if "#" in location else None):
            assert a.title in a.text, location


def test_photo_credits_and_cited_agencies_are_not_the_outlet(pages):
    for name in ("news-port-cranes.html", "copied-page-harbor-cranes.txt"):
        assert "Yonhap" in (PAGES / name).read_text(encoding="utf-8")  # credited and cited, ...
        assert pages[name].source != "Yonhap News Agency"  # ... yet not the outlet


def test_a_cookie_notice_or_a_section_label_is_not_the_title(pages):
    a = pages["copied-page-harbor-cranes.txt"]
    assert "cookie" not in a.title.lower() and a.title != "Business"


def test_a_page_without_a_headline_gets_a_marked_stand_in_and_the_date_of_its_name(tmp_path):
    text = (PAGES / "wire-factory-orders.txt").read_text(encoding="utf-8").split("\n", 1)[1]  # headline cut
    body = text.replace("March 3, 2025 10:14 AM GMT+1", "").replace("BERLIN, March 3 (Reuters) - ", "")
    path = tmp_path / "2025-03-factory-orders.txt"
    path.write_text(body, encoding="utf-8")
    (src,), _ = scan_folder(tmp_path)
    (a,), _ = load_source(src)
    assert a.title_kind == "lead" and a.title.startswith("German industrial orders fell")
    assert (a.published, a.published_precision) == ("2025-03", "month")
    assert a.source is None and a.byline == "Anna Keller"


# ------------------------------------------------------------------ the terminal rendering


def _answer_from(article: Article) -> Answer:
    start = article.text.index("\n") + 1  # the second line
    c = cite(article, start, len(article.text))
    return Answer(question="q", sentences=(AnswerSentence(c.quote, c),), confidence=0.8)


def test_rendering_marks_stand_in_titles_and_unknown_outlet_and_date():
    text = "Heavy rain caused rivers to burst their banks on Monday.\nThousands of people left their homes."
    lead = Article("a", "rain.txt", "Heavy rain caused rivers to burst their banks on Monday.", text, "en",
                   title_kind="lead")  # fmt: skip
    out = " ".join(format_answer(_answer_from(lead)).split())  # lines wrapped at 100 characters
    assert (
        "[1] “Heavy rain caused rivers to burst their banks on Monday.” (no headline) — "
        "outlet unknown, date unknown, rain.txt, chars" in out
    )
    named = Article("b", "notes.txt", "Notes", text, "en", title_kind="file", published="2026", source="AJP")
    assert "[1] notes.txt (file name) — AJP, 2026, notes.txt" in " ".join(
        format_answer(_answer_from(named)).split()
    )
    assert shown_title("Rivers rise", "headline") == "Rivers rise"
    assert shown_title("", "lead") == "(untitled)"


# ------------------------------------------------------------------ rag ask filter flags


def test_ask_parses_outlet_and_include_undated():
    args = build_parser().parse_args(
        ["ask", "q", "--outlet", "unknown", "--since", "2026", "--include-undated"]
    )
    assert (args.source, args.since, args.include_undated) == ("unknown", "2026", True)
    args = build_parser().parse_args(["ask", "q", "--source", "AJP"])
    assert (args.source, args.include_undated) == ("AJP", False)


def test_since_help_says_what_happens_to_undated_articles(capsys):
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "articles without a date are left out unless --include-undated" in out
    assert "'unknown': the articles that name none" in out


def test_ask_with_unknown_outlet_and_undated_articles(capsys, tmp_path, seed_dir, no_real_reader):
    (seed_dir / "undated-note.txt").write_text(
        "Meloni visited Seoul for a summit on trade and semiconductors with President Lee.", encoding="utf-8"
    )
    settings = Settings(
        articles_dir=seed_dir, index_dir=tmp_path / "ix", cache_dir=tmp_path / "c", model="fake"
    )
    common = ["--index", str(settings.index_dir), "--model", "fake"]
    assert main(["index", str(seed_dir), *common, "--no-progress"]) == 0
    capsys.readouterr()

    def ask(*flags: str) -> tuple[int, str, str]:
        code = main(["ask", "Who visited Seoul?", "--json", *flags, *common])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = ask("--outlet", "unknown")
    assert code == 0
    answer = json.loads(out)
    cited = [s["citation"] for s in answer["sentences"]] + answer["closest"]
    assert cited and {c["outlet"] for c in cited} == {None}
    code, _, err = ask("--since", "2030")
    assert (
        code == 2
        and "without a date (a date filter leaves it out unless undated articles are included)" in err
    )
    assert "unknown (" in err
    code, out, _ = ask("--since", "2030", "--include-undated")
    assert code == 0
    answer = json.loads(out)
    assert answer["hits"] and len({h["article_id"] for h in answer["hits"]}) == 1  # the undated note


def test_the_pages_folder_can_be_indexed_as_a_whole(tmp_path, fake_embedder):
    from rag.index.indexer import build_index
    from rag.index.store import Index

    articles = tmp_path / "articles"
    shutil.copytree(PAGES, articles)
    settings = Settings(
        articles_dir=articles, index_dir=tmp_path / "ix", cache_dir=tmp_path / "c", model="fake"
    )
    build_index(settings, embedder=fake_embedder)
    stored = {a.location: a for a in Index.open(settings.index_dir).articles.values()}
    for location, (title, kind, published, _p, _b, outlet) in EXPECTED.items():
        assert (stored[location].title, stored[location].title_kind) == (title, kind)
        assert (stored[location].published, stored[location].source) == (published, outlet)
