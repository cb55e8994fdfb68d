"""rag.index.chunking: runs of whole sentences under a token limit, with exact offsets."""

from __future__ import annotations

import logging
import random

import pytest

from rag.config import PROJECT_DIR
from rag.errors import ConfigError, IngestError
from rag.index.chunking import chunk_sentences
from rag.index.sentences import split_sentences
from rag.index.tokens import token_counter
from rag.types import Chunk, Sentence

from .conftest import KOREAN

ARTICLES = PROJECT_DIR / "articles"
SOURCES = {
    "en": ((ARTICLES / "2026-01-19-ajp-lee-meloni-mous.txt").read_text(encoding="utf-8"), "en"),
    "de": ((ARTICLES / "2026-01-19-gipfeltreffen-lee-meloni.de.txt").read_text(encoding="utf-8"), "de"),
    "ko": (KOREAN, "ko"),
}


@pytest.fixture(scope="module")
def count():
    return token_counter("cl100k_base")


def words(text: str) -> int:
    return len(text.split())


def sentence_seq(text: str) -> list[Sentence]:
    """Sentences for synthetic texts: every ". "-terminated run, lines kept apart."""
    return split_sentences("a1", text, "en")


def chunk(text, sentences=None, *, max_tokens=200, overlap_tokens=0, count=words) -> list[Chunk]:
    if sentences is None:
        sentences = sentence_seq(text)
    return chunk_sentences(
        "a1", text, sentences, max_tokens=max_tokens, overlap_tokens=overlap_tokens, count=count
    )


def assert_valid(text, sentences, chunks, max_tokens, count, *, whole_sentences=True):
    assert chunks or not sentences
    for c in chunks:
        assert c.article_id == "a1" and c.id == -1
        assert text[c.start : c.end] == c.text
        assert c.text and c.text == c.text.strip()
        assert c.n_tokens == count(c.text) <= max_tokens
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.start < b.start and a.end < b.end  # progress, in order
        assert b.start <= a.end or not text[a.end : b.start].strip()  # no text skipped
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    for s in sentences:  # every sentence is in a chunk
        assert any(c.start <= s.start and s.end <= c.end for c in chunks) or not whole_sentences
    if whole_sentences:
        for c in chunks:
            assert c.start in starts and c.end in ends


def assert_covers_every_character(text, chunks):
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@pytest.mark.parametrize("lang", sorted(SOURCES))
@pytest.mark.parametrize(("max_tokens", "overlap"), [(200, 40), (64, 0), (48, 16)])
def test_offsets_exact_and_token_limit_respected(lang, max_tokens, overlap, count):
    text, language = SOURCES[lang]
    sentences = split_sentences("a1", text, language)
    chunks = chunk(text, sentences, max_tokens=max_tokens, overlap_tokens=overlap, count=count)
    longest = max(count(s.text) for s in sentences)
    assert_valid(text, sentences, chunks, max_tokens, count, whole_sentences=longest <= max_tokens)


def test_chunks_are_as_full_as_the_limit_allows(count):
    text, language = SOURCES["de"]
    sentences = split_sentences("a1", text, language)
    chunks = chunk(text, sentences, max_tokens=200, count=count)
    assert len(chunks) <= 6
    assert sum(c.n_tokens for c in chunks) / len(chunks) > 150


def test_no_overlap_means_chunks_partition_the_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    sentences = sentence_seq(text)
    chunks = chunk(text, sentences, max_tokens=23, overlap_tokens=0)
    assert_valid(text, sentences, chunks, 23, words)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start == a.end + 1
    assert [c.n_tokens for c in chunks] == [20, 20, 20, 20, 20, 20, 20, 20, 20, 20]


def test_overlap_repeats_trailing_whole_sentences_within_the_budget():
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    sentences = sentence_seq(text)
    chunks = chunk(text, sentences, max_tokens=25, overlap_tokens=10)
    assert_valid(text, sentences, chunks, 25, words)
    for a, b in zip(chunks, chunks[1:], strict=False):
        shared = text[b.start : a.end]
        assert b.start < a.end, "each chunk starts inside the previous one"
        assert words(shared) == 10  # two 5-word sentences fit in 10 tokens, three would not
    assert chunks[-1].end == len(text)


def test_overlap_never_takes_the_whole_previous_chunk():
    # Sentences of 6 words, limit 12, overlap 11: one sentence of overlap would leave room for
    # one new one, but taking both old sentences would bring nothing new.
    text = " ".join(f"This is sentence number {i} now." for i in range(10))
    sentences = sentence_seq(text)
    chunks = chunk(text, sentences, max_tokens=12, overlap_tokens=11)
    assert_valid(text, sentences, chunks, 12, words)
    assert len(chunks) == 9
    assert all(c.n_tokens == 12 for c in chunks)


def test_overlap_does_not_cross_a_paragraph_break():
    para = " ".join(f"Sentence number {i} is here." for i in range(4))
    text = f"{para}\n\n{para}"
    chunks = chunk(text, max_tokens=25, overlap_tokens=10)
    assert [c.text for c in chunks] == [para, para]


def test_overlap_bigger_than_every_sentence_still_progresses():
    text = " ".join(f"Word{i}." for i in range(200))
    sentences = sentence_seq(text)
    chunks = chunk(text, sentences, max_tokens=3, overlap_tokens=2)
    assert_valid(text, sentences, chunks, 3, words)
    assert len(chunks) == 198


def test_over_long_sentence_is_split_at_whitespace_and_warned(count, caplog):
    long_sentence = " ".join(f"token{i}" for i in range(400)) + "."
    text = f"A short opening sentence. {long_sentence} A short closing sentence."
    sentences = sentence_seq(text)
    assert len(sentences) == 3
    with caplog.at_level(logging.WARNING, logger="rag.index.chunking"):
        chunks = chunk(text, sentences, max_tokens=64, overlap_tokens=8, count=count)
    assert_valid(text, sentences, chunks, 64, count, whole_sentences=False)
    assert any("more than the chunk size of 64" in r.getMessage() for r in caplog.records)
    for c in chunks:  # pieces start and end at word boundaries
        assert c.start == 0 or text[c.start - 1].isspace()
        assert c.end == len(text) or text[c.end].isspace()
    assert_covers_every_character(text, chunks)


@pytest.mark.parametrize(
    "word",
    ["https://example.com/" + "a1b2c3" * 300, "가나다라마바사" * 100, "🇰🇷🇮🇹" * 200],
)
def test_a_word_longer_than_the_limit_is_cut_between_characters(word, count, caplog):
    text = f"Before. {word} After."
    sentences = sentence_seq(text)
    with caplog.at_level(logging.WARNING, logger="rag.index.chunking"):
        chunks = chunk(text, sentences, max_tokens=32, overlap_tokens=0, count=count)
    assert_valid(text, sentences, chunks, 32, count, whole_sentences=False)
    assert_covers_every_character(text, chunks)
    assert caplog.records


def test_a_paragraph_at_half_the_limit_ends_the_chunk():
    first = " ".join(f"Alpha sentence {i} here." for i in range(3))  # 12 words
    beta = [f"Beta sentence {i} here." for i in range(5)]  # 20 words
    text = f"{first}\n\n{' '.join(beta)}"
    assert [c.text for c in chunk(text, max_tokens=20)] == [first, " ".join(beta)]
    # Below half the limit, the chunk carries on into the next paragraph.
    assert [c.text for c in chunk(text, max_tokens=26)] == [
        f"{first}\n\n{' '.join(beta[:3])}",
        " ".join(beta[3:]),
    ]


def test_short_title_paragraph_joins_the_following_text():
    body = " ".join(f"Body sentence {i} is here." for i in range(6))
    text = f"A Short Title\n\n{body}\n\n{body}"
    chunks = chunk(text, max_tokens=40)
    assert chunks[0].text == f"A Short Title\n\n{body}"
    assert chunks[1].text == body


def test_single_line_breaks_count_as_paragraphs_only_without_blank_lines():
    para = " ".join(f"Sentence number {i} is here." for i in range(3))  # 15 words
    one_per_line = f"{para}\n{para}"
    assert [c.text for c in chunk(one_per_line, max_tokens=30)] == [para, para]
    with_blank_line = f"{para}\n{para}\n\nEnd."
    assert [c.text for c in chunk(with_blank_line, max_tokens=30)] == [f"{para}\n{para}", "End."]


def test_empty_input_gives_no_chunks():
    assert chunk("", []) == []
    assert chunk("   \n\n ", []) == []
    assert chunk("Some text that was not split.", []) == []


def test_one_short_sentence_gives_one_chunk(count):
    text = "  Meloni visited Seoul.\n"
    (only,) = chunk(text, count=count)
    assert (only.start, only.end, only.text, only.n_tokens) == (2, 23, "Meloni visited Seoul.", 5)


@pytest.mark.parametrize(
    "text",
    [
        "Café naïve façade. Ünïcödé ends here.\n\nZweiter Absatz mit Umlauten: äöüß.",
        "Seoul 🇰🇷 and Rome 🇮🇹 agree. 👨‍👩‍👧 Families travel too! 😀" * 20,
        "中文句子没有空格。日本語の文も。" * 30,
        "\u200bZero width. \u00a0Non-breaking\u00a0spaces.\u3000Ideographic space.",
        " ".join(f"Sentence {i} of a long input." for i in range(3000)),
        "\n".join(f"Line {i}" for i in range(500)),
    ],
    ids=["accents", "emoji", "cjk", "odd-spaces", "long", "many-lines"],
)
@pytest.mark.parametrize(("max_tokens", "overlap"), [(16, 0), (64, 20), (200, 40)])
def test_edge_cases_keep_every_invariant(text, max_tokens, overlap, count):
    sentences = sentence_seq(text)
    chunks = chunk(text, sentences, max_tokens=max_tokens, overlap_tokens=overlap, count=count)
    longest = max(count(s.text) for s in sentences)
    assert_valid(text, sentences, chunks, max_tokens, count, whole_sentences=longest <= max_tokens)


def test_random_texts_keep_every_invariant():
    rng = random.Random(7)
    vocab = [
        "Seoul",
        "Rom",
        "chips",
        "AI.",
        "Meloni",
        "Lee",
        "said.",
        "agreed!",
        "a",
        "the",
        "협력을",
        "했다.",
    ]
    for _ in range(200):
        lines = []
        for _ in range(rng.randint(1, 6)):
            lines.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 40))))
        text = rng.choice(["\n", "\n\n"]).join(lines)
        max_tokens = rng.randint(1, 30)
        overlap = rng.randint(0, max_tokens - 1)
        sentences = sentence_seq(text)
        chunks = chunk(text, sentences, max_tokens=max_tokens, overlap_tokens=overlap)
        longest = max((words(s.text) for s in sentences), default=0)
        assert_valid(text, sentences, chunks, max_tokens, words, whole_sentences=longest <= max_tokens)


def test_chunking_is_deterministic(count):
    text, language = SOURCES["en"]
    sentences = split_sentences("a1", text, language)
    once = chunk(text, sentences, max_tokens=100, overlap_tokens=20, count=count)
    assert once == chunk(text, sentences, max_tokens=100, overlap_tokens=20, count=count)


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (-5, 0), (10, 10), (10, -1), (10, 25)])
def test_bad_limits_raise_config_error(max_tokens, overlap):
    with pytest.raises(ConfigError, match="chunk"):
        chunk("One. Two.", max_tokens=max_tokens, overlap_tokens=overlap)


def test_sentences_that_do_not_match_the_text_raise_ingest_error():
    text = "One sentence. Another one."
    with pytest.raises(IngestError, match="does not match the article text"):
        chunk(text, [Sentence("a1", 0, 5, "Other")])
    with pytest.raises(IngestError, match="overlaps"):
        chunk(text, [Sentence("a1", 14, 26, "Another one."), Sentence("a1", 0, 13, "One sentence.")])
