"""rag.index.clean: page debris goes, article sentences stay verbatim."""

from __future__ import annotations

import sys
import unicodedata

import pytest

import rag.index.clean as clean
from rag.config import PROJECT_DIR
from rag.index.clean import byline_names, clean_article, clean_text, is_sentence, normalise_whitespace

ARTICLES = PROJECT_DIR / "articles"
HERALD = "korea-herald-2023-yoon-mattarella-summit.txt"  # seed 000
INDUSTRIAL = "2026-01-lee-meloni-industrial-cooperation.txt"  # seed 001
TRADE = "2026-01-19-yonhap-lee-meloni-trade.txt"  # seed 002
GERMAN = "2026-01-19-gipfeltreffen-lee-meloni.de.txt"  # seed 003
AJP = "2026-01-19-ajp-lee-meloni-mous.txt"  # seed 004
SEEDS = (HERALD, INDUSTRIAL, TRADE, GERMAN, AJP)


def seed(name: str) -> str:
    return (ARTICLES / name).read_text(encoding="utf-8")


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def prose(raw: str) -> str:
    """The cleaned text without its lines of furniture (bylines, related teasers, captions)."""
    text, furniture = clean_article(raw)
    covered = {i for start, end, _role in furniture for i in range(start, end)}
    out, pos = [], 0
    for line in text.split("\n"):
        if not (line and all(i in covered for i in range(pos, pos + len(line)))):
            out.append(line)
        pos += len(line) + 1
    return "\n".join(out)


def roles_of(raw: str) -> dict[str, str]:
    """Each furniture range's text -> its role."""
    text, furniture = clean_article(raw)
    return {text[start:end]: role for start, end, role in furniture}


# ------------------------------------------------------------------ the seeds


def test_korea_herald_page_debris_is_removed_and_sentences_kept():
    cleaned = clean_text(seed(HERALD))
    lines = lines_of(cleaned)
    for debris in ("Back To Top", "MOST POPULAR", "LATEST NEWS", "subscribe", "지나쌤"):
        assert debris not in lines
    assert "지나쌤" not in cleaned
    assert "By Choi Si-young (siyoungchoi@heraldcorp.com)" not in cleaned
    caption = (
        "President Yoon Suk Yeol (right) and Italian President Sergio Mattarella speak during a press "
        "conference following talks at the presidential office in Seoul on Wednesday. (Yonhap)"
    )
    assert cleaned.count(caption) == 1
    assert lines[0] == "S. Korea, Italy agree to boost future-oriented cooperation"
    for sentence in (
        "President Yoon Suk Yeol held a summit with Italian President Sergio Mattarella, on a state visit "
        "to South Korea, and discussed ways to strengthen cooperation between the two countries.",
        "Rome was one of five countries that deployed medical staff for the 1950-53 conflict, which ended "
        "only in an armistice, not a peace treaty.",
        "“Italy and Korea are similar in many ways,” Mattarella said.",
        "calling each other a “strategic partner.”",
    ):
        assert sentence in cleaned


def test_also_read_teasers_are_removed_from_industrial_cooperation_article():
    raw = seed(INDUSTRIAL)
    cleaned = prose(raw)
    assert raw.count("Also Read:") == 3
    assert "Also Read" not in cleaned
    assert "PM Calls for Stronger Decentralization" not in cleaned
    teasers = [t for t, role in roles_of(raw).items() if role == "related"]
    assert len(teasers) == 3 and all(t.startswith("Also Read:") for t in teasers)  # kept, marked
    assert lines_of(cleaned)[0] == "Korea, Italy Agree to Deepen Industrial, Strategic Cooperation"
    for sentence in (
        "“The two countries should further explore which areas hold the greatest potential for development”.",
        "Meloni additionally extended an offer from Italian President Sergio Mattarella for Lee to make "
        "an official visit to Italy later in the year.",
        "They reiterated their dedication to fostering a peaceful and thriving Indo-Pacific region",
    ):
        assert sentence in cleaned


def test_date_prefix_is_cut_off_the_first_sentence_of_trade_article():
    cleaned = clean_text(seed(TRADE))
    assert "date 2026-01-19" not in cleaned
    assert cleaned.startswith(
        "South Korean President Lee Jae Myung and Italian Prime Minister Giorgia Meloni on Monday agreed"
    )
    assert cleaned.endswith("which included Oman as her first stop.")  # trailing blank lines gone
    assert "the Seoul-based Yonhap News reported." in cleaned
    assert "The two nations established formal diplomatic ties in 1956." in cleaned
    assert "\n\n\n" not in cleaned


def test_clean_german_article_is_kept_whole():
    raw = seed(GERMAN)
    cleaned = clean_text(raw)
    for line in raw.strip().split("\n"):
        assert line.strip() in cleaned
    assert cleaned.startswith("Am 19. Januar 2026 trafen sich Präsident Lee Jae-myung")


def test_ajp_korean_interface_lines_and_repeated_caption_are_removed():
    cleaned = clean_text(seed(AJP))
    assert "기사 이미지 확대 보기" not in cleaned
    assert "닫기" not in cleaned
    assert "Posted :" not in prose(seed(AJP)) and "By Park Sae-jin" not in prose(seed(AJP))
    byline = "By Park Sae-jin Posted : January 19, 2026, 14:00 Updated : January 19, 2026, 14:00"
    assert roles_of(seed(AJP))[byline] == "byline"  # kept in the text, marked
    assert cleaned.count("hold an expanded meeting at the presidential Blue House") == 1
    assert "\xa0" not in cleaned
    for sentence in (
        "South Korean President Lee Jae Myung and Italian Prime Minister Giorgia Meloni agreed on Monday "
        "to strengthen supply chain stability and industrial ties, focusing on semiconductors and "
        "artificial intelligence.",
        "Lee also thanked Italy for its historical support, specifically citing the medical units Rome "
        "dispatched during the 1950~53 Korean War.",
        'adding that the potential for the relationship felt "limitless."',
    ):
        assert sentence in cleaned
    assert cleaned.endswith("during the 1950~53 Korean War.")


@pytest.mark.parametrize("name", SEEDS)
def test_cleaning_only_drops_lines_of_the_seed(name):
    raw = seed(name)
    normal = set(lines_of(normalise_whitespace(raw)))
    for line in lines_of(clean_text(raw)):
        # every kept line is a line of the page (002's first line lost only its date prefix)
        assert line == "" or line in normal or any(n.endswith(" " + line) for n in normal)


@pytest.mark.parametrize("name", SEEDS)
def test_cleaning_is_idempotent(name):
    once = clean_text(seed(name))
    assert clean_text(once) == once


# ------------------------------------------------------------------ other outlets

OTHER_OUTLET = """Skip to content
Home > World > Europe
Share this article

Rivers rise as storms hit northern Italy

By Anna Rossi
Updated: 3 March 2026, 08:15 CET

Heavy rain caused rivers to burst their banks across northern Italy on Monday, forcing hundreds of \
families to leave their homes.
Firefighters rescued dozens of people from cars trapped on flooded roads near Bologna.

A flooded street in Bologna on Monday. Photo: Reuters
A flooded street in Bologna on Monday. Photo: Reuters.
ADVERTISEMENT
Related Stories: Storm Damage Costs Farmers Millions

The regional governor said emergency funds would be released this week.
He declined to comment.
Поделиться
記事を印刷する
Read more
© 2026 Example Daily Post. All rights reserved.
"""


def test_debris_of_another_outlet_is_removed():
    cleaned = prose(OTHER_OUTLET)
    for debris in (
        "Skip to content",
        "Home > World",
        "Share this article",
        "ADVERTISEMENT",
        "Related Stories",
        "Storm Damage Costs Farmers Millions",
        "Поделиться",
        "記事を印刷する",
        "Read more",
        "All rights reserved",
        "By Anna Rossi",
        "Updated:",
    ):
        assert debris not in cleaned, debris
    assert cleaned.count("A flooded street in Bologna on Monday") == 1


def test_sentences_of_another_outlet_are_kept_even_short_ones():
    cleaned = clean_text(OTHER_OUTLET)
    assert cleaned.split("\n")[0] == "Rivers rise as storms hit northern Italy"
    for sentence in (
        "Heavy rain caused rivers to burst their banks across northern Italy on Monday, forcing hundreds "
        "of families to leave their homes.",
        "Firefighters rescued dozens of people from cars trapped on flooded roads near Bologna.",
        "The regional governor said emergency funds would be released this week.",
        "He declined to comment.",
    ):
        assert sentence in cleaned


def test_german_page_navigation_is_removed():
    raw = (
        "Zurück nach oben\nKanzler trifft Präsidentin in Rom\nVon Max Mustermann\n"
        "Veröffentlicht am 19.01.2026\nDer Kanzler ist am Montag zu Gesprächen in Rom eingetroffen.\n"
        "Lesen Sie auch: Kanzler reist nach Paris\nAnzeige\n"
        "Beide Seiten wollen die Zusammenarbeit ausbauen.\nArtikel teilen\nDrucken\n"
    )
    assert prose(raw) == (
        "Kanzler trifft Präsidentin in Rom\nDer Kanzler ist am Montag zu Gesprächen in Rom eingetroffen.\n"
        "Beide Seiten wollen die Zusammenarbeit ausbauen."
    )
    assert roles_of(raw) == {
        "Von Max Mustermann": "byline",
        "Lesen Sie auch: Kanzler reist nach Paris": "related",
    }


def test_korean_page_keeps_korean_sentences_and_drops_latin_buttons_and_teasers():
    raw = (
        "이재명 대통령, 멜로니 총리와 정상회담\n\n"
        "(서울=연합뉴스) 홍길동 기자 = 이재명 대통령은 19일 청와대에서 멜로니 총리와 정상회담을 했다.\n"
        "Share\nPrint\n두 정상은 반도체 협력을 강화하기로 합의했다.\n입력 2026.01.19 09:00\n"
        "관련기사\n멜로니 총리 방한 일정 공개\nⓒ 연합뉴스, 무단 전재 및 재배포 금지\n"
    )
    assert clean_text(raw) == (
        "이재명 대통령, 멜로니 총리와 정상회담\n\n"
        "(서울=연합뉴스) 홍길동 기자 = 이재명 대통령은 19일 청와대에서 멜로니 총리와 정상회담을 했다.\n"
        "두 정상은 반도체 협력을 강화하기로 합의했다."
    )


def test_teaser_list_after_most_popular_heading_is_removed():
    raw = (
        "The talks ended on Friday without a deal.\nMOST POPULAR\nSamsung unveils new chip\n"
        "BTS member enlists in army\nBoth sides will meet again next month."
    )
    assert prose(raw) == "The talks ended on Friday without a deal.\nBoth sides will meet again next month."
    assert roles_of(raw) == {"Samsung unveils new chip": "related", "BTS member enlists in army": "related"}
    assert "MOST POPULAR" not in clean_text(raw)  # the heading goes; the list stays, marked


@pytest.mark.parametrize(
    "line",
    [
        "He declined to comment.",
        "By contrast, the opposition rejected the plan.",
        "By Monday, officials had left the capital.",
        "Read more: the minister said the plan would fail without new funding.",
        "“We will not give up,” she said.",
        "Prices rose 3 percent in May, the agency said!",
        "Was sagte Meloni?",
        "정상회담은 19일 열렸다.",
    ],
)
def test_real_sentences_are_never_removed(line):
    raw = f"Officials met in Rome on Tuesday to discuss the budget.\n{line}\nThe meeting lasted two hours."
    assert line in clean_text(raw)


def test_sentence_repeated_with_other_final_punctuation_appears_once():
    raw = (
        "Leaders meet in Seoul on Monday YONHAP\nLeaders meet in Seoul on Monday. YONHAP\n"
        "They agreed on trade."
    )
    assert clean_text(raw) == "Leaders meet in Seoul on Monday YONHAP\nThey agreed on trade."


def test_two_word_interface_sentence_is_removed():
    raw = "The talks ended on Friday.\nRead more.\nSubscribe now!\nNo comment."
    assert clean_text(raw) == "The talks ended on Friday.\nNo comment."


def test_short_repeated_sentence_is_kept():
    raw = "The minister was asked twice.\nNo comment.\nHer deputy was asked too.\nNo comment."
    assert clean_text(raw).count("No comment.") == 2


# ------------------------------------------------------------------ whitespace and edge cases


def test_whitespace_is_normalised_to_single_blank_lines_and_plain_spaces():
    raw = (
        "\ufeff  Title line here\r\n\r\n\r\n\r\n   First\u00a0sentence  is here.\u200b\n"
        "Second one is here.\n\n\n"
    )
    assert clean_text(raw) == "Title line here\n\nFirst sentence is here.\nSecond one is here."


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("", ""),
        ("   \n\n\t \n", ""),
        ("Back To Top\nsubscribe\nMOST POPULAR", ""),
        ("ü", "ü"),  # too little to judge: kept (ingestion rejects too-short articles)
        ("한국어 기사 본문입니다.", "한국어 기사 본문입니다."),
        ("Émilie Dubois a signé l’accord à Séoul.", "Émilie Dubois a signé l’accord à Séoul."),
    ],
)
def test_clean_text_edge_cases(raw, expected):
    assert clean_text(raw) == expected


def test_long_text_keeps_every_distinct_sentence():
    sentences = [f"Sentence number {i} reports that the talks went on for {i} hours." for i in range(3000)]
    raw = "\n".join(s + "\nShare\nAdvertisement" for s in sentences)
    cleaned = clean_text(raw)
    assert cleaned.split("\n") == sentences


def test_whitespace_of_every_kind_is_normalised_by_category():
    raw = "a\tb\u3000c\u2003\u00a0d\x01e\x9f\x1cf\u2028g\x85h \u202f \ni\u00adj\ufeff"
    assert normalise_whitespace(raw) == "a b c def\ng\nh\nij"


def test_whitespace_classes_are_unicode_spaces_and_control_characters():
    """The patterns stand for Unicode categories: Zs and "\\t" become a space, the other control
    characters (Cc) go, for every code point."""
    chars = "".join(map(chr, range(sys.maxunicode + 1)))
    categories = {ch: unicodedata.category(ch) for ch in chars}
    controls = {ch for ch, cat in categories.items() if cat == "Cc"} - {"\t", "\n"}
    assert set(clean._CONTROL_RE.findall(chars)) == controls
    line_ends = set("\n\r\x0b\x0c\x85\u2028\u2029")
    blanks = set("".join(clean._BLANKS_RE.findall(chars))) - line_ends - controls
    assert blanks == {ch for ch, cat in categories.items() if cat == "Zs"} | {"\t"}


def test_whitespace_is_normalised_without_a_lookup_per_character(monkeypatch):
    """Regular expressions over the whole text, not a Unicode-category lookup per character."""
    lookups = []
    monkeypatch.setattr(
        clean.unicodedata, "category", lambda ch: lookups.append(ch) or unicodedata.category(ch)
    )
    raw = "Seoul\u00a0and Rome agree.\t\tThe talks went on.\n" * 500
    assert normalise_whitespace(raw) == "\n".join(["Seoul and Rome agree. The talks went on."] * 500) + "\n"
    assert lookups == []


def test_clean_text_rejects_non_strings():
    with pytest.raises(TypeError):
        clean_text(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("By Choi Si-young (siyoungchoi@heraldcorp.com)", "Choi Si-young"),
        ("By Park Sae-jin Posted : January 19, 2026, 14:00", "Park Sae-jin"),
        ("By Jane Doe and John Roe", "Jane Doe and John Roe"),
        ("Von Max Mustermann", "Max Mustermann"),
        ("홍길동 기자 hong@yna.co.kr", "홍길동"),
        ("By contrast, the plan failed.", None),
        ("By Monday, officials had left.", None),
        ("By 2030, Korea will have more chips.", None),
    ],
)
def test_byline_names(line, expected):
    assert byline_names(line) == expected


@pytest.mark.parametrize(
    "line, expected",
    [
        ("He declined to comment.", True),
        ("“It was a good day,” he said.", True),
        ("(He declined to comment.)", True),
        ("Read more", False),
        ("Yes.", False),
        ("No comment.", True),
        ("S. Korea, Italy agree to boost cooperation", False),
        ("정상회담은 열렸다.", True),
    ],
)
def test_is_sentence(line, expected):
    assert is_sentence(line) is expected


def test_cookie_banner_is_removed_but_an_article_about_cookies_is_kept():
    raw = (
        "We use cookies to improve your experience on our site. By continuing you accept our cookies.\n"
        "Accept all\nManage settings\n"
        "Wir verwenden Cookies, um unsere Website für Sie zu verbessern.\n"
        "Regulators said websites must ask for consent before they store cookies on a device.\n"
        "The rule takes effect next year.\n"
    )
    assert clean_text(raw) == (
        "Regulators said websites must ask for consent before they store cookies on a device.\n"
        "The rule takes effect next year."
    )


def test_time_stamp_with_a_time_zone_offset_is_removed():
    raw = "Orders fall again\nMarch 3, 2025 10:14 AM GMT+1\nOrders dropped 1.4% from December."
    assert clean_text(raw) == "Orders fall again\nOrders dropped 1.4% from December."


@pytest.mark.parametrize("name", SEEDS)
def test_clean_text_is_the_text_of_clean_article(name):
    raw = seed(name)
    text, furniture = clean_article(raw)
    assert clean_text(raw) == text
    assert all(0 <= start < end <= len(text) for start, end, _role in furniture)
    assert [f[:2] for f in furniture] == sorted(f[:2] for f in furniture)
