"""The question side read once: a ``Query`` (text, language, conversation context) per question.

    query = Query.build("When did she arrive?", history=["Who visited Seoul in January 2026?"])
    query.text, query.language, query.context     # 'When did she arrive?', 'en', 'Who visited ...'

``Query.build`` cleans the question (control characters removed, whitespace collapsed; empty or
longer than :data:`MAX_QUESTION_CHARS` raises ``QuestionError``), decides whether it is a
follow-up (few content words, or a pronoun such as "she", "er", "그녀") and detects its language,
once; the pipeline passes the ``Query`` on to retrieval and reading.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rag.errors import QuestionError
from rag.index.language import detect_language
from rag.query.lexical import stopwords, tokens_of

__all__ = ["MAX_QUESTION_CHARS", "Query", "clean_question", "followup_context", "is_followup"]

MAX_QUESTION_CHARS = 2000
FOLLOWUP_MAX_WORDS = 2

_PRONOUNS = frozenset({
    "he", "she", "it", "they", "him", "her", "them", "his", "hers", "its", "their", "theirs", "this", "that",
    "these", "those", "there", "then",
    "er", "sie", "es", "ihn", "ihm", "ihr", "ihnen", "sein", "seine", "seinen", "ihre", "ihren",
    "dort", "damals",
    "dies", "diese", "dieser", "dieses",
    "그", "그녀", "그들", "그것", "이것", "거기", "당시", "그곳",
})  # fmt: skip
_KOREAN_PRONOUNS = (
    "그녀",
    "그들",
    "그것",
    "그곳",
    "이것",
    "거기",
    "당시",
)  # particles follow: 그녀는, 그들이
_SPACE = re.compile(r"\s+")


def clean_question(question: object) -> str:
    """The question with control characters removed and whitespace collapsed.

    Raises ``QuestionError`` for a non-string, an empty question or one longer than
    :data:`MAX_QUESTION_CHARS` characters.

    >>> clean_question("  Who\\x00 visited\\n Seoul? ")
    'Who visited Seoul?'
    """
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, got {type(question).__name__}")
    if len(question) > 4 * MAX_QUESTION_CHARS:  # do not even clean a huge paste
        raise QuestionError(
            f"the question is too long ({len(question):,} characters); the limit is {MAX_QUESTION_CHARS:,}"
        )
    kept = []
    for ch in question:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r" or cat == "Zs":
            kept.append(" ")
        elif cat[0] == "C":
            continue  # control, format, surrogate, private-use and unassigned characters
        else:
            kept.append(ch)
    text = _SPACE.sub(" ", "".join(kept)).strip()
    if not text:
        raise QuestionError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is too long ({len(text):,} characters); the limit is {MAX_QUESTION_CHARS:,}"
        )
    return text


def _content_words(text: str) -> list[str]:
    stop = stopwords("en") | stopwords("de")
    return [
        t.word for t in tokens_of(text, "und", korean=False) if t.word not in stop and t.word not in _PRONOUNS
    ]


def is_followup(question: str) -> bool:
    """Whether a question needs the conversation to be understood: few content words, or a pronoun.

    >>> is_followup("When did she arrive?"), is_followup("Who visited Seoul in January 2026?")
    (True, False)
    """
    words = [w.casefold() for w in re.findall(r"\w+", question)]
    if any(w in _PRONOUNS or w.startswith(_KOREAN_PRONOUNS) for w in words):
        return True
    return len(_content_words(question)) <= FOLLOWUP_MAX_WORDS


def followup_context(question: str, history: Sequence[str]) -> str | None:
    """The earlier question(s) a follow-up leans on, or None when the question stands alone.

    >>> followup_context("When did she arrive?", ["Who visited Seoul in January 2026?"])
    'Who visited Seoul in January 2026?'
    """
    if not history or not is_followup(question):
        return None
    picked: list[str] = []
    for previous in reversed(history):
        try:
            text = clean_question(previous)
        except QuestionError:
            continue
        picked.insert(0, text)
        if len(picked) == 2 or not is_followup(text):
            break
    return " ".join(picked) or None


MAX_HISTORY = 20  # earlier questions looked at: more cannot change a follow-up's context


@dataclass(frozen=True)
class Query:
    """A question as the pipeline reads it: cleaned text, its language ("und" when unknown) and
    the earlier question(s) it leans on (None when it stands alone)."""

    text: str
    language: str
    context: str | None = None

    @classmethod
    def build(cls, question: object, history: Sequence[object] = ()) -> Query:
        """Clean and check ``question``, read its context from ``history`` and its language."""
        text = clean_question(question)
        if isinstance(history, str | bytes) or not isinstance(history, Sequence):
            raise QuestionError(
                f"the conversation history must be a list of earlier questions, got {history!r:.60}"
            )
        recent = history[-MAX_HISTORY:]  # a follow-up leans on at most the two questions before it
        context = followup_context(text, [h for h in recent if isinstance(h, str)])
        return cls(text, detect_language(text), context)
