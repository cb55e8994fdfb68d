"""Split an article's text into sentences with exact character offsets.

    >>> [s.text for s in split_sentences("a1", "Dr. Lee went to the U.S. on Monday. He met Meloni.", "en")]
    ['Dr. Lee went to the U.S. on Monday.', 'He met Meloni.']

Every sentence ``s`` satisfies ``text[s.start:s.end] == s.text``; sentences are
stripped of surrounding whitespace, in order, do not overlap and never cross a
line break: the text is cut into lines first and each line into sentences.
Furniture (``Article.furniture``: captions, photo credits, datelines) is not
prose: the parts of a line outside its ranges are split instead of the line,
so no sentence overlaps furniture and a first sentence starts after its
dateline ("South Korean President ...", not "SEOUL, January 19 (AJP) - South ...").

The sentence boundaries come from libraries: ``pysbd`` (rule-based, knows
abbreviations such as "Dr.", "U.S.", German "z. B.") for English, German and
the other languages it supports, ``kiwipiepy`` for Korean; anything else
("und" included) uses pysbd's English rules. Kiwi leaves runs of English
sentences inside Korean text whole, so those are cut with pysbd's English
rules too, but only after a sentence with Latin letters and no Hangul.

The libraries only *propose* sentence texts; the offsets are found here by
aligning those texts back onto the line, and the line is then cut at the aligned
boundaries, so no character is ever lost or invented even when a library
normalizes its output ("E♭" comes back from pysbd as "E:"). pysbd's own lookup,
which its ``segment()`` runs to return original text, is not used: it searches
the whole text once per sentence (quadratic in the line's length), can skip
repeated sentences and drops a sentence whose characters it changed.

Shortcuts, on top of the libraries: a boundary right after a day number such as
"19." is removed when a month name follows ("19. Januar 2026"), and one after an abbreviation
before a quantity ("approx. 4 kg", "ca. 30 Prozent"); a piece with
no letter or digit (a stray closing quote) joins the sentence before it. A long
line without punctuation stays one sentence (up to 4,000 characters, where it is
cut at a space to keep the libraries' time linear, Korean lines included);
``rag.index.chunking`` handles length.
The Korean splitter loads once per process (about 2 s); pysbd's segmenter is
created per call (microseconds) because it keeps per-call state on itself.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator, Sequence

import pysbd
from pysbd.languages import LANGUAGE_CODES

from rag.errors import IngestError, ModelError
from rag.types import Sentence

LOG = logging.getLogger(__name__)

_LINE = re.compile(r"[^\n]+")
_WINDOW = 4000  # characters of one line given to pysbd or Kiwi at a time
_WORD_CHAR = re.compile(r"\w")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")
_DAY_NUMBER_END = re.compile(r"(?<![\w.])\d{1,2}\.$")
_MONTH_START = re.compile(
    r"(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
    r"|January|February|March|May|June|July|October|December)\b"
)

# Abbreviations that stand before a quantity, where pysbd cuts: "consumes approx. | 4 kg", "ca. | 30
# Prozent", "c. | 1500". The cut is removed when a number, a currency sign or a lower-case word follows.
_QUANTITY_ABBREVIATION = re.compile(
    r"(?<![\w.])(?:approx|ca|c|est|incl|excl|nr|bzw|inkl|rd|vgl|zzgl)\.$", re.IGNORECASE
)
_QUANTITY_START = re.compile(r"[\d$€£¥₩]|[a-zäöüß]")


@functools.cache
def _kiwi():  # -> kiwipiepy.Kiwi
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        raise ModelError(
            "Korean sentence splitting needs the 'kiwipiepy' package; run: pip install kiwipiepy"
        ) from None
    return Kiwi()


def _language_key(language: str) -> str:
    """Map "en-US" -> "en"; unsupported or unknown -> "en" (pysbd's English rules); "ko" -> "ko"."""
    code = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
    if code == "ko":
        return "ko"
    return code if code in LANGUAGE_CODES else "en"


def _pysbd(text: str, key: str) -> list[str]:
    """pysbd's sentence texts for ``text``: what ``Segmenter.segment()`` gives before it looks each
    one up again in ``text`` (see the module docstring); :func:`_cuts` aligns them instead."""
    return pysbd.Segmenter(language=key, clean=False).processor(text).process() if text else []


def _propose(line: str, key: str) -> list[str]:
    """Sentence texts proposed by the library for one line (offsets not trusted)."""
    if key == "ko":
        pieces: list[str] = []
        for sent in _kiwi().split_into_sents(line):
            pieces.extend(_split_english_runs(sent.text))
        return pieces
    return _pysbd(line, key)


def _split_english_runs(sentence: str) -> list[str]:
    """Kiwi reads Korean morphology and leaves runs of English sentences whole: cut those with
    pysbd's English rules, after an English sentence only (Latin letters, no Hangul)."""
    if not _LATIN.search(sentence):
        return [sentence]
    pieces, pending = [], ""
    for sub in _pysbd(sentence, "en"):
        pending = f"{pending} {sub}" if pending else sub
        if _LATIN.search(sub) and not _HANGUL.search(sub):
            pieces.append(pending)
            pending = ""
    if pending:
        if pending.strip() or not pieces:
            pieces.append(pending)
        else:
            pieces[-1] += pending
    return pieces


def _skip_space(line: str, pos: int) -> int:
    while pos < len(line) and line[pos].isspace():
        pos += 1
    return pos


def _skip_nonspace(line: str, pos: int, n: int) -> int:
    """Position just after the ``n``-th non-whitespace character of ``line`` from ``pos``."""
    while pos < len(line) and n > 0:
        if not line[pos].isspace():
            n -= 1
        pos += 1
    return pos


def _cuts(line: str, pieces: list[str]) -> list[int]:
    """Where to cut ``line`` so that its parts are the ``pieces`` (up to whitespace).

    Each piece is looked up at the cursor; if the library changed its text, the
    cut falls after as many non-whitespace characters as the piece has.
    """
    cuts: list[int] = []
    cursor = 0
    for piece in pieces[:-1]:
        core = piece.strip()
        if not core:
            continue
        start = _skip_space(line, cursor)
        if line.startswith(core, start):
            end = start + len(core)
        else:
            end = _skip_nonspace(line, cursor, sum(not c.isspace() for c in core))
        if end >= len(line):
            break
        cuts.append(end)
        cursor = end
    return cuts


def _line_cuts(line: str, key: str) -> list[int]:
    """Sentence boundaries of one line. The libraries' time grows faster than the length of their
    input (pysbd: about 6 s for one 90,000-character line; Kiwi: 13 s for one 215,000-character
    Korean line), so a long line is fed to them in windows of ``_WINDOW`` characters ending at a
    space: the boundaries inside a window are kept except the last piece, which may be cut short
    and is read again at the start of the next window."""
    if len(line) <= _WINDOW:
        return _cuts(line, _propose(line, key))
    cuts: list[int] = []
    pos = 0
    while len(line) - pos > _WINDOW:
        end = line.rfind(" ", pos + _WINDOW // 2, pos + _WINDOW)
        if end <= pos:
            end = pos + _WINDOW
        window = line[pos:end]
        inner = _cuts(window, _propose(window, key))
        if not inner:  # no boundary in a whole window: cut it at the window's end
            inner = [len(window)]
        cuts.extend(pos + c for c in inner)
        pos += inner[-1]
    rest = line[pos:]
    cuts.extend(pos + c for c in _cuts(rest, _propose(rest, key)))
    return cuts


def _spans(line: str, cuts: list[int]) -> Iterator[tuple[int, int]]:
    """Stripped, non-empty ``(start, end)`` spans of the parts between the cuts."""
    for lo, hi in zip([0, *cuts], [*cuts, len(line)], strict=True):
        part = line[lo:hi]
        core = part.strip()
        if core:
            start = lo + (len(part) - len(part.lstrip()))
            yield start, start + len(core)


def _join_false_breaks(line: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined:
            prev_start, prev_end = joined[-1]
            piece = line[start:end]
            before = line[prev_start:prev_end]
            day_then_month = _DAY_NUMBER_END.search(before) and _MONTH_START.match(piece)
            abbreviation = _QUANTITY_ABBREVIATION.search(before) and _QUANTITY_START.match(piece)
            if day_then_month or abbreviation or not _WORD_CHAR.search(piece):
                joined[-1] = (prev_start, end)
                continue
        joined.append((start, end))
    return joined


# Titles and headings are never answers: eval/NOTES.md, "Titles and headings never answer" (2026-11-26).
HEADING_WORDS = 3
_HEADING_WORD = re.compile(r"\w+")
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？", '"', "”", "'", "’")


def can_answer(text: str) -> bool:
    """False for a title or heading (:func:`is_heading`) and for a "sentence" without a letter (a bare
    reference such as ":133–134:38-1"): those are never answers."""
    return not is_heading(text) and any(ch.isalpha() for ch in text)


def is_heading(text: str) -> bool:
    """A title or heading line rather than a sentence: at most HEADING_WORDS words, no sentence end.

    >>> is_heading("Martin Luther"), is_heading("Luther left."), is_heading("S. Korea, Italy boost ties")
    (True, False, False)
    """
    text = text.strip()
    return len(_HEADING_WORD.findall(text)) <= HEADING_WORDS and not text.endswith(_SENTENCE_END)


def split_sentences(
    article_id: str, text: str, language: str, furniture: Sequence[tuple[int, int, str]] = ()
) -> list[Sentence]:
    """The sentences of ``text`` in order, with offsets into ``text``.

    ``language`` is an ISO 639-1 code ("en", "de", "ko", ...) or "und". ``furniture`` are the
    article's ``(start, end, role)`` ranges of text that is not prose (``Article.furniture``): no
    sentence overlaps one; the rest of a line around them is split on its own, so a first sentence
    after its dateline starts after it.

        >>> [s.text for s in split_sentences("a", "SEOUL (AP) - Talks began.", "en", [(0, 12, "dateline")])]
        ['Talks began.']
    """
    if not isinstance(text, str):
        raise IngestError(article_id, f"article text must be a string, got {type(text).__name__}")
    key = _language_key(language if isinstance(language, str) else "")
    sentences: list[Sentence] = []
    for line_start, line_end in _prose(text, furniture):
        line = text[line_start:line_end]
        if not line.strip():
            continue
        spans = list(_spans(line, _line_cuts(line, key)))
        if key != "ko":
            spans = _join_false_breaks(line, spans)
        for start, end in spans:
            sentences.append(Sentence(article_id, line_start + start, line_start + end, line[start:end]))
    return sentences


def _prose(text: str, furniture: Sequence[tuple[int, int, str]]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of the lines of ``text`` and, where furniture cuts a line, of its parts outside
    every range that hold a letter or digit (not the stray space or "-" between a caption and its credit)."""
    ranges = sorted((start, end) for start, end, _role in furniture if end > start)
    k = 0
    for match in _LINE.finditer(text):
        pos, end = match.span()
        while k < len(ranges) and ranges[k][1] <= pos:
            k += 1
        if k == len(ranges) or ranges[k][0] >= end:
            yield pos, end
            continue
        j = k
        while j < len(ranges) and ranges[j][0] < end:
            if ranges[j][0] > pos and _WORD_CHAR.search(text, pos, ranges[j][0]):
                yield pos, ranges[j][0]
            pos = max(pos, ranges[j][1])
            j += 1
        if pos < end and _WORD_CHAR.search(text, pos, end):
            yield pos, end
