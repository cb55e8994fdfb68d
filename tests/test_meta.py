"""rag.index.meta: title, publication date, byline and outlet from the article's own text."""

from __future__ import annotations

import pytest

import rag.index.meta as meta
from rag.config import PROJECT_DIR
from rag.index.clean import clean_text
from rag.index.meta import (
    date_from_filename,
    date_from_url,
    extract_metadata,
    find_byline,
    find_published,
    parse_date,
    parse_partial_date,
    site_outlet,
    title_from_filename,
    url_outlet,
)
from rag.types import Article

ARTICLES = PROJECT_DIR / "articles"


def meta_of(name: str, as_name: str | None = None) -> dict:
    raw = (ARTICLES / name).read_text(encoding="utf-8")
    return extract_metadata(raw, clean_text(raw), as_name or name)


# (file, title, title_kind, published, precision, byline, source): what each text, and failing
# that its file name, supports (the file name is never evidence of the outlet).
SEED_META = [
    # 000: the text names no date ("on Wednesday"); the file name gives the year.
    (
        "korea-herald-2023-yoon-mattarella-summit.txt",
        "S. Korea, Italy agree to boost future-oriented cooperation",
        "headline",
        "2023",
        "year",
        "Choi Si-young",
        "Korea Herald",  # from the heraldcorp.com e-mail of the byline, not from the file name
    ),
    # 001: the text has months without days or years; the file name gives January 2026.
    (
        "2026-01-lee-meloni-industrial-cooperation.txt",
        "Korea, Italy Agree to Deepen Industrial, Strategic Cooperation",
        "headline",
        "2026-01",
        "month",
        None,
        None,
    ),
    # 002: "date 2026-01-19", no headline; Yonhap is cited ("the Seoul-based Yonhap News
    # reported"), not the outlet, and "yonhap" in the file name is not evidence either.
    (
        "2026-01-19-yonhap-lee-meloni-trade.txt",
        "South Korean President Lee Jae Myung and Italian Prime Minister Giorgia Meloni on Monday agreed to…",
        "lead",
        "2026-01-19",
        "day",
        None,
        None,
    ),
    # 003: "Am 19. Januar 2026 trafen sich ...", no headline: the first sentence, shortened.
    (
        "2026-01-19-gipfeltreffen-lee-meloni.de.txt",
        "Am 19. Januar 2026 trafen sich Präsident Lee Jae-myung und die italienische Premierministerin…",
        "lead",
        "2026-01-19",
        "day",
        None,
        None,
    ),
    # 004: "Posted : January 19, 2026" and the "SEOUL, January 19 (AJP)" dateline; the photo
    # caption's "YONHAP" credit is not the outlet.
    (
        "2026-01-19-ajp-lee-meloni-mous.txt",
        "S. Korea, Italy agree to boost cooperation on AI and semiconductors",
        "headline",
        "2026-01-19",
        "day",
        "Park Sae-jin",
        "AJP",
    ),
]
KEYS = {"title", "title_kind", "published", "byline", "source"}


@pytest.mark.parametrize("name, title, kind, published, precision, byline, source", SEED_META)
def test_metadata_of_each_seed(name, title, kind, published, precision, byline, source):
    got = meta_of(name)
    assert got == {
        "title": title,
        "title_kind": kind,
        "published": published,
        "byline": byline,
        "source": source,
    }
    assert (
        Article("x", name, got["title"], "", "en", published=got["published"]).published_precision
        == precision
    )


def test_seed_files_renamed_keep_what_their_texts_say():
    """The same texts under names that carry no date or outlet: only the file-name dates go."""
    got = {name: meta_of(name, as_name="article.txt") for name, *_ in SEED_META}
    assert got["korea-herald-2023-yoon-mattarella-summit.txt"]["published"] is None
    assert got["2026-01-lee-meloni-industrial-cooperation.txt"]["published"] is None
    assert got["2026-01-19-yonhap-lee-meloni-trade.txt"]["published"] == "2026-01-19"
    assert [g["source"] for g in got.values()] == [s[-1] for s in SEED_META]


def test_photo_credit_is_not_taken_as_the_outlet():
    raw = (
        "Leaders meet in Seoul\n\nThe two presidents talk in Seoul on Wednesday. (Yonhap)\n"
        "The two presidents met on Wednesday to discuss trade."
    )
    assert extract_metadata(raw, clean_text(raw), "x.txt")["source"] is None


def test_cited_news_agency_is_not_taken_as_the_outlet():
    raw = "The talks ended without a deal, the Seoul-based Yonhap News reported, citing officials."
    assert extract_metadata(raw, clean_text(raw), "x.txt")["source"] is None


@pytest.mark.parametrize(
    "raw, outlet",
    [
        ("BERLIN (Reuters) - Germany's economy shrank in the fourth quarter.", "Reuters"),
        ("WASHINGTON, Jan. 5, 2026 (AP) — Congress passed the bill on Monday.", "Associated Press"),
        ("(서울=연합뉴스) 홍길동 기자 = 두 정상은 반도체 협력을 강화하기로 합의했다.", "Yonhap News Agency"),
        ("The talks ended.\nBy Jane Doe (jane.doe@koreatimes.co.kr)", "Korea Times"),
        ("The talks ended.\nBy Jane Doe (jane@unknown-blog.example)", None),
        ("The talks ended.\n© 2026 Example Daily Post. All rights reserved.", "Example Daily Post"),
        ("The talks ended.\n© AFP", None),
    ],
)
def test_outlet_only_from_supporting_evidence(raw, outlet):
    assert extract_metadata(raw, clean_text(raw), "x.txt")["source"] == outlet


@pytest.mark.parametrize(
    "text, iso",
    [
        ("date 2026-01-19", "2026-01-19"),
        ("Posted : January 19, 2026, 14:00", "2026-01-19"),
        ("Jan. 19, 2026", "2026-01-19"),
        ("19 January 2026", "2026-01-19"),
        ("Am 19. Januar 2026", "2026-01-19"),
        ("19. März 2026", "2026-03-19"),
        ("19.01.2026", "2026-01-19"),
        ("2026년 1월 19일", "2026-01-19"),
        ("입력 2026.01.19 09:00", "2026-01-19"),
        ("2026-01-19T09:00:00+09:00", "2026-01-19"),
        ("May 5 , 2026", "2026-05-05"),
        ("May 5,\n\n2026", "2026-05-05"),
        ("2026-02-30", None),
        ("January 2026", None),
        ("in 2024", None),
        ("the 2026-2030 roadmap", None),
        ("the 1950~53 Korean War", None),
        ("", None),
    ],
)
def test_parse_date_forms(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize(
    "raw, iso",
    [
        # a year-less dateline takes its year from a full date elsewhere in the text
        ("SEOUL, March 3 (AJP) - Talks began.\nPosted 2026-03-04", "2026-03-04"),
        ("SEOUL, March 3 (AJP) - Talks began on Monday.\nThey ended on 5 March 2025.", "2025-03-03"),
        # ... or from the only year the text mentions
        ("SEOUL, March 3 (AJP) - Trade grew in 2025, officials said.", "2025-03-03"),
        # no year, or two different years and no full date: no date
        ("SEOUL, March 3 (AJP) - Talks began on Monday.", None),
        ("SEOUL, March 3 (AJP) - Trade grew from 2012 to 2024.", None),
        # "Updated" only when nothing else is labelled
        ("Updated: 5 March 2026\nThe talks ended.", "2026-03-05"),
        ("Published: 4 March 2026 Updated: 5 March 2026\nThe talks ended.", "2026-03-04"),
        # a date deep in the body is an event, not the publication date
        ("The talks ended. " + "They went on for long. " * 20 + "The next round is on 5 March 2026.", None),
    ],
)
def test_published_date_rules(raw, iso):
    assert find_published(raw, clean_text(raw)) == iso


@pytest.mark.parametrize(
    "raw, byline",
    [
        ("Headline here\nBy Jane Doe\nThe talks ended on Monday.", "Jane Doe"),
        ("Headline here\nVon Max Mustermann\nDie Gespräche endeten am Montag.", "Max Mustermann"),
        ("(서울=연합뉴스) 홍길동 기자 = 두 정상은 반도체 협력을 강화하기로 합의했다.", "홍길동"),
        ("By contrast, the talks ended on Monday.", None),
    ],
)
def test_byline(raw, byline):
    assert extract_metadata(raw, clean_text(raw), "x.txt")["byline"] == byline


@pytest.mark.parametrize(
    ("pattern", "line"),
    [
        (meta._DATELINE_RE, "SEOUL, Jan. 19 (AJP) - The talks began."),
        (meta._KO_DATELINE_RE, "(서울=연합뉴스) 두 정상은 합의했다."),
        (meta._KO_WIRE_BYLINE_RE, "(서울=연합뉴스) 홍길동 기자 = 두 정상은 합의했다."),
        (meta._COPYRIGHT_RE, "© 2026 AJP. All rights reserved."),
    ],
    ids=["dateline", "korean-dateline", "korean-wire-byline", "copyright"],
)
def test_line_patterns_start_on_their_line_not_on_the_blank_lines_above(pattern, line):
    """A match attempt at a blank line fails there: one that could read on through the blank
    lines below it would read a long run of them from each of its lines (quadratic)."""
    text = "The talks ended.\n\n \n\t\n" + line
    assert pattern.match(text, text.index("\n\n") + 1) is None
    assert pattern.search(text).start() == text.index(line)


def test_wire_byline_line_is_the_line_itself():
    raw = "\n\n(서울=연합뉴스) 홍길동 기자 = 두 정상은 반도체 협력을 강화하기로 합의했다."
    assert find_byline(raw) == ("(서울=연합뉴스) 홍길동 기자 =", "홍길동")


def test_headline_is_the_title_and_stays_in_the_text():
    raw = "Rivers rise as storms hit Italy\n\nHeavy rain caused rivers to burst their banks on Monday."
    cleaned = clean_text(raw)
    meta = extract_metadata(raw, cleaned, "x.txt")
    assert meta["title"] == "Rivers rise as storms hit Italy"
    assert meta["title_kind"] == "headline"
    assert cleaned.startswith(meta["title"])


def test_first_line_sentence_is_not_a_headline():
    raw = "Heavy rain caused rivers to burst their banks on Monday.\nThousands left their homes."
    meta = extract_metadata(raw, clean_text(raw), "x.txt")
    assert (meta["title"], meta["title_kind"]) == (raw.split("\n")[0], "lead")


@pytest.mark.parametrize(
    "raw, title, kind",
    [
        ("", "Storm report", "file"),
        ("   \n", "Storm report", "file"),
        ("Ein kurzer Satz über das Wetter in Rom.", "Ein kurzer Satz über das Wetter in Rom.", "lead"),
        (
            "정상회담이 19일 서울에서 열렸다. 두 정상은 협력에 합의했다.",
            "정상회담이 19일 서울에서 열렸다.",
            "lead",
        ),
        ("word " * 5000, ("word " * 20).strip() + "…", "lead"),
    ],
)
def test_title_edge_cases(raw, title, kind):
    meta = extract_metadata(raw, clean_text(raw), "2026-01-19-storm-report.de.txt")
    assert (meta["title"], meta["title_kind"]) == (title, kind)
    assert len(meta["title"]) <= 120


def test_title_from_filename():
    assert title_from_filename("2026-01-19-ajp-lee-meloni-mous.txt") == "Ajp lee meloni mous"
    assert title_from_filename("notes.md") == "Notes"


@pytest.mark.parametrize("raw", ["", "ü", "기사", "x" * 200_000])
def test_extract_metadata_always_returns_the_five_keys(raw):
    meta = extract_metadata(raw, clean_text(raw), "a.txt")
    assert set(meta) == KEYS
    assert meta["title"] and meta["title_kind"] in ("headline", "lead", "file")


def test_a_stated_title_is_a_headline_even_when_the_text_starts_with_a_sentence():
    raw = "Heavy rain caused rivers to burst their banks on Monday. Thousands left their homes."
    meta = extract_metadata(raw, clean_text(raw), "x.txt", title="  Rivers  rise in Italy ")
    assert (meta["title"], meta["title_kind"]) == ("Rivers rise in Italy", "headline")


# ------------------------------------------------------------------ dates of URLs and file names


@pytest.mark.parametrize(
    "name, iso",
    [
        ("2026-01-19-ajp-lee-meloni-mous.txt", "2026-01-19"),
        ("2026-01-lee-meloni-industrial-cooperation.txt", "2026-01"),
        ("korea-herald-2023-yoon-mattarella-summit.txt", "2023"),
        ("2026_01_19_summit.md", "2026-01-19"),
        ("summit-20260119.html", "2026-01-19"),
        ("report.2025.txt", "2025"),
        ("2026-02-30-summit.txt", "2026-02"),  # no 30 February: the month still holds
        ("2026-13-summit.txt", "2026"),  # no month 13: the year still holds
        ("top-1000-words.txt", None),  # not a year of news (1990-2100)
        ("3000-summit.txt", None),
        ("a2026-summit.txt", None),  # not a whole token
        ("summit-2026x.txt", None),
        ("notes.txt", None),
        ("", None),
    ],
)
def test_date_from_filename(name, iso):
    assert date_from_filename(name) == iso


@pytest.mark.parametrize(
    "url, iso",
    [
        ("https://www.example-news.com/world/2026/01/19/summit-seoul/", "2026-01-19"),
        ("https://www.example-news.com/world/2026/1/9/summit", "2026-01-09"),
        ("https://example.org/news/summit-2026-01-19.html", "2026-01-19"),
        ("https://example.org/news/20260119/summit", "2026-01-19"),
        ("https://example.org/archive/2026/01/", "2026-01"),
        ("https://example.org/archive/2026/01", "2026-01"),
        ("https://example.org/view/AKR20260119000100", None),  # an id, not a date
        ("https://example.org/2026/", None),
        ("https://2026-01-19.example.org/news", None),  # the host is not the path
        ("https://example.org/news/2026/02/30/x", "2026-02"),  # no 30 February: the month holds
        ("not a url", None),
        ("http://[::1", None),  # unparseable
        (None, None),
    ],
)
def test_date_from_url(url, iso):
    assert date_from_url(url) == iso


@pytest.mark.parametrize(
    "text, iso",
    [
        ("2026-01-19T09:00:00+09:00", "2026-01-19"),
        ("January 19, 2026", "2026-01-19"),
        ("2026-01", "2026-01"),
        (" 2026 ", "2026"),
        ("2026-13", None),
        ("1850", None),
        ("yesterday", None),
        ("1e20", None),
        ("9999-99-99", None),
    ],
)
def test_parse_partial_date(text, iso):
    assert parse_partial_date(text) == iso


def _published(raw: str, name: str = "x.txt", **stated) -> str | None:
    return extract_metadata(raw, clean_text(raw), name, **stated)["published"]


def test_date_sources_in_order_text_url_file_name():
    dated = "Talks ended\n\nPosted on 3 March 2025\nThe talks ended on Monday without a deal."
    undated = "Talks ended\n\nThe talks ended on Monday without a deal."
    url = "https://blog.example/2024/11/05/talks"
    assert _published(dated, "2026-01-19-talks.txt", url=url) == "2025-03-03"  # the text's day wins
    assert _published(undated, "2026-01-19-talks.txt", url=url) == "2024-11-05"  # then the URL
    assert _published(undated, "2026-01-19-talks.txt") == "2026-01-19"  # then the file name
    assert _published(undated, "talks.txt") is None


def test_a_file_name_date_never_overrides_the_texts_day():
    raw = "Talks ended\n\ndate 2025-03-03\nThe talks ended on Monday without a deal."
    assert _published(raw, "2026-01-19-talks.txt") == "2025-03-03"
    assert _published(raw, "2025-talks.txt") == "2025-03-03"


def test_a_later_source_refines_a_less_precise_date_that_it_agrees_with():
    undated = "Talks ended\n\nThe talks ended on Monday without a deal."
    assert _published(undated, "2026-01-19-talks.txt", url="https://x.org/2026/01/") == "2026-01-19"
    assert _published(undated, "2025-03-03-talks.txt", url="https://x.org/2026/01/") == "2026-01"
    assert _published(undated, "x.txt", published="2026") == "2026"
    assert _published(undated, "2026-01-19-x.txt", published="2026") == "2026-01-19"


def test_a_stated_date_wins_and_a_feed_takes_no_date_from_its_file_name():
    raw = "Talks ended\n\ndate 2025-03-03\nThe talks ended on Monday without a deal."
    assert _published(raw, published="2024-06-01T10:00:00Z") == "2024-06-01"
    undated = "The talks ended on Monday without a deal."
    assert _published(undated, "2026-01-feed.jsonl", file_dates=False) is None


def test_the_winning_date_source_is_logged_at_debug_level(caplog):
    with caplog.at_level("DEBUG", logger="rag.index.meta"):
        _published("The talks ended on Monday without a deal.", "korea-herald-2023-talks.txt")
    assert "korea-herald-2023-talks.txt: published 2023, from the file name" in caplog.text


# ------------------------------------------------------------------ outlets of URLs and site names


@pytest.mark.parametrize(
    "url, outlet",
    [
        ("https://www.reuters.com/world/asia-pacific/summit-2026-01-19/", "Reuters"),
        ("https://m.koreaherald.com/view.php?ud=1", "Korea Herald"),
        ("https://en.yna.co.kr/view/AEN20260119", "Yonhap News Agency"),
        ("https://blog.example/2026/01/19/talks", None),
        ("https://reuters.com.evil.example/x", None),
        ("not a url", None),
        (None, None),
    ],
)
def test_url_outlet(url, outlet):
    assert url_outlet(url) == outlet


def test_outlet_from_the_url_only_when_the_text_names_none():
    raw = "Talks ended\n\nThe talks ended on Monday without a deal."
    assert (
        extract_metadata(raw, raw, "x.txt", url="https://apnews.com/article/x")["source"]
        == "Associated Press"
    )
    wire = "BERLIN (Reuters) - The talks ended on Monday without a deal."
    assert extract_metadata(wire, wire, "x.txt", url="https://apnews.com/article/x")["source"] == "Reuters"
    assert extract_metadata(raw, raw, "x.txt", url="https://apnews.com/x", source="Example Daily")[
        "source"
    ] == ("Example Daily")


def test_the_file_name_is_never_the_outlet():
    raw = "Talks ended\n\nThe talks ended on Monday without a deal."
    for name in ("reuters-talks.txt", "2026-01-19-yonhap-talks.txt", "korea-herald-2023-talks.txt"):
        assert extract_metadata(raw, raw, name)["source"] is None


@pytest.mark.parametrize(
    "site, outlet",
    [
        ("The Coastal Times", "The Coastal Times"),
        ("  The   Coastal Times ", "The Coastal Times"),
        ("coastal.example", None),  # trafilatura's stand-in for a page that names no site
        ("www.theguardian.com", "The Guardian"),
        ("", None),
        (None, None),
    ],
)
def test_site_outlet(site, outlet):
    assert site_outlet(site) == outlet


# ------------------------------------------------------------------ the headline below a cookie notice


@pytest.mark.parametrize(
    "raw, title, kind",
    [
        (
            "We use cookies to improve your experience. By continuing you accept them.\nAccept all\n"
            "Manage settings\n\nBusiness\n\nPort orders electric cranes\n\n"
            "The port ordered 24 cranes on Tuesday.",
            "Port orders electric cranes",
            "headline",
        ),
        (
            "Wir verwenden Cookies. Mit der Nutzung stimmen Sie zu.\nAlle akzeptieren\n"
            "Der Hafen bestellte am Dienstag 24 Kräne. Sie sollen Diesel sparen.",
            "Der Hafen bestellte am Dienstag 24 Kräne.",
            "lead",
        ),
        # an article about cookies keeps its headline; a short headline above a sentence stays one
        (
            "Cookie sales soar\n\nBakeries sold more cookies than ever in December.",
            "Cookie sales soar",
            "headline",
        ),
        ("Markets rally\n\nShares rose on Monday.", "Markets rally", "headline"),
    ],
)
def test_headline_below_a_cookie_notice_and_a_section_label(raw, title, kind):
    meta = extract_metadata(raw, clean_text(raw), "x.txt")
    assert (meta["title"], meta["title_kind"]) == (title, kind)


def test_a_line_full_of_cookie_words_is_read_in_linear_time():
    """Two searches per line, no pattern with ".*" between two words (quadratic in the line)."""
    from rag.index.meta import _is_consent

    line = "cookie " * 20_000
    assert not _is_consent(line)  # no consent word: a crafted line, read once
    assert _is_consent(line + "accept")


def test_furniture_is_never_a_title_and_a_lead_starts_after_its_dateline():
    from rag.index.clean import clean_article

    captioned = (
        "Photo: Leaders meet in Seoul on Monday\n"
        "SEOUL, Jan. 19 (AJP) - The two leaders agreed to expand trade.\n"
    )
    text, furniture = clean_article(captioned)
    meta = extract_metadata(captioned, text, "x.txt", furniture=furniture)
    assert (meta["title"], meta["title_kind"]) == ("The two leaders agreed to expand trade.", "lead")
    bylined = "By Jane Doe\nSEOUL, January 19 (AJP) - The two leaders agreed on Monday. More talks came.\n"
    text, furniture = clean_article(bylined)
    meta = extract_metadata(bylined, text, "x.txt", furniture=furniture)
    assert (meta["title"], meta["title_kind"]) == ("The two leaders agreed on Monday.", "lead")
