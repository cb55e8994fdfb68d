"""The question side read once: a ``Query`` (text, language, conversation context) per question.

    query = Query.build("When did she arrive?", history=["Who visited Seoul in January 2026?"])
    query.text, query.language, query.context     # 'When did she arrive?', 'en', 'Who visited ...'

``Query.build`` cleans the question (control characters removed, whitespace collapsed; empty,
longer than :data:`MAX_QUESTION_CHARS` or without a letter or digit raises ``QuestionError``), checks
the conversation history (a list of at most :data:`MAX_HISTORY` earlier questions, each text no
longer than a question), decides whether it is a follow-up (:func:`followup_reason`: a pronoun or
demonstrative that refers back, an elliptic question, or no content word of its own; a question that
names its own subject stands alone, however short) and detects its language, once; the pipeline
passes the ``Query`` on to retrieval and reading. Only a follow-up's ``context`` carries the
conversation into an answer. These are the rules for every way in: ``rag ask``, the chat and its
``/ask`` API.
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
    "followup_reason",
    "has_words",
    "is_followup",
]

MAX_QUESTION_CHARS = 2000
HISTORY_TURNS = 5  # the earlier questions read for a follow-up's context (the chat sends these)
MAX_HISTORY = 20  # the earlier questions accepted with one question; more is refused
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


# --- follow-ups --------------------------------------------------------------------------------------
#
# A question leans back on the conversation (is a follow-up) when it has
# 1. a pronoun or demonstrative that refers back: "she", "they", "there" (a place), "that day", "er",
#    "dort", "dabei", "그녀", "그곳", "그 회담";
# 2. an elliptic form: it opens with "and", "what about", "und", "was ist mit", "그럼", or is a Korean
#    "X는?" without a predicate;
# 3. no content word of its own ("Why?", "Und wann?", "왜?"); in Korean, which leaves out the
#    subject instead of writing a pronoun, no noun argument ("언제 도착했나요?").
# Anything else names its own subject and stands alone, however short ("What is the population of
# Seoul?"). Words that only look like references are told apart by their neighbours: "there is",
# "is there", "how many ... were there" (existential); "that" as a conjunction or relative ("said that
# Korea ...", "agreements that ...") against "that" ending the question, after a preposition or a
# form of "be" ("on that day", "was that ...") or before a noun of events and times ("that summit");
# "this year" (now, not back); "it" before "that"/"to" ("is it true that ..."); "es gibt", formal "Sie".
# A pronoun whose antecedent is a name earlier in the same question, across a clause word ("Did Meloni
# say that she ...", "Hat Meloni gesagt, dass sie ...") is bound there and stands alone; a possessive
# needs no clause word ("When did Meloni start her visit?"). German capitalises every noun, so there any
# noun before the pronoun counts as its antecedent.

_PERSONAL = frozenset({
    "he", "she", "him", "her", "his", "hers", "they", "them", "their", "theirs", "it", "its",
    "er", "es", "ihn", "ihm", "sie", "ihr", "ihre", "ihren", "ihrem", "ihrer", "ihres", "ihnen",
    "seine", "seinen", "seinem", "seiner", "seines",
})  # fmt: skip
_POSSESSIVE = frozenset({
    "his", "its", "their", "seine", "seinen", "seinem", "seiner", "seines", "ihre", "ihren", "ihrem", "ihrer",
    "ihres",
})  # fmt: skip
_BACK_ALWAYS = frozenset({
    "then", "latter", "dort", "dorthin", "damals", "dann", "dabei", "dafür", "dagegen", "danach", "davon",
    "dazu", "darüber", "daran", "darauf", "davor", "darin", "jene", "jener", "jenes", "jenem", "jenen",
})  # fmt: skip
_THIS = frozenset({"this", "these", "dies", "diese", "dieser", "dieses", "diesem", "diesen"})
_NOW_WORDS = frozenset({
    "year", "week", "month", "morning", "afternoon", "evening", "weekend", "spring", "summer", "autumn",
    "fall", "winter", "season", "quarter", "days",
    "jahr", "jahres", "woche", "monat", "monats", "wochenende", "morgen", "abend", "sommer",
    "frühling", "herbst", "quartal", "tage",
})  # fmt: skip
_EVENT_NOUNS = frozenset({
    "day", "date", "year", "month", "week", "time", "moment", "meeting", "summit", "visit", "trip", "talk",
    "talks", "agreement", "agreements", "deal", "event", "speech", "statement", "decision", "plan", "treaty",
    "announcement", "conference", "country", "city", "company", "person", "man", "woman", "leader",
    "article", "report", "place", "one", "case", "mou", "memorandum",
})  # fmt: skip
_PREPOSITIONS = frozenset({
    "in", "on", "at", "after", "before", "since", "during", "from", "about", "of", "by", "with", "for",
    "to", "until", "like", "than",
    "für", "über", "mit", "bei", "von", "nach", "zu", "gegen", "um", "an", "auf", "seit", "vor", "während",
})  # fmt: skip
_BE = frozenset({
    "is", "are", "was", "were", "be", "been", "being", "will", "would", "could", "can", "should", "might",
    "may", "must", "has", "have", "had", "does", "do", "did", "s", "seems", "seemed",
})  # fmt: skip
_ASKING = frozenset({"what", "who", "why", "how", "when", "where", "which", "whom"})
_CLAUSE_WORDS = frozenset({"that", "whether", "if", "who", "which", "whom", "dass", "ob", "als", "wenn", ","})
_EXPLETIVE_AFTER = frozenset({"that", "to", "whether", "dass", "ob", "zu"})
_ES_VERBS = frozenset({"gibt", "gab", "geben", "gäbe", "gegeben", "geht", "ging", "handelt", "handelte"})
_FORMAL = frozenset({"Sie", "Ihr", "Ihre", "Ihren", "Ihrem", "Ihrer", "Ihres", "Ihnen"})
_OPENERS = (
    ("and",), ("but",), ("what", "about"), ("how", "about"), ("what", "else"), ("anything", "else"),
    ("und",), ("aber",), ("was", "ist", "mit"), ("wie", "ist", "es", "mit"), ("wie", "steht", "es", "mit"),
    ("sonst", "noch"), ("was", "noch"),
)  # fmt: skip
_KO_BACK = frozenset({
    "그", "그녀", "그것", "그곳", "거기", "그분", "이것", "이곳", "이들", "저것", "저곳",
    "당시", "그때", "그날",
})  # fmt: skip
_KO_DETERMINERS = frozenset({"그", "이", "저"})  # "그 회담" (that meeting), "이 협정" (this agreement)
_KO_NOUNS = frozenset({"NNG", "NNP", "NR", "SL", "SN", "SH"})
_KO_PREDICATES = frozenset({"VV", "VA", "VX", "VCP", "VCN", "XSV", "XSA", "EF"})
_KO_ASKING = frozenset({"무엇", "누구", "어디", "언제", "얼마", "어느", "몇", "왜"})
_WORD_OR_COMMA = re.compile(r"\w+|,")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _content_words(text: str) -> list[str]:
    """The words of ``text`` that are neither English nor German stop words (Hangul words whole)."""
    stop = stopwords("en") | stopwords("de")
    return [t.word for t in tokens_of(text, "und", korean=False) if t.word not in stop]


def _refers_back(words: list[str], i: int, text_words: list[str]) -> bool:
    """Whether ``words[i]`` (case-folded; ``text_words`` as written) refers back out of the question."""
    w = words[i]
    prev = words[i - 1] if i > 0 else ""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    last = i + 1 == len(words) or nxt == ","
    if w in _BACK_ALWAYS:
        return True
    if w == "da":  # "Wer war da?"; elsewhere a conjunction
        return last
    if w in _THIS:
        return nxt not in _NOW_WORDS
    if w == "those":
        return nxt not in {"who", "which", "that", "whose", "of"}
    if w == "that":
        return last or prev in _PREPOSITIONS or prev in _BE or prev in _ASKING or nxt in _EVENT_NOUNS
    if w == "das":  # "Wer sagte das?", "Was bedeutet das für Italien?"; elsewhere an article or relative
        return last or nxt in _PREPOSITIONS
    if w == "there":
        existential = (
            nxt in _BE or (prev in _BE and not last) or words[:2] in (["how", "many"], ["how", "much"])
        )
        return not existential
    if w in ("it", "es"):
        ahead = words[i + 1 : i + 5]
        if any(a in _EXPLETIVE_AFTER for a in ahead) or (
            w == "es" and (prev in _ES_VERBS or nxt in _ES_VERBS)
        ):
            return False
    if w in _PERSONAL:
        if text_words[i] in _FORMAL and i > 0:  # formal "Sie" / "Ihr": the reader, not a person in the news
            return False
        possessive = w in _POSSESSIVE or (w in ("her", "ihr") and not last and nxt not in _PREPOSITIONS)
        return not _bound(text_words, words, i, possessive)
    return False


def _bound(text_words: list[str], words: list[str], i: int, possessive: bool) -> bool:
    """Whether the pronoun at ``i`` has its antecedent in the question: a name (a capitalised word that
    does not open the question) earlier; for a subject or object pronoun, with a clause word between
    ("Did Meloni say that she ...", "When did Meloni start her visit?")."""
    for j in range(1, i):
        if text_words[j][:1].isupper() and text_words[j] not in _FORMAL and words[j] not in _PERSONAL:
            if possessive or any(words[k] in _CLAUSE_WORDS for k in range(j + 1, i)):
                return True
    return False


def _korean_reason(text: str) -> str | None:
    """Why a question with Hangul leans back (Kiwi morphemes), or None."""
    from rag.query.lexical import _kiwi

    tokens = [t for t in _kiwi().tokenize(text) if not t.tag.startswith("S") or t.tag in _KO_NOUNS]
    if not tokens:
        return None
    if tokens[0].tag == "MAJ":  # 그럼, 그러면, 그리고, 그래서: "and then"
        return f"elliptic: opens with {tokens[0].form!r}"
    for k, t in enumerate(tokens):
        if t.tag in ("NP", "NNG") and t.form in _KO_BACK:
            plural = k + 1 < len(tokens) and tokens[k + 1].tag == "XSN"  # 그들: 그 and the plural 들
            return f"refers back: {text[t.start : tokens[k + 1].end if plural else t.end]!r}"
        if t.tag == "MM" and t.form in _KO_DETERMINERS and k + 1 < len(tokens):
            return f"refers back: {text[t.start : tokens[k + 1].end]!r}"
    predicate = any(t.tag in _KO_PREDICATES for t in tokens)
    if not predicate and tokens[-1].tag == "JX" and tokens[-1].form in ("은", "는"):
        return "elliptic: a topic without a predicate ('X는?')"
    arguments = [
        t.form
        for k, t in enumerate(tokens)
        if t.tag in _KO_NOUNS
        and t.form not in _KO_ASKING
        and not (k + 1 < len(tokens) and tokens[k + 1].tag in ("XSV", "XSA"))  # 도착(하다): the predicate
    ]
    return None if arguments else "no subject or object of its own"


def followup_reason(question: str) -> str | None:
    """Why a question needs the conversation to be understood, or None when it stands alone: it
    names its own subject.

    >>> followup_reason("When did she arrive?")
    "refers back: 'she'"
    >>> followup_reason("What is the population of Seoul?") is None
    True
    """
    text_words = _WORD_OR_COMMA.findall(question)
    words = [w.casefold() for w in text_words]
    plain = [w for w in words if w != ","]
    for opener in _OPENERS:
        if tuple(plain[: len(opener)]) == opener:
            return f"elliptic: opens with {' '.join(opener)!r}"
    for i, w in enumerate(words):
        if w != "," and _refers_back(words, i, text_words):
            return f"refers back: {text_words[i]!r}"
    if _HANGUL.search(question):  # Korean leaves the subject out where English writes a pronoun
        return _korean_reason(question)
    if not _content_words(question):
        return "no content word of its own"
    return None


def is_followup(question: str) -> bool:
    """Whether a question leans back on the conversation (:func:`followup_reason`).

    >>> is_followup("When did she arrive?"), is_followup("What is the population of Seoul?")
    (True, False)
    """
    return followup_reason(question) is not None


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
