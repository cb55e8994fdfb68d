"""Group an article's sentences into chunks of at most ``max_tokens`` tokens.

    >>> from rag.index.sentences import split_sentences
    >>> text = "One. Two.\\n\\nThree."
    >>> words = lambda t: len(t.split())
    >>> chunks = chunk_sentences("a", text, split_sentences("a", text, "en"),
    ...                          max_tokens=3, overlap_tokens=0, count=words)
    >>> [(c.start, c.end, c.text) for c in chunks]
    [(0, 9, 'One. Two.'), (11, 17, 'Three.')]

A chunk is a run of whole consecutive sentences and its text is the original
text from the first sentence's start to the last sentence's end, newlines
included, so ``text[chunk.start:chunk.end] == chunk.text`` always holds and
``chunk.n_tokens == count(chunk.text)``. The rules, applied greedily from the
first sentence on (deterministic: same input, same chunks):

- Size: a chunk takes the next sentence while the whole span still counts at
  most ``max_tokens``. A sentence that alone is longer is cut at whitespace
  into pieces that each fit (a single "word" longer than the limit is cut
  between characters) and a warning is logged; the pieces then act as
  sentences.
- Paragraphs: a chunk does not continue across a paragraph break once it
  holds at least half of ``max_tokens``. Short paragraphs (a title, a caption)
  therefore join what follows, while a paragraph that fills half a chunk ends
  it, and the next paragraph starts a new chunk instead of lending its first
  sentences to the end of this one. A paragraph break is a blank line; in a text that has no
  blank line at all, every line break is one (some sources put one paragraph
  per line).
- Furniture: a chunk never holds text of ``furniture`` (``Article.furniture``: a caption, a
  credit, a dateline between two sentences), so a run of sentences ends where furniture lies
  between two of them, whatever its size, and the next chunk's overlap does not reach back across it.
- Overlap: the next chunk starts with the trailing sentences of the previous
  one whose span counts at most ``overlap_tokens`` (0: no overlap), never
  across a paragraph break, never so many that the next new sentence would not
  fit, and never the whole previous chunk, so every chunk brings at least one
  new sentence and the loop always ends. Every sentence is in some chunk.

Shortcuts: token counts are exact (``count`` runs on each candidate span, not a
sum of sentence counts), which costs a few counts per sentence; the pieces of
an over-long sentence are found by binary search over word ends, assuming that
a word is at least one token.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.errors import ConfigError, IngestError
from rag.types import Chunk, Sentence

LOG = logging.getLogger(__name__)

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_LINE_BREAK = re.compile(r"\n")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class _Unit:
    """A sentence, or a piece of an over-long one, as offsets into the text."""

    start: int
    end: int
    new_paragraph: bool  # a paragraph break lies between the previous unit and this one
    after_furniture: bool = False  # furniture lies between the previous unit and this one: a hard break


def _largest_fit(text: str, start: int, ends: Sequence[int], limit: int, count: Callable[[str], int]) -> int:
    """Index of the largest end in ``ends`` (ascending) with ``count(text[start:end]) <= limit``, or -1."""
    lo, hi, best = 0, len(ends) - 1, -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if count(text[start : ends[mid]]) <= limit:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


def _split_long(
    text: str, start: int, end: int, max_tokens: int, count: Callable[[str], int]
) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` at whitespace into stripped pieces of at most ``max_tokens`` each."""
    words = [(start + m.start(), start + m.end()) for m in _WORD.finditer(text[start:end])]
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        piece_start = words[i][0]
        window = [w_end for _, w_end in words[i : i + max_tokens]]
        best = _largest_fit(text, piece_start, window, max_tokens, count)
        if best >= 0:
            pieces.append((piece_start, window[best]))
            i += best + 1
            continue
        # One "word" longer than the limit (a URL, a run of CJK text): cut between characters.
        pos, word_end = words[i]
        while pos < word_end:
            ends = range(pos + 1, word_end + 1)
            cut = ends[max(_largest_fit(text, pos, ends, max_tokens, count), 0)]
            pieces.append((pos, cut))
            pos = cut
        i += 1
    return pieces


def _check(
    article_id: str,
    text: str,
    sentences: Sequence[Sentence],
    max_tokens: int,
    overlap: int,
    furniture: Sequence[tuple[int, int, str]] = (),
) -> None:
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise ConfigError(f"chunk size must be a positive number of tokens, got {max_tokens!r}")
    if not isinstance(overlap, int) or not 0 <= overlap < max_tokens:
        raise ConfigError(
            f"chunk overlap must be at least 0 and less than the chunk size ({max_tokens}), got {overlap!r}"
        )
    previous_end = 0
    for s in sentences:
        if not 0 <= s.start <= s.end <= len(text) or text[s.start : s.end] != s.text:
            raise IngestError(article_id, f"sentence at {s.start}-{s.end} does not match the article text")
        if s.start < previous_end:
            raise IngestError(article_id, f"sentence at {s.start}-{s.end} overlaps the one before it")
        previous_end = s.end
    ends = [s.end for s in sentences]  # ascending: the sentences are in order and do not overlap
    for start, end, role in furniture:
        k = bisect.bisect_right(ends, start)  # the first sentence that ends after the range starts
        if k < len(sentences) and sentences[k].start < end and start < end:
            raise IngestError(article_id, f"a sentence overlaps the {role} at {start}-{end}")


def _units(
    article_id: str,
    text: str,
    sentences: Sequence[Sentence],
    max_tokens: int,
    count: Callable[[str], int],
    furniture: Sequence[tuple[int, int, str]] = (),
) -> list[_Unit]:
    breaks = _BLANK_LINE if _BLANK_LINE.search(text) else _LINE_BREAK
    starts = sorted(start for start, end, _role in furniture if end > start)
    units: list[_Unit] = []
    for s in sentences:
        if s.start == s.end:
            continue
        new_paragraph = bool(units) and breaks.search(text, units[-1].end, s.start) is not None
        # furniture between the two: a range starting in the gap (no sentence overlaps one)
        after = bool(units) and bisect.bisect_left(starts, units[-1].end) < bisect.bisect_left(
            starts, s.start
        )
        n_tokens = count(s.text)
        if n_tokens <= max_tokens:
            units.append(_Unit(s.start, s.end, new_paragraph, after))
            continue
        pieces = _split_long(text, s.start, s.end, max_tokens, count)
        LOG.warning(
            "article %s: the sentence at %d-%d has %d tokens, more than the chunk size of %d; "
            "cut at whitespace into %d pieces",
            article_id,
            s.start,
            s.end,
            n_tokens,
            max_tokens,
            len(pieces),
        )
        for k, (start, end) in enumerate(pieces):
            units.append(_Unit(start, end, new_paragraph and k == 0, after and k == 0))
    return units


def chunk_sentences(
    article_id: str,
    text: str,
    sentences: list[Sentence],
    *,
    max_tokens: int,
    overlap_tokens: int,
    count: Callable[[str], int],
    furniture: Sequence[tuple[int, int, str]] = (),
) -> list[Chunk]:
    """Chunks of whole consecutive ``sentences`` of ``text`` (ids left at -1), none holding text of
    ``furniture`` (``Article.furniture``); see the module docstring."""
    _check(article_id, text, sentences, max_tokens, overlap_tokens, furniture)
    units = _units(article_id, text, sentences, max_tokens, count, furniture)
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        start = units[first].start
        last, n_tokens = first, count(text[start : units[first].end])
        while last + 1 < len(units):
            nxt = units[last + 1]
            if nxt.after_furniture or (nxt.new_paragraph and 2 * n_tokens >= max_tokens):
                break
            extended = count(text[start : nxt.end])
            if extended > max_tokens:
                break
            last, n_tokens = last + 1, extended
        end = units[last].end
        chunks.append(Chunk(article_id, start, end, text[start:end], n_tokens))
        if last + 1 == len(units):
            break
        first = _overlap_start(text, units, first, last, max_tokens, overlap_tokens, count)
    return chunks


def _overlap_start(
    text: str,
    units: list[_Unit],
    first: int,
    last: int,
    max_tokens: int,
    overlap_tokens: int,
    count: Callable[[str], int],
) -> int:
    """Index of the unit the next chunk starts with: ``last + 1`` or an earlier one, always > ``first``."""
    nxt = last + 1
    begin = nxt
    if overlap_tokens <= 0:
        return begin
    while begin - 1 > first and not (units[begin].new_paragraph or units[begin].after_furniture):
        candidate = units[begin - 1].start
        if count(text[candidate : units[last].end]) > overlap_tokens:
            break
        if count(text[candidate : units[nxt].end]) > max_tokens:
            break
        begin -= 1
    return begin
