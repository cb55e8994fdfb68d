"""rag.index.language: language of articles and of short questions; dominant script of a line."""

from __future__ import annotations

from collections import Counter

import pytest

import rag.index.language as language
from rag.config import PROJECT_DIR
from rag.index.clean import clean_text
from rag.index.language import (
    LANGUAGES,
    _detector,
    char_script,
    detect_language,
    dominant_script,
    script_counts,
)

ARTICLES = PROJECT_DIR / "articles"


@pytest.mark.parametrize(
    "name, lang",
    [
        ("korea-herald-2023-yoon-mattarella-summit.txt", "en"),
        ("2026-01-lee-meloni-industrial-cooperation.txt", "en"),
        ("2026-01-19-yonhap-lee-meloni-trade.txt", "en"),
        ("2026-01-19-gipfeltreffen-lee-meloni.de.txt", "de"),
        ("2026-01-19-ajp-lee-meloni-mous.txt", "en"),
    ],
)
def test_language_of_each_seed(name, lang):
    raw = (ARTICLES / name).read_text(encoding="utf-8")
    assert detect_language(raw) == lang
    assert detect_language(clean_text(raw)) == lang


@pytest.mark.parametrize(
    "question",
    [
        "Who is Meloni?",
        "Who is Giorgia Meloni?",
        "When did Lee and Meloni meet?",
        "Which MOUs were signed?",
        "Did Mattarella visit Korea?",
        "How big was the trade volume in 2024?",
    ],
)
def test_short_english_questions(question):
    assert detect_language(question) == "en"


@pytest.mark.parametrize(
    "question",
    [
        "Wer ist Meloni?",
        "Wer ist Giorgia Meloni?",
        "Wann trafen sich Lee und Meloni?",
        "Wann kam Meloni an?",
        "Welche MOUs wurden unterzeichnet?",
        "Wie hoch war das Handelsvolumen 2024?",
    ],
)
def test_short_german_questions_despite_italian_names(question):
    assert detect_language(question) == "de"


@pytest.mark.parametrize(
    "question",
    ["멜로니는 누구인가요?", "이재명 대통령과 멜로니 총리는 언제 만났나요?", "교역 규모는?", "MOU는 몇 건?"],
)
def test_short_korean_questions(question):
    assert detect_language(question) == "ko"


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Le président a rencontré la Première ministre italienne à Séoul lundi.", "fr"),
        ("Il presidente ha incontrato la premier a Seul lunedì per discutere di commercio.", "it"),
        ("首脳会談はソウルで開かれ、両首脳は協力の強化で合意した。", "ja"),
        ("两国领导人在首尔举行会谈，同意加强合作。", "zh"),
    ],
)
def test_other_languages_of_the_detector(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "   ", "?!", "12345 678", "ab", "—— …"])
def test_too_short_or_letterless_text_is_undetermined(text):
    assert detect_language(text) == "und"


def test_long_text_is_detected():
    text = (ARTICLES / "2026-01-19-gipfeltreffen-lee-meloni.de.txt").read_text(encoding="utf-8") * 200
    assert detect_language(text) == "de"


def test_detector_is_built_once_and_restricted():
    assert _detector() is _detector() and _detector(fast=True) is _detector(fast=True)
    assert {"en", "de", "ko"} <= set(LANGUAGES)


def _detectors_used(monkeypatch) -> list[bool]:
    """Which of lingua's detectors ``detect_language`` asks (True: the fast one), recorded."""
    used: list[bool] = []
    real = language._detector

    def recording(fast: bool = False):
        used.append(fast)
        return real(fast)

    monkeypatch.setattr(language, "_detector", recording)
    return used


def test_a_text_the_fast_detector_is_sure_of_never_loads_the_full_models(monkeypatch):
    used = _detectors_used(monkeypatch)
    assert detect_language("How many memorandums of understanding were signed at the summit?") == "en"
    assert used == [True]


@pytest.mark.parametrize(
    "question, lang",
    [("Wozu lud Meloni Präsident Lee ein?", "de"), ("Who is the third riches man in America?", "en")],
)
def test_a_question_the_fast_detector_is_unsure_of_goes_to_the_full_models(monkeypatch, question, lang):
    # the fast models alone say "es" and "de" here (eval/NOTES.md, "Language detection in two steps")
    used = _detectors_used(monkeypatch)
    assert detect_language(question) == lang
    assert used == [True, False]


def test_detect_language_rejects_non_strings():
    with pytest.raises(TypeError):
        detect_language(None)  # type: ignore[arg-type]


def test_script_counts_look_up_each_distinct_character_once(monkeypatch):
    looked_up = []
    monkeypatch.setattr(language, "char_script", lambda ch: looked_up.append(ch) or char_script(ch))
    assert script_counts("Seoul 서울, " * 1000) == Counter({"Latin": 5000, "Hangul": 2000})
    assert sorted(looked_up) == sorted(set("Seoul 서울, "))


def test_dominant_script_tie_goes_to_the_script_seen_first():
    assert dominant_script("ab 서울") == "Latin" and dominant_script("서울 ab") == "Hangul"


@pytest.mark.parametrize(
    "text, script",
    [
        ("Back To Top", "Latin"),
        ("Präsident Lee", "Latin"),
        ("기사 이미지 확대 보기", "Hangul"),
        ("지나쌤", "Hangul"),
        ("漢字", "Han"),
        ("Поделиться", "Cyrillic"),
        ("ひらがなの文", "Hiragana"),
        ("シェアする", "Katakana"),
        ("Ελλάδα", "Greek"),
        ("Ｆｕｌｌｗｉｄｔｈ", "Latin"),
        ("Seoul 서울시청", "Latin"),  # 5 Latin letters beat 4 Hangul
        ("", ""),
        ("12345 !?", ""),
    ],
)
def test_dominant_script(text, script):
    assert dominant_script(text) == script
