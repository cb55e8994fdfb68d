"""The question side read once: a ``Query`` (text, language, conversation context) per question.

    query = Query.build("When did she arrive?", history=["Who visited Seoul in January 2026?"])
    query.text, query.language, query.context     # 'When did she arrive?', 'en', 'Who visited ...'

``Query.build`` cleans the question (control characters removed, whitespace collapsed; empty,
longer than :data:`MAX_QUESTION_CHARS` or without a letter or digit raises ``QuestionError``), checks
the conversation history (a list of at most :data:`MAX_HISTORY` earlier questions, each text no
longer than a question), decides whether it is a follow-up (few content words, or a pronoun such as
"she", "er", "그녀") and detects its language, once; the pipeline passes the ``Query`` on to
retrieval and reading. These are the rules for every way in: ``rag ask``, the chat and its ``/ask``
API.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rag.errors import QuestionError
from rag.index.language import detect_language
from rag.query.lexical import stopwords, tokens_of

__all__ = [
    "HISTORY_TURNS",
    "MAX_HISTORY",
    "MAX_QUESTION_CHARS",
    "Query",
    "check_history",
    "clean_question",
    "followup_context",
    "has_words",
    "is_followup",
]

MAX_QUESTION_CHARS = 2000
HISTORY_TURNS = 5  # the earlier questions read for a follow-up's context (the chat sends these)
MAX_HISTORY = 20  # the earlier questions accepted with one question; more is refused
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
    text = _clean(question, "the question")
    if not text:
        raise QuestionError("the question is empty")
    return text


def _clean(text: object, what: str) -> str:
    """``text`` cleaned ("" when nothing is left); ``QuestionError`` naming ``what`` for a
    non-string or a text longer than :data:`MAX_QUESTION_CHARS` characters."""
    if not isinstance(text, str):
        raise QuestionError(f"{what} must be text, got {type(text).__name__}")
    if len(text) > 4 * MAX_QUESTION_CHARS:  # do not even clean a huge paste
        raise QuestionError(
            f"{what} is too long ({len(text):,} characters); the limit is {MAX_QUESTION_CHARS:,}"
        )
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r" or cat == "Zs":
            kept.append(" ")
        elif cat[0] == "C":
            continue  # control, format, surrogate, private-use and unassigned characters
        else:
            kept.append(ch)
    cleaned = _SPACE.sub(" ", "".join(kept)).strip()
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"{what} is too long ({len(cleaned):,} characters); the limit is {MAX_QUESTION_CHARS:,}"
        )
    return cleaned


def has_words(text: str) -> bool:
    """Whether ``text`` has a letter or a digit, in any script.

    >>> has_words("Wer kam?"), has_words("몇 건?"), has_words("1956"), has_words("🙂 ???")
    (True, True, True, False)
    """
    return any(ch.isalnum() for ch in text)


def check_history(history: object) -> tuple[str, ...]:
    """The conversation's earlier questions, checked: a list (or tuple) of at most
    :data:`MAX_HISTORY` texts, each no longer than a question (blank ones are allowed and skipped
    later). Anything else raises ``QuestionError`` saying what is allowed.

    >>> check_history(["Who visited Seoul?"])
    ('Who visited Seoul?',)
    """
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise QuestionError(
            "history must be a list of the conversation's earlier questions (texts), "
            f"got {type(history).__name__} {history!r:.60}"
        )
    if len(history) > MAX_HISTORY:
        raise QuestionError(
            f"history has {len(history):,} questions; at most {MAX_HISTORY} are accepted and only "
            f"the last {HISTORY_TURNS} are read: send the most recent ones"
        )
    for i, item in enumerate(history):
        _clean(item, f"history[{i}] (an earlier question)")
    return tuple(history)


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


@dataclass(frozen=True)
class Query:
    """A question as the pipeline reads it: cleaned text, its language ("und" when unknown) and
    the earlier question(s) it leans on (None when it stands alone)."""

    text: str
    language: str
    context: str | None = None

    @classmethod
    def build(cls, question: object, history: Sequence[object] = ()) -> Query:
        """Clean and check ``question`` and ``history`` (``QuestionError`` says what is wrong), read
        the question's context from the last :data:`HISTORY_TURNS` of the history, and its language."""
        text = clean_question(question)
        if not has_words(text):
            raise QuestionError(
                f"the question {text[:40]!r} has no words (no letter or digit): "
                "ask in words, e.g. 'Who visited Seoul in January 2026?'"
            )
        recent = check_history(history)[-HISTORY_TURNS:]  # a follow-up leans on at most two of them
        return cls(text, detect_language(text), followup_context(text, recent))
