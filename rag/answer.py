"""Extractive answers: pick the sentence(s) that answer a question, a short answer inside them,
and build citations that quote the article exactly.

    qtype = question_type("How many memoranda were signed?")       -> "number"
    spans = typed_spans("They signed three memoranda in 2026.", "number")   -> [(11, 16, 'three')]
    cite(article, start, end)   -> Citation with quote == article.text[start:end] (asserted)

Sentence selection scores every sentence of the 4 best retrieved chunks with a
linear combination of features (:data:`SENTENCE_WEIGHTS`, fitted on XQuAD with
2-fold cross-validation by article; the measurements are in the comment there):

* ``dense``: cosine of the question and the sentence (vectors precomputed at index time);
* ``lexical_rel``: idf-weighted share of the question's terms that the sentence contains
  (the question read in the sentence's language, ``rag.lexical``), times how much lexical
  evidence means for this question (near 0 across languages);
* ``context``: the share the two neighbouring sentences add (SQuAD-style questions
  often take a word from the sentence before);
* ``type``: for typed questions (who/when/where/how many/how much, in English, German
  and Korean; not which/welche, see :data:`TYPE_SCORED`), +1 when the sentence holds a
  phrase of the expected kind that is not already in the question, -1 when it holds none;
* ``passage`` / ``top``: the fused retrieval score of the sentence's chunk minus the
  best chunk's, and whether it is in the best chunk (or one within :data:`TOP_RAMP` of it).

The answer is the best sentence, with its neighbour when the two cannot be told
apart (:func:`choose_sentences`).

Short answers are rule-based (no reader model exists offline, see MODELS.md): the
phrase of the expected kind (number with its unit or multiplier, date, capitalised
name) nearest to the question's words in the sentence, leaving out phrases the
question already contains. German capitalises every noun, so a capitalised word
right after an article (der/die/das/ein...) is not taken for a name. For Korean only
numbers and dates are found.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.retrieve import Ranked, Retriever
from rag.store import Index
from rag.types import Article, Citation, Span

LOG = logging.getLogger(__name__)


# --- citations --------------------------------------------------------------------------------------


def cite(article: Article, start: int, end: int) -> Citation:
    """The one place citations are made: the quote is sliced from the article text.

    >>> a = Article(id="a1", location="a.txt", title="T", text="Hello there. Bye.", language="en")
    >>> cite(a, 0, 12).quote
    'Hello there.'
    """
    if not 0 <= start < end <= len(article.text):
        raise ValueError(
            f"citation offsets {start}-{end} are outside article {article.id} ({len(article.text)} chars)"
        )
    quote = article.text[start:end]
    citation = Citation(
        article_id=article.id,
        title=article.title,
        location=article.location,
        start=start,
        end=end,
        quote=quote,
        source=article.source,
        published=article.published,
        language=article.language,
        url=article.url,
    )
    assert citation.quote == article.text[citation.start : citation.end]
    return citation


# --- question types ---------------------------------------------------------------------------------

NUMBER, DATE, PERSON, PLACE, ENTITY, OTHER = "number", "date", "person", "place", "entity", "other"
TYPED = frozenset({NUMBER, DATE, PERSON, PLACE, ENTITY})

_TIME_NOUNS_EN = r"(?:year|years|century|decade|month|day|date|period|time|era|season)"
_TIME_NOUNS_DE = r"(?:jahr|jahren|jahres|jahrhundert|jahrzehnt|monat|tag|datum|zeitraum|zeitpunkt|epoche)"
_PERSON_NOUNS_EN = (
    r"(?:president|prime minister|minister|chancellor|leader|king|queen|emperor|pope|person|man|woman)"
)
_PERSON_NOUNS_DE = (
    r"(?:präsident(?:in)?|premierminister(?:in)?|minister(?:in)?|kanzler(?:in)?|person|könig(?:in)?)"
)
_PLACE_NOUNS_EN = r"(?:country|countries|city|cities|town|state|region|continent|island|nation)"
_PLACE_NOUNS_DE = r"(?:land|länder|stadt|städte|staat|region|ort|kontinent|insel)"
_QTYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (DATE, re.compile(
        rf"\b(?:what|which)\s+(?:\w+\s+)?{_TIME_NOUNS_EN}\b|\bwhen\b"
        rf"|\bwelche[mnrs]?\s+(?:\w+\s+)?{_TIME_NOUNS_DE}\b|\bwann\b|\bseit wann\b"
        r"|언제|몇\s*년(?:도|에)|몇\s*월|며칠|무슨\s*요일|어느\s*해")),
    (NUMBER, re.compile(
        r"\bhow\s+(?:many|much|long|old|far|large|big|high|tall|wide|deep|often|fast)\b"
        r"|\bwhat\s+(?:is|was|were|are)\s+the\s+(?:\w+\s+)?(?:population|number|amount|percentage|share|size|cost|price|total)\b"
        r"|\bwhat\s+(?:percentage|percent|proportion|fraction|number|amount)\b"
        r"|\bwie\s+(?:viele?|hoch|lange?|alt|weit|groß|gross|oft|teuer)\b|\bwieviele?\b"
        r"|몇|얼마")),
    (PERSON, re.compile(
        r"\bwho(?:m|se)?\b|\bwer\b|\bwe[mn]\b|\bwessen\b|누가|누구"
        rf"|\b(?:which|what)\s+(?:\w+\s+)?{_PERSON_NOUNS_EN}\b|\bwelche[mnrs]?\s+(?:\w+\s+)?{_PERSON_NOUNS_DE}\b")),
    (PLACE, re.compile(
        r"\bwhere\b|\bwo(?:hin|her)?\b|어디"
        rf"|\b(?:which|what)\s+(?:\w+\s+)?{_PLACE_NOUNS_EN}\b|\bwelche[mnrs]?\s+(?:\w+\s+)?{_PLACE_NOUNS_DE}\b"
        r"|어느\s*(?:나라|도시|국가|지역)")),
    (ENTITY, re.compile(r"\bwhich\b|\bwhat\s+[a-z]+\s+(?:did|does|do|was|is|were|are|has|had|will)\b"
                        r"|\bwelche[mnrs]?\b|어느|무슨")),
)  # fmt: skip


def question_type(question: str) -> str:
    """The kind of answer a question asks for: number, date, person, place, entity or other.
    The question word that comes first decides ("How old was he when ..." asks for a number).

    >>> [question_type(q) for q in ("Wann trafen sie sich?", "몇 건이 체결되었나요?", "Why?")]
    ['date', 'number', 'other']
    """
    q = question.casefold()
    best: tuple[int, int, str] | None = None
    for rank, (qtype, pattern) in enumerate(_QTYPE_RULES):
        m = pattern.search(q)
        if m and (best is None or (m.start(), rank) < best[:2]):
            best = (m.start(), rank, qtype)
    return best[2] if best else OTHER


# --- typed phrases ----------------------------------------------------------------------------------

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|januar|jänner|februar|märz|mai|juni|juli|oktober|dezember"
)
_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    "|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    "|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand"
    "|dozen|dozens|hundreds|thousands|millions|half|once|twice|thrice|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
    "|eins|ein|eine|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|dreißig|hundert|tausend"
    "|erste|zweite|dritte|vierte|fünfte|halb|halbe"
)
_MULTIPLIERS = (
    r"(?:million|billion|trillion|thousand|hundred|millionen|milliarden|milliarde"
    r"|mio\.|mrd\.|억|만|조|천)"
)
_UNIT_SUFFIX = (
    r"(?:day|days|year|years|week|weeks|month|months|hour|hours|minute|minutes"
    r"|largest|biggest|tägig|jährig)\b"
)
_DIGITS = r"\d{1,3}(?:[,.\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_NUMBER_RE = re.compile(
    r"\b\d{1,2}:\d{2}\b|"
    rf"(?:[$€£¥₩]\s?|(?:US|EUR|USD)\$?\s?)?(?:{_DIGITS})(?:\s?(?:%|percent|per cent|prozent))?"
    rf"(?:\s?{_MULTIPLIERS})?(?:\s?(?:%|percent|prozent|dollars?|euros?|euro|달러|원|명|개|건|개국|년|위|배))?"
    rf"(?:-{_UNIT_SUFFIX})?"
    rf"|\b(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*(?:\s{_MULTIPLIERS})?(?:-{_UNIT_SUFFIX})?\b",
    re.IGNORECASE,
)
_DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}\.?\s)?(?:{_MONTHS})(?:\s\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s\d{{4}})?\b"
    rf"|\b(?:{_WEEKDAYS})\b"
    r"|\b(?:1\d{3}|20\d{2})(?:\s?[-–~/]\s?(?:\d{4}|\d{2}))?s?\b"
    r"|\b(?:\d{1,2}(?:st|nd|rd|th)|[a-z]+(?:th|st|nd|rd))[- ]century\b|\b\d{1,2}\.\s?jahrhundert\b"
    r"|\d{4}\s?년(?:\s?\d{1,2}\s?월)?(?:\s?\d{1,2}\s?일)?|\d{1,2}\s?월(?:\s?\d{1,2}\s?일)?",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[^\W\d_][\w'’]*(?:-[\w'’]+)*\.?")
_CONNECTORS = frozenset({
    "of", "de", "da", "del", "della", "di", "von", "van", "der", "den", "du", "la", "le", "al",
    "bin", "y", "&", "and", "for", "the", "und", "für",
})  # fmt: skip
_GERMAN_ARTICLES = frozenset({
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines", "im", "am",
    "zum", "zur", "vom", "beim", "ins", "ihre", "ihren", "seine", "seinen", "kein", "keine",
})  # fmt: skip


# Capitalised words that start sentences but are not names (used when no corpus vocabulary is given).
_STOP_CAPITALS = frozenset({
    "the", "a", "an", "in", "on", "at", "by", "for", "from", "with", "after", "before", "during", "despite",
    "since", "when", "while", "although", "however", "but", "and", "this", "that", "these", "those", "his",
    "her", "its", "their", "it", "he", "she", "they", "we", "i", "as", "of", "to", "also", "other", "both",
    "der", "die", "das", "ein", "eine", "im", "am", "nach", "vor", "während", "seit", "auch",
    "er", "sie", "es",
})  # fmt: skip


@dataclass(frozen=True)
class Phrase:
    """A candidate short answer: offsets into the text it was found in."""

    start: int
    end: int
    text: str
    kind: str


def typed_spans(text: str, qtype: str, language: str = "en") -> list[Phrase]:
    """Phrases of the kind a question type asks for, in text order.

    >>> [p.text for p in typed_spans("Trade rose to $12.6 billion in 2024.", "number")]
    ['$12.6 billion', '2024']
    >>> [p.text for p in typed_spans("President Sergio Mattarella met Yoon Suk Yeol.", "person")]
    ['President Sergio Mattarella', 'Yoon Suk Yeol']
    """
    if qtype == NUMBER:
        return [
            Phrase(m.start(), m.end(), m.group(), NUMBER)
            for m in _NUMBER_RE.finditer(text)
            if m.group().strip()
        ]
    if qtype == DATE:
        return [Phrase(m.start(), m.end(), m.group(), DATE) for m in _DATE_RE.finditer(text)]
    if qtype in (PERSON, PLACE, ENTITY):
        return _names(text, language)
    return []


def _names(text: str, language: str) -> list[Phrase]:
    """Runs of capitalised words (with connectors such as "of", "von" inside), as names."""
    words = []
    for m in _NAME_WORD.finditer(text):
        w = m.group()
        end = m.end()
        if w.endswith(".") and len(w) > 2:  # a full stop, not an initial ("O.")
            end -= 1
        words.append((m.start(), end, text[m.start() : end]))
    out: list[Phrase] = []
    german = language.startswith("de")
    i = 0
    while i < len(words):
        s, e, w = words[i]
        if not w[:1].isupper() or (german and i > 0 and words[i - 1][2].casefold() in _GERMAN_ARTICLES):
            i += 1
            continue
        j = i
        while j + 1 < len(words):
            gap = text[words[j][1] : words[j + 1][0]]
            nxt = words[j + 1][2]
            if gap.strip() not in ("", "&"):
                break
            if nxt[:1].isupper():
                j += 1
                continue
            # a connector followed by a capitalised word: "Ministry of Culture"
            if (
                nxt.casefold() in _CONNECTORS
                and j + 2 < len(words)
                and words[j + 2][2][:1].isupper()
                and not text[words[j + 1][1] : words[j + 2][0]].strip()
            ):
                j += 2
                continue
            break
        start, end = words[i][0], words[j][1]
        out.append(Phrase(start, end, text[start:end], ENTITY))
        i = j + 1
    return out


def _norm(word: str) -> str:
    """A crude stem for comparing a phrase with the question: "Bowls" ~ "bowl", "Italy's" ~ "italy"."""
    w = word.casefold()
    for suffix in ("'s", "’s", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def _words(text: str) -> list[str]:
    return [_norm(w) for w in re.findall(r"\w+(?:['’]s)?", text)]


def pick_short_answer(
    text: str,
    qtype: str,
    question: str,
    matched: list[tuple[int, int]],
    language: str = "en",
    common: Callable[[str], bool] | None = None,
) -> Phrase | None:
    """The phrase of the expected kind in ``text`` nearest to the question's words found in it.

    ``matched`` are the (start, end) offsets in ``text`` of words the question shares with it.
    ``common(word)`` tells whether a capitalised word is an ordinary word (seen in lower case
    in the corpus): such words are trimmed from the edges of a name, and a name made only of
    them is a weak candidate. Phrases made only of the question's own words are skipped.
    """
    if qtype not in TYPED:
        return None
    q_words = set(_words(question))
    is_common = common or (lambda w: w.casefold() in _STOP_CAPITALS)
    percent = bool(re.search(r"percent|prozent|%|퍼센트", question.casefold()))
    best: tuple[float, Phrase] | None = None
    for phrase in typed_spans(text, qtype, language):
        if qtype in (PERSON, PLACE, ENTITY):
            phrase = _trim_name(text, phrase, q_words, is_common)
            if phrase is None:
                continue
        words = _words(phrase.text)
        if not words or all(w in q_words for w in words):
            continue
        if qtype != NUMBER or not re.fullmatch(r"\d{4}", phrase.text):
            phrase = _trim_question_words(text, phrase, q_words)
        if matched:
            dist = min(max(0, ms - phrase.end, phrase.start - me) for ms, me in matched)
        else:
            dist = phrase.start
        cost = math.log1p(dist)
        if qtype in (PERSON, PLACE, ENTITY):
            names = phrase.text.split()
            rare = sum(1 for w in names if not is_common(w.strip(".,'’")))
            cost += 1.5 * (1 - rare / len(names))
            if qtype == PERSON:
                cost += 0.7 if len(names) == 1 else 0.0
                cost += 0.7 if any(w.isupper() and len(w) > 1 for w in names) else 0.0
        if qtype == NUMBER and percent and not re.search(r"%|percent|prozent", phrase.text, re.IGNORECASE):
            cost += 2.0
        if best is None or cost < best[0]:
            best = (cost, phrase)
    return best[1] if best else None


def _trim_name(
    text: str, phrase: Phrase, q_words: set[str], is_common: Callable[[str], bool]
) -> Phrase | None:
    """Drop leading ordinary words ("The Broncos" -> "Broncos", "Despite Manning's" -> "Manning")
    and a trailing possessive; None when nothing is left."""
    spans = [(m.start() + phrase.start, m.end() + phrase.start) for m in re.finditer(r"\S+", phrase.text)]
    while spans and (
        is_common(text[spans[0][0] : spans[0][1]])
        and (len(spans) > 1 or spans[0][0] == _first_word_start(text))
        or text[spans[0][0] : spans[0][1]].casefold() in _CONNECTORS
    ):
        spans.pop(0)
    while spans and text[spans[-1][0] : spans[-1][1]].casefold() in _CONNECTORS:
        spans.pop()
    if not spans or (len(spans) == 1 and text[spans[0][0] : spans[0][1]].casefold() in _STOP_CAPITALS):
        return None
    start, end = spans[0][0], spans[-1][1]
    tail = text[start:end]
    for suffix in ("'s", "’s", "'", "’"):
        if tail.endswith(suffix) and len(tail) > len(suffix) + 1:
            end -= len(suffix)
            break
    return Phrase(start, end, text[start:end], phrase.kind)


def _first_word_start(text: str) -> int:
    m = re.search(r"\w", text)
    return m.start() if m else 0


def _trim_question_words(text: str, phrase: Phrase, q_words: set[str]) -> Phrase:
    """Drop the question's words from the edges of a name: "President Sergio Mattarella" asked
    about "Which Italian president" -> "Sergio Mattarella"."""
    spans = [(m.start() + phrase.start, m.end() + phrase.start) for m in re.finditer(r"\S+", phrase.text)]
    while len(spans) > 1 and all(w in q_words for w in _words(text[spans[0][0] : spans[0][1]])):
        spans.pop(0)
    while len(spans) > 1 and all(w in q_words for w in _words(text[spans[-1][0] : spans[-1][1]])):
        spans.pop()
    start, end = spans[0][0], spans[-1][1]
    while end > start and not text[end - 1].isalnum() and text[end - 1] not in "%)":
        end -= 1
    if (start, end) == (phrase.start, phrase.end):
        return phrase
    return Phrase(start, end, text[start:end], phrase.kind)


def span_in_article(sentence_start: int, phrase: Phrase) -> Span:
    """A phrase found in a sentence's text, as a Span in article offsets."""
    return Span(sentence_start + phrase.start, sentence_start + phrase.end, phrase.text)


# --- answer sentences -------------------------------------------------------------------------------

FEATURES = ("dense", "lexical", "lexical_rel", "context", "type", "passage", "top")
# Weights of the sentence score: the mean of the weights fitted by a listwise softmax model
# (the answer-bearing sentences against the other candidates of their question) in 2-fold
# cross-validation by article over XQuAD en->en, de->de and de->en (2026-11-25). Hit@1 of the
# answer (best sentence, plus its neighbour when close: choose_sentences), measured on the
# held-out fold (en->en / de->de / de->en):
#   chunks of 200 tokens, 1,190 questions each:
#     dense alone 0.759 / 0.742 / 0.676     lexical alone 0.780 / 0.734 / 0.432 (best sentence only)
#     type alone 0.598 / 0.592 / 0.328      top chunk's first sentence 0.622 / 0.614 / 0.364
#     dense + lexical 0.797 / 0.761 / 0.654
#     all features below 0.808 / 0.769 / 0.675, with the neighbour 0.853 / 0.811 / 0.740
#   chunks of 400 tokens (the default), every other question (595 each), with the neighbour:
#     the 200-token weights 0.862 / 0.812 / 0.739
#     refitted 0.869 / 0.817 / 0.747
#     refitted, type feature off for which/welche questions (TYPE_SCORED) 0.866 / 0.815 / 0.779
#     and "top" as a ramp (TOP_RAMP) instead of 1 for the best chunk only 0.869 / 0.816 / 0.784
# Tried and left out (no gain): sentence length, a pronoun at the start, the cosine of the
# question with the sentence and its neighbours, lexical overlap relative to the best candidate,
# features multiplied by the lexical reliability, and the share of the question's names and
# numbers found in the sentence (cross-lingual anchors: -0.02 on de->en).
SENTENCE_WEIGHTS = {
    "dense": 8.06,
    "lexical": 0.0,  # kept for the ablation: lexical_rel replaces it
    "lexical_rel": 6.85,
    "context": 1.51,
    "type": 0.96,
    "passage": 0.43,
    "top": 3.57,
}
# "top" is 1 for the best chunk's sentences and falls linearly to 0 for chunks TOP_RAMP below it in
# fused score: two chunks that retrieval cannot tell apart both count as the best one.
TOP_RAMP = 0.02
# Question types whose expected phrase counts in the sentence score. "Which"/"welche" questions
# (ENTITY) are left out: their answer is as often a common noun ("Welche Rolle ...") as a name, and
# rewarding capitalised words cost German questions on English articles 3 points of hit@1.
TYPE_SCORED = frozenset({NUMBER, DATE, PERSON, PLACE})
CANDIDATE_CHUNKS = 4
LEXICAL_RELIABLE = 0.3  # best chunk coverage from which lexical overlap is fully trusted
PAIR_MARGIN = 0.5  # add the neighbour when within this many standard deviations of the candidates' scores


@dataclass
class Candidate:
    """A sentence that may answer, with its features, score and short-answer phrase."""

    sentence_id: int
    chunk_id: int
    features: dict[str, float]
    phrase: Phrase | None
    score: float = 0.0


def sentence_candidates(
    retriever: Retriever,
    ranked: Ranked,
    question: str,
    qtype: str,
    *,
    context: str | None = None,
    n_chunks: int = CANDIDATE_CHUNKS,
    weights: dict[str, float] | None = None,
) -> list[Candidate]:
    """The sentences of the ``n_chunks`` best chunks with their features and scores, best first.

    Features: ``dense`` cosine; ``lexical`` idf-weighted share of the question's terms in the
    sentence; ``lexical_rel`` the same times the lexical reliability (the best chunk coverage /
    LEXICAL_RELIABLE, at most 1: near 0 across languages, where shared terms are few); ``context``
    the share only the neighbouring sentences add; ``type`` +1/-1/0 (a phrase of the expected
    kind found / not found / untyped question); ``passage`` the fused score of the sentence's
    best chunk minus the best chunk's; ``top`` 1 for sentences of the best chunk, falling to 0 over TOP_RAMP.
    """
    index, lex = retriever.index, retriever.lexical
    order = ranked.order[:n_chunks]
    if not order:
        return []
    top_score = float(ranked.fused[order[0]])
    best_chunk: dict[int, int] = {}
    for cid in order:
        for sid in retriever.chunk_sentences[cid]:
            best_chunk.setdefault(sid, cid)
    reliability = min(1.0, float(np.max(ranked.lexical[order])) / LEXICAL_RELIABLE)
    q_weights: dict[str, tuple[dict[str, float], float]] = {}
    out: list[Candidate] = []
    for sid, cid in best_chunk.items():
        sentence = index.sentences[sid]
        language = index.articles[sentence.article_id].language
        if language not in q_weights:
            w = lex.question_weights(question, language, context)
            q_weights[language] = (w, sum(w.values()) or 1.0)
        qw, total = q_weights[language]
        terms = retriever.sentence_terms[sid]
        own = sum(v for t, v in qw.items() if t in terms)
        neighbours: set[str] = set()
        ids = index.sentence_ids(sentence.article_id)
        for nid in (sid - 1, sid + 1):
            if nid in ids:
                neighbours |= retriever.sentence_terms[nid]
        around = sum(v for t, v in qw.items() if t in neighbours and t not in terms)
        matched = [(t.start, t.end) for t in lex.sentence_tokens[sid] if t.term in qw]
        phrase = pick_short_answer(sentence.text, qtype, question, matched, language, lex.is_common)
        features = {
            "dense": float(ranked.sentence_cos[sid]),
            "lexical": own / total,
            "lexical_rel": reliability * own / total,
            "context": around / total,
            "type": 0.0 if qtype not in TYPE_SCORED else (1.0 if phrase is not None else -1.0),
            "passage": float(ranked.fused[cid]) - top_score,
            "top": max(0.0, 1.0 + (float(ranked.fused[cid]) - top_score) / TOP_RAMP),
            "reliability": reliability,  # not a sentence feature (same for all): used by the confidence
        }
        out.append(Candidate(sid, cid, features, phrase))
    weights = weights or SENTENCE_WEIGHTS
    for c in out:
        c.score = sum(weights[f] * c.features[f] for f in FEATURES)
    out.sort(key=lambda c: -c.score)
    return out


def choose_sentences(candidates: list[Candidate], index: Index) -> list[Candidate]:
    """The answer: the best candidate, plus its better-scoring neighbour (previous or next
    sentence of the same article) when that is within PAIR_MARGIN standard deviations of the
    candidates' scores, i.e. when the scores cannot tell the two apart. In text order."""
    if not candidates:
        return []
    best = candidates[0]
    if len(candidates) < 3:
        return [best]
    spread = float(np.std([c.score for c in candidates]))
    article = index.sentences[best.sentence_id].article_id
    neighbours = [
        c
        for c in candidates[1:]
        if abs(c.sentence_id - best.sentence_id) == 1 and index.sentences[c.sentence_id].article_id == article
    ]
    if neighbours and best.score - neighbours[0].score <= PAIR_MARGIN * spread:
        return sorted([best, neighbours[0]], key=lambda c: c.sentence_id)
    return [best]
