"""rag.index.meta: title, publication date, byline and outlet from the article's own text."""

from __future__ import annotations

import pytest

import rag.index.meta as meta
from rag.config import PROJECT_DIR
from rag.index.clean import clean_text
from rag.index.meta import extract_metadata, find_byline, find_published, parse_date, title_from_filename

ARTICLES = PROJECT_DIR / "articles"


def meta_of(name: str) -> dict:
    raw = (ARTICLES / name).read_text(encoding="utf-8")
    return extract_metadata(raw, clean_text(raw), name)


# (file, title, published, byline, source); what each text itself supports.
SEED_META = [
    # 000: the README says 2023, the text names no date ("on Wednesday") -> None.
    (
        "korea-herald-2023-yoon-mattarella-summit.txt",
        "S. Korea, Italy agree to boost future-oriented cooperation",
        None,
        "Choi Si-young",
        "Korea Herald",  # from the heraldcorp.com e-mail of the byline
    ),
    # 001: "January 2026" only in the README; the text has months without days or years.
    (
        "2026-01-lee-meloni-industrial-cooperation.txt",
        "Korea, Italy Agree to Deepen Industrial, Strategic Cooperation",
        None,
        None,
        None,
    ),
    # 002: "date 2026-01-19"; Yonhap is cited ("the Seoul-based Yonhap News reported"), not the outlet.
    (
        "2026-01-19-yonhap-lee-meloni-trade.txt",
        "South Korean President Lee Jae Myung and Italian Prime Minister Giorgia Meloni on Monday agreed to…",
        "2026-01-19",
        None,
        None,
    ),
    # 003: "Am 19. Januar 2026 trafen sich ...", no headline: the first sentence, shortened.
    (
        "2026-01-19-gipfeltreffen-lee-meloni.de.txt",
        "Am 19. Januar 2026 trafen sich Präsident Lee Jae-myung und die italienische Premierministerin…",
        "2026-01-19",
        None,
        None,
    ),
    # 004: "Posted : January 19, 2026" and the "SEOUL, January 19 (AJP)" dateline.
    (
        "2026-01-19-ajp-lee-meloni-mous.txt",
        "S. Korea, Italy agree to boost cooperation on AI and semiconductors",
        "2026-01-19",
        "Park Sae-jin",
        "AJP",
    ),
]


@pytest.mark.parametrize("name, title, published, byline, source", SEED_META)
def test_metadata_of_each_seed(name, title, published, byline, source):
    assert meta_of(name) == {"title": title, "published": published, "byline": byline, "source": source}


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
    assert cleaned.startswith(meta["title"])


def test_first_line_sentence_is_not_a_headline():
    raw = "Heavy rain caused rivers to burst their banks on Monday.\nThousands left their homes."
    assert extract_metadata(raw, clean_text(raw), "x.txt")["title"] == raw.split("\n")[0]


@pytest.mark.parametrize(
    "raw, title",
    [
        ("", "Storm report"),
        ("   \n", "Storm report"),
        ("Ein kurzer Satz über das Wetter in Rom.", "Ein kurzer Satz über das Wetter in Rom."),
        ("정상회담이 19일 서울에서 열렸다. 두 정상은 협력에 합의했다.", "정상회담이 19일 서울에서 열렸다."),
        ("word " * 5000, ("word " * 20).strip() + "…"),
    ],
)
def test_title_edge_cases(raw, title):
    meta = extract_metadata(raw, clean_text(raw), "2026-01-19-storm-report.de.txt")
    assert meta["title"] == title
    assert len(meta["title"]) <= 120


def test_title_from_filename():
    assert title_from_filename("2026-01-19-ajp-lee-meloni-mous.txt") == "Ajp lee meloni mous"
    assert title_from_filename("notes.md") == "Notes"


@pytest.mark.parametrize("raw", ["", "ü", "기사", "x" * 200_000])
def test_extract_metadata_always_returns_the_four_keys(raw):
    meta = extract_metadata(raw, clean_text(raw), "a.txt")
    assert set(meta) == {"title", "published", "byline", "source"}
    assert meta["title"]
