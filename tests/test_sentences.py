"""rag.index.sentences: library sentence boundaries with exact offsets, never across a line break."""

from __future__ import annotations

import re

import pysbd
import pytest

import rag.index.sentences as sentences_module
from rag.config import PROJECT_DIR
from rag.errors import IngestError
from rag.index.sentences import can_answer, is_heading, split_sentences
from rag.types import Sentence

from .conftest import KOREAN

ARTICLES = PROJECT_DIR / "articles"
SEED = [
    ("2026-01-19-ajp-lee-meloni-mous.txt", "en"),
    ("2026-01-19-gipfeltreffen-lee-meloni.de.txt", "de"),
    ("2026-01-19-yonhap-lee-meloni-trade.txt", "en"),
    ("2026-01-lee-meloni-industrial-cooperation.txt", "en"),
    ("korea-herald-2023-yoon-mattarella-summit.txt", "en"),
]


def assert_well_formed(text: str, sentences: list[Sentence], article_id: str = "a1") -> None:
    previous_end = 0
    for s in sentences:
        assert s.article_id == article_id
        assert text[s.start : s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert "\n" not in s.text
        assert s.start >= previous_end
        previous_end = s.end
    # Nothing is lost: every non-whitespace character is in exactly one sentence.
    assert re.sub(r"\s", "", "".join(s.text for s in sentences)) == re.sub(r"\s", "", text)


@pytest.mark.parametrize(("name", "language"), SEED)
def test_offsets_are_exact_on_seed_articles(name, language):
    text = (ARTICLES / name).read_text(encoding="utf-8")
    sentences = split_sentences("a1", text, language)
    assert len(sentences) > 10
    assert_well_formed(text, sentences)


def test_offsets_are_exact_on_korean_text():
    sentences = split_sentences("a1", KOREAN, "ko")
    assert_well_formed(KOREAN, sentences)
    assert [s.text for s in sentences] == [
        "이재명 대통령은 19일 청와대에서 조르자 멜로니 이탈리아 총리와 정상회담을 가졌다.",
        "두 정상은 반도체와 인공지능(AI), 항공우주 분야의 협력을 강화하기로 합의했다!",
        "멜로니 총리는 “한국은 이탈리아의 중요한 파트너”라고 말했다.",
        "이탈리아 총리의 방한은 19년 만이다.",
        "양국은 이날 세 건의 양해각서(MOU)에 서명했다.",
        "다음 회담은 로마에서 열릴까요?",
        "아직 정해지지 않았다.",
    ]


def test_german_date_is_not_split_after_the_day_number():
    text = (ARTICLES / "2026-01-19-gipfeltreffen-lee-meloni.de.txt").read_text(encoding="utf-8")
    first = split_sentences("a1", text, "de")[0]
    assert first.start == 0
    assert first.text.startswith("Am 19. Januar 2026 trafen sich Präsident Lee Jae-myung")
    assert first.text.endswith("zu heben.")


@pytest.mark.parametrize("language", ["de", "en", "und"])
def test_day_number_before_a_month_is_never_a_boundary(language):
    text = "Am 19. Januar 2026 kam Meloni nach Seoul. Am 3. Oktober reiste sie ab."
    sentences = split_sentences("a1", text, language)
    assert [s.text for s in sentences] == [
        "Am 19. Januar 2026 kam Meloni nach Seoul.",
        "Am 3. Oktober reiste sie ab.",
    ]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        (
            "The U.S. and Italy signed a deal on Monday. Talks continue in Rome.",
            "en",
            ["The U.S. and Italy signed a deal on Monday.", "Talks continue in Rome."],
        ),
        (
            "Dr. Lee met Mr. Meloni at 10 a.m. on Jan. 19. It cost $3.5 billion.",
            "en",
            ["Dr. Lee met Mr. Meloni at 10 a.m. on Jan. 19.", "It cost $3.5 billion."],
        ),
        (
            "Es gibt z. B. Halbleiter, d. h. Chips. Prof. Dr. Schmidt kam um 10 Uhr.",
            "de",
            ["Es gibt z. B. Halbleiter, d. h. Chips.", "Prof. Dr. Schmidt kam um 10 Uhr."],
        ),
        (  # an abbreviation before a quantity is no boundary
            "It uses approx. 4 kg of steam. Trade rose ca. 30%. It ended.",
            "en",
            ["It uses approx. 4 kg of steam.", "Trade rose ca. 30%.", "It ended."],
        ),
        (
            "Der Handel wuchs um ca. 30 Prozent. Dann kam Meloni.",
            "de",
            ["Der Handel wuchs um ca. 30 Prozent.", "Dann kam Meloni."],
        ),
        (
            "He said: “We agree on chips.” Then he left.",
            "en",
            ["He said: “We agree on chips.”", "Then he left."],
        ),
        (
            "Sie sagte: „Wir sind Partner.“ Dann ging sie.",
            "de",
            ["Sie sagte: „Wir sind Partner.“", "Dann ging sie."],
        ),
    ],
)
def test_abbreviations_and_closing_quotes(text, language, expected):
    sentences = split_sentences("a1", text, language)
    assert [s.text for s in sentences] == expected
    assert_well_formed(text, sentences)


@pytest.mark.parametrize("language", ["en", "de", "ko", "und"])
def test_line_breaks_always_split(language):
    text = "A headline without a full stop\nBy a reporter\r\n\n  The body starts here. It goes on.\n"
    sentences = split_sentences("a1", text, language)
    assert_well_formed(text, sentences)
    assert [s.text for s in sentences][:3] == [
        "A headline without a full stop",
        "By a reporter",
        "The body starts here.",
    ]


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \t\n \u00a0 \n"])
def test_empty_or_blank_text_has_no_sentences(text):
    assert split_sentences("a1", text, "en") == []


@pytest.mark.parametrize("language", ["xx", "", "EN-us", "de_AT", "und"])
def test_unknown_or_regional_language_codes_fall_back_cleanly(language):
    text = "The U.S. delegation arrived. The talks began."
    assert [s.text for s in split_sentences("a1", text, language)] == [
        "The U.S. delegation arrived.",
        "The talks began.",
    ]


def test_long_line_without_punctuation_stays_one_sentence():
    text = "  " + " ".join(f"word{i}" for i in range(300)) + "  "
    (sentence,) = split_sentences("a1", text, "en")
    assert sentence.start == 2 and sentence.end == len(text) - 2


@pytest.mark.parametrize(
    "text",
    [
        "Café naïve façade. Ünïcödé ends here.",
        "Seoul 🇰🇷 and Rome 🇮🇹 agree. 👨‍👩‍👧 Families travel too!",
        "Leading and trailing spaces.   \u00a0 Second one.\u3000",
        "Same sentence. Same sentence. Same sentence.",
        "Ellipsis… and more... Really?! Yes.",
        "\u200bZero width start. Then normal.",
    ],
)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_offsets_exact_on_unicode_and_repeated_sentences(text, language):
    assert_well_formed(text, split_sentences("a1", text, language))


def test_pysbd_does_not_look_each_sentence_up_again_in_the_line(monkeypatch):
    """pysbd's ``segment()`` finds each sentence again with a new regex over the whole text (quadratic
    in a line's length); the offsets are aligned here instead, so that lookup never runs."""
    lookups = []
    monkeypatch.setattr(pysbd.Segmenter, "sentences_with_char_spans", lambda self, s: lookups.append(s) or [])
    text = " ".join(f"Sentence number {i} ends here." for i in range(100))
    sentences = split_sentences("a1", text, "en")
    assert lookups == []
    assert len(sentences) == 100
    assert_well_formed(text, sentences)


def test_sentences_stay_whole_when_pysbd_changes_a_character():
    # pysbd returns "E♭" as "E:"; its own lookup then missed the sentence and the cuts fell mid-word.
    text = (
        "The band calls for the E♭ alto saxophone and the B♭ tenor saxophone. "
        "It includes two altos and one tenor. The B♭ soprano is rarely used."
    )
    assert [s.text for s in split_sentences("a1", text, "en")] == [
        "The band calls for the E♭ alto saxophone and the B♭ tenor saxophone.",
        "It includes two altos and one tenor.",
        "The B♭ soprano is rarely used.",
    ]


def test_a_long_korean_line_is_given_to_kiwi_in_windows(monkeypatch):
    """Kiwi's time grows faster than its input's length, so a long line goes to it in windows."""
    kiwi = sentences_module._kiwi()
    lengths = []

    class Recording:
        def split_into_sents(self, text):
            lengths.append(len(text))
            return kiwi.split_into_sents(text)

    monkeypatch.setattr(sentences_module, "_kiwi", Recording)
    line = KOREAN.replace("\n\n", " ")
    text = " ".join([line] * 100)
    sentences = split_sentences("a1", text, "ko")
    assert len(text) > 4 * sentences_module._WINDOW
    assert max(lengths) <= sentences_module._WINDOW
    assert_well_formed(text, sentences)
    assert [s.text for s in sentences] == [s.text for s in split_sentences("a1", line, "ko")] * 100


def test_repeated_sentences_get_their_own_offsets():
    text = "Same sentence. Same sentence. Same sentence."
    sentences = split_sentences("a1", text, "en")
    assert [(s.start, s.end) for s in sentences] == [(0, 14), (15, 29), (30, 44)]


def test_non_string_text_raises_ingest_error():
    with pytest.raises(IngestError, match="a1: article text must be a string"):
        split_sentences("a1", None, "en")  # type: ignore[arg-type]


def test_splitting_is_deterministic():
    text = (ARTICLES / "korea-herald-2023-yoon-mattarella-summit.txt").read_text(encoding="utf-8")
    assert split_sentences("a1", text, "en") == split_sentences("a1", text, "en")


def test_english_sentences_inside_korean_text_are_split_but_korean_dates_are_not():
    text = "회담이 시작됐다. The talks began. It went on. 회담은 2026. 1. 19. 열렸다."
    assert [s.text for s in split_sentences("a1", text, "ko")] == [
        "회담이 시작됐다.",
        "The talks began.",
        "It went on.",
        "회담은 2026. 1. 19. 열렸다.",
    ]


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("Martin Luther", True),
        ("Sky (United Kingdom)", True),
        ("Black Death\n", True),
        ("Luther left.", False),  # a short sentence still ends like one
        ("S. Korea, Italy agree to boost future-oriented cooperation", False),  # a news headline
        ("양국은 협력을 강화했다.", False),
    ],
)
def test_titles_and_headings_are_told_from_sentences(text, heading):
    assert is_heading(text) is heading
    assert can_answer(text) is not heading


def test_a_reference_without_letters_is_never_an_answer():
    assert not can_answer(":133–134:38-1–38-11") and not can_answer("(1856–1943)")
    assert can_answer("It cost $12.6 billion in 2024.")
