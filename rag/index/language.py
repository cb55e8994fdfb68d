"""Which language, and which writing system, a piece of text is in.

``detect_language("Wann trafen sich Lee und Meloni?")  -> "de"``
``detect_language("멜로니는 누구인가요?")               -> "ko"``
``detect_language("?!")                                -> "und"``
``dominant_script("기사 이미지 확대 보기")              -> "Hangul"``

Language detection is ``lingua-language-detector`` (bundled models, offline),
restricted to a small set of languages (:data:`LANGUAGES`): fewer candidates
means fewer confusions on short text. The detector is built once, on first use,
and cached.

Shortcuts taken, on purpose:

* Hangul, Hiragana/Katakana, Cyrillic and Han are unambiguous among these languages:
  text written mostly in them is "ko" / "ja" / "ru" / "zh" without asking the model, so
  the model holds only the languages written in Latin letters (:data:`LATIN_LANGUAGES`),
  each loaded when a text first needs it (memory: eval/NOTES.md, "Memory of a question").
* Short text (a question) is dominated by names: "Wer ist Meloni?" looks Italian
  to any character model. For text of at most :data:`SHORT_WORDS` words, the
  capitalised words after the first are left out before detection when at
  least two words remain ("Wer ist"). German nouns are capitalised too; the
  function words that remain are what tells languages apart anyway.
* Long text is judged on its first :data:`MAX_CHARS` characters.
* "und" (undetermined) when the text has fewer than :data:`MIN_LETTERS`
  letters or lingua cannot decide.

``dominant_script`` counts letters per Unicode script using the character
names from ``unicodedata`` (no third-party script database); ``rag.index.clean``
uses it to spot interface strings in another script than the article.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from functools import lru_cache

LOG = logging.getLogger(__name__)

# ISO 639-1 codes of the languages reported: Korean, Japanese, Chinese and Russian by their
# script, the others (written in Latin letters) by the detector.
LANGUAGES = ("en", "de", "ko", "fr", "it", "es", "ja", "zh", "ru")
LATIN_LANGUAGES = ("en", "de", "fr", "it", "es")
MIN_LETTERS = 3
SHORT_WORDS = 12
MAX_CHARS = 4000
# lingua's trigram models load in 0.1 s, all its models in about 1.4 s; the fast answer is taken
# when it is this sure (eval/NOTES.md, "Language detection in two steps").
FAST_CONFIDENCE = 0.99

# Script names as in Unicode character names -> the name we report.
_SCRIPT_WORDS = {
    "LATIN": "Latin",
    "HANGUL": "Hangul",
    "CJK": "Han",
    "HIRAGANA": "Hiragana",
    "KATAKANA": "Katakana",
    "CYRILLIC": "Cyrillic",
    "GREEK": "Greek",
    "ARABIC": "Arabic",
    "HEBREW": "Hebrew",
    "DEVANAGARI": "Devanagari",
    "THAI": "Thai",
    "ARMENIAN": "Armenian",
    "GEORGIAN": "Georgian",
    "BENGALI": "Bengali",
    "TAMIL": "Tamil",
    "ETHIOPIC": "Ethiopic",
}


@lru_cache(maxsize=4096)
def char_script(ch: str) -> str:
    """The script of one letter ("Latin", "Hangul", "Han", ...), "Other" for an
    unnamed script and "" for anything that is not a letter (digits, punctuation, spaces)."""
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    for word in name.split()[:3]:  # "FULLWIDTH LATIN CAPITAL LETTER A", "HALFWIDTH KATAKANA ..."
        if word in _SCRIPT_WORDS:
            return _SCRIPT_WORDS[word]
    if name.startswith("CJK") or "IDEOGRAPH" in name:
        return "Han"
    return "Other"


def script_counts(text: str) -> Counter[str]:
    """Letters per script: ``script_counts("Seoul 서울") == Counter({"Latin": 5, "Hangul": 2})``."""
    counts: Counter[str] = Counter()
    for ch, n in Counter(text).items():  # each distinct character once, in order of first occurrence
        if script := char_script(ch):
            counts[script] += n
    return counts


def dominant_script(text: str) -> str:
    """The script most of the letters of ``text`` are written in ("Latin", "Hangul",
    "Han", "Hiragana", "Katakana", "Cyrillic", ...), or "" when it has no letters.
    Japanese mixes Han and kana: whichever has more letters wins."""
    counts = script_counts(text)
    if not counts:
        return ""
    return counts.most_common(1)[0][0]


@lru_cache(maxsize=2)
def _detector(fast: bool = False):  # -> lingua.LanguageDetector
    """lingua for :data:`LATIN_LANGUAGES`; ``fast``: its low-accuracy mode (trigram models only)."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in LATIN_LANGUAGES]
    LOG.debug("building the %slanguage detector for %s", "fast " if fast else "", ", ".join(LATIN_LANGUAGES))
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    return (builder.with_low_accuracy_mode() if fast else builder).build()  # models load on first use


def _latin_language(sample: str):  # -> lingua.Language | None
    """The fast detector's language when it is at least :data:`FAST_CONFIDENCE` sure, else the full
    detector's (eval/NOTES.md, "Language detection in two steps")."""
    values = _detector(fast=True).compute_language_confidence_values(sample)
    if values and values[0].value >= FAST_CONFIDENCE:
        return values[0].language
    return _detector().detect_language_of(sample)


def _without_names(text: str) -> str:
    """Drop capitalised words after the first, if at least two words remain."""
    words = text.split()
    kept = words[:1] + [w for w in words[1:] if not w[:1].isupper()]
    return " ".join(kept) if len(kept) >= 2 else text


def detect_language(text: str) -> str:
    """ISO 639-1 code of the language of ``text`` ("en", "de", "ko", ...), or "und"
    when the text is too short or the detector cannot tell."""
    if not isinstance(text, str):
        raise TypeError(f"detect_language expects a str, got {type(text).__name__}")
    sample = text[:MAX_CHARS]
    counts = script_counts(sample)
    letters = sum(counts.values())
    if letters == 0:
        return "und"
    script = counts.most_common(1)[0][0]
    if script == "Hangul" or 0 < counts["Latin"] <= counts["Hangul"]:  # "MOU는 몇 건?"
        return "ko"
    if script in ("Hiragana", "Katakana") or (counts["Hiragana"] + counts["Katakana"]) * 5 >= letters:
        return "ja"
    if letters < MIN_LETTERS:
        return "und"
    if script in ("Cyrillic", "Han"):
        return "ru" if script == "Cyrillic" else "zh"
    if script != "Latin":
        return "und"  # Arabic, Thai, ...: none of LANGUAGES
    if script == "Latin" and len(sample.split()) <= SHORT_WORDS:
        sample = _without_names(sample)
    found = _latin_language(sample)
    if found is None:
        return "und"
    return found.iso_code_639_1.name.lower()
